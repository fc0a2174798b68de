"""Datasets of the modality workflow: MPPS in progress and final, commitment request and report."""

from __future__ import annotations

import datetime as dt

from pydicom import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid

COMMIT_INSTANCE_UID = "1.2.840.10008.1.20.1.1"  # the Storage Commitment well-known instance
# PS3.4 J.3.3 failure reasons for the Failed SOP Sequence.
FAILURE_REASONS = {0x0110: "Processing failure", 0x0112: "No such object instance",
                   0x0213: "Resource limitation", 0x0122: "Referenced SOP Class not supported",
                   0x0119: "Class / Instance conflict", 0x0131: "Duplicate transaction UID"}


def _seq(*items: Dataset) -> DicomSequence:
    return DicomSequence(list(items))


def mpps_in_progress(item: dict, station_ae: str, modality: str, *, pps_id: str = "",
                     now: dt.datetime | None = None) -> Dataset:
    """N-CREATE attributes (IHE SWF) from a flattened worklist match."""
    now = now or dt.datetime.now()
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    step = Dataset()
    step.StudyInstanceUID = item.get("StudyInstanceUID", "")
    step.AccessionNumber = item.get("AccessionNumber", "")
    step.RequestedProcedureID = item.get("RequestedProcedureID", "")
    step.RequestedProcedureDescription = item.get("RequestedProcedureDescription", "")
    step.ScheduledProcedureStepID = item.get("ScheduledProcedureStepID", "")
    step.ScheduledProcedureStepDescription = item.get("ScheduledProcedureStepDescription", "")
    step.ReferencedStudySequence = _seq()
    step.ScheduledProtocolCodeSequence = _seq()
    ds.ScheduledStepAttributesSequence = _seq(step)
    ds.PatientName = item.get("PatientName", "")
    ds.PatientID = item.get("PatientID", "")
    ds.PatientBirthDate = item.get("PatientBirthDate", "")
    ds.PatientSex = item.get("PatientSex", "")
    ds.ReferencedPatientSequence = _seq()
    ds.PerformedProcedureStepID = pps_id or f"PPS{now:%H%M%S}"
    ds.PerformedStationAETitle = station_ae
    ds.PerformedStationName = item.get("ScheduledStationName", "") or station_ae
    ds.PerformedLocation = ""
    ds.PerformedProcedureStepStartDate = now.strftime("%Y%m%d")
    ds.PerformedProcedureStepStartTime = now.strftime("%H%M%S")
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepDescription = item.get("ScheduledProcedureStepDescription", "")
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = _seq()
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = modality
    ds.StudyID = ""
    ds.PerformedProtocolCodeSequence = _seq()
    ds.PerformedSeriesSequence = _seq()
    return ds


def mpps_final(status: str, datasets: list, station_ae: str, *,
               now: dt.datetime | None = None) -> Dataset:
    """N-SET attributes: COMPLETED or DISCONTINUED, with the series and images performed."""
    now = now or dt.datetime.now()
    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = now.strftime("%Y%m%d")
    ds.PerformedProcedureStepEndTime = now.strftime("%H%M%S")
    series: dict[str, Dataset] = {}
    for image in datasets:
        entry = series.get(image.SeriesInstanceUID)
        if entry is None:
            entry = Dataset()
            entry.SeriesInstanceUID = image.SeriesInstanceUID
            entry.SeriesDescription = image.get("SeriesDescription", "")
            entry.PerformingPhysicianName = ""
            entry.OperatorsName = ""
            entry.ProtocolName = image.get("ProtocolName", "") or entry.SeriesDescription
            entry.RetrieveAETitle = ""
            entry.ReferencedImageSequence = _seq()
            entry.ReferencedNonImageCompositeSOPInstanceSequence = _seq()
            series[image.SeriesInstanceUID] = entry
        ref = Dataset()
        ref.ReferencedSOPClassUID = image.SOPClassUID
        ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
        entry.ReferencedImageSequence.append(ref)
    ds.PerformedSeriesSequence = _seq(*series.values())
    if status == "DISCONTINUED":
        reason = Dataset()
        reason.CodeValue, reason.CodingSchemeDesignator = "110514", "DCM"
        reason.CodeMeaning = "Incorrect worklist entry selected"
        ds.PerformedProcedureStepDiscontinuationReasonCodeSequence = _seq(reason)
    return ds


def commit_request(instances: list[tuple[str, str]], transaction_uid: str | None = None
                   ) -> Dataset:
    """N-ACTION (type 1) information: a transaction UID and the (class, instance) pairs."""
    ds = Dataset()
    ds.TransactionUID = transaction_uid or generate_uid()
    refs = []
    for sop_class, sop_instance in instances:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sop_class
        ref.ReferencedSOPInstanceUID = sop_instance
        refs.append(ref)
    ds.ReferencedSOPSequence = _seq(*refs)
    return ds


def commit_report(transaction_uid: str, committed: list[tuple[str, str]],
                  failed: list[tuple[str, str, int]], retrieve_ae: str = "") -> tuple[int, Dataset]:
    """(event type 1 or 2, N-EVENT-REPORT information)."""
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    if retrieve_ae:
        ds.RetrieveAETitle = retrieve_ae
    if committed:
        ds.ReferencedSOPSequence = _seq(*[_ref(c, i) for c, i in committed])
    if failed:
        items = []
        for sop_class, sop_instance, reason in failed:
            ref = _ref(sop_class, sop_instance)
            ref.FailureReason = reason
            items.append(ref)
        ds.FailedSOPSequence = _seq(*items)
    return (2 if failed else 1), ds


def _ref(sop_class: str, sop_instance: str) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = sop_class
    ref.ReferencedSOPInstanceUID = sop_instance
    return ref


def read_report(ds: Dataset | None) -> dict:
    """What an N-EVENT-REPORT said: transaction, committed and failed instances with reasons."""
    if ds is None:
        return {"transaction_uid": "", "committed": [], "failed": []}
    committed = [str(r.ReferencedSOPInstanceUID) for r in ds.get("ReferencedSOPSequence", [])]
    failed = []
    for ref in ds.get("FailedSOPSequence", []):
        reason = int(ref.get("FailureReason", 0x0110))
        failed.append({"sop_instance_uid": str(ref.get("ReferencedSOPInstanceUID", "")),
                       "reason": f"0x{reason:04X}",
                       "meaning": FAILURE_REASONS.get(reason, "unknown reason")})
    return {"transaction_uid": str(ds.get("TransactionUID", "")), "committed": committed,
            "failed": failed}
