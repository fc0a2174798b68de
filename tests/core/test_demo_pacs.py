"""The demo PACS over real associations on 127.0.0.1: echo, find, worklist, move, get, store."""

from __future__ import annotations

import queue
from types import SimpleNamespace

import numpy as np
import pytest
from pydicom import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless
from pynetdicom import AllStoragePresentationContexts, build_context, build_role, evt
from pynetdicom.sop_class import (
    CTImageStorage,
    ModalityWorklistInformationFind,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from pacs_console.core.dicom.servers import demo_handlers
from pacs_console.core.dicom.servers.demo import STORAGE_SYNTAXES, DemoPacs
from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicom.wire.ae import make_ae
from tests.core.dicom_ops.helpers import query
from tests.receiving import Received

HOST = "127.0.0.1"
QR = [Verification, PatientRootQueryRetrieveInformationModelFind,
      PatientRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelFind,
      StudyRootQueryRetrieveInformationModelMove, ModalityWorklistInformationFind]


class StoreScp(Received):
    """A pynetdicom storage SCP acting as the C-MOVE destination."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[list] = []
        self.ae = make_ae("STORESCP", supported=[cx.abstract_syntax
                                                 for cx in AllStoragePresentationContexts],
                          transfer_syntaxes=STORAGE_SYNTAXES)
        self.server = self.ae.serve((HOST, 0), [(evt.EVT_C_STORE, self.on_store),
                                                (evt.EVT_ACCEPTED, self.on_accepted)])
        self.port = self.server.server_address[1]

    def on_accepted(self, event) -> None:
        with self.lock:
            self.contexts.append([(cx.abstract_syntax, cx.transfer_syntax[0])
                                  for cx in event.assoc.accepted_contexts])

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.contexts.clear()


@pytest.fixture(scope="module")
def store_scp():
    scp = StoreScp()
    yield scp
    scp.ae.shutdown()


@pytest.fixture(scope="module")
def pacs(store_scp):
    destinations = {"STORESCP": (HOST, store_scp.port)}
    notify: queue.Queue = queue.Queue()
    server = DemoPacs(resolve_destination=destinations.get, notify=notify).start()
    server.notify = notify  # the test reads the activity records back from here
    yield server
    server.stop()


@pytest.fixture
def assoc(pacs):
    ae = make_ae("ENGINEER", requested=QR)
    association = ae.associate(HOST, pacs.port, ae_title=pacs.ae_title)
    assert association.is_established
    yield association
    association.release()


def find(assoc, query: Dataset, model=StudyRootQueryRetrieveInformationModelFind):
    """All identifiers of a C-FIND plus its final status."""
    out, final = [], None
    for status, identifier in assoc.send_c_find(query, model):
        if status.Status in (0xFF00, 0xFF01):
            out.append(identifier)
        else:
            final = status.Status
    return out, final


def studies_of(pacs) -> dict[str, list[Dataset]]:
    out: dict[str, list[Dataset]] = {}
    for ds in pacs.datasets:
        out.setdefault(ds.StudyInstanceUID, []).append(ds)
    return out


def test_echo_and_wrong_called_ae_title(pacs):
    ae = make_ae("ENGINEER", requested=[Verification])
    good = ae.associate(HOST, pacs.port, ae_title="DEMOPACS")
    assert good.is_established and good.send_c_echo().Status == 0x0000
    good.release()
    wrong = ae.associate(HOST, pacs.port, ae_title="NOTDEMO")
    assert wrong.is_rejected  # a real PACS checks the called AE title, so does the demo


def test_study_root_find_with_wildcards_and_computed_keys(pacs, assoc):
    studies = studies_of(pacs)
    sample = next(iter(studies.values()))
    family = str(sample[0].PatientName).split("^")[0]
    results, status = find(assoc, query(
        "STUDY", PatientName=family.lower()[:3] + "*", StudyInstanceUID="", PatientID="",
        ModalitiesInStudy="", NumberOfStudyRelatedInstances="", NumberOfStudyRelatedSeries="",
        RetrieveAETitle=""))
    assert status == 0x0000
    expected = {uid for uid, group in studies.items()
                if str(group[0].PatientName).lower().startswith(family.lower()[:3])}
    assert {r.StudyInstanceUID for r in results} == expected
    hit = next(r for r in results if r.StudyInstanceUID == sample[0].StudyInstanceUID)
    assert hit.NumberOfStudyRelatedInstances == len(sample)
    assert hit.NumberOfStudyRelatedSeries == len({ds.SeriesInstanceUID for ds in sample})
    assert hit.ModalitiesInStudy == sample[0].Modality
    assert hit.RetrieveAETitle == "DEMOPACS"
    assert str(hit.PatientName) == str(sample[0].PatientName)  # UTF-8 name intact


def test_find_non_ascii_name_and_date_range(pacs, assoc):
    studies = studies_of(pacs)
    accented = next(g[0] for g in studies.values() if any(ord(c) > 127 for c in str(g[0].PatientName)))
    given = str(accented.PatientName).split("^")[1]
    results, _ = find(assoc, query("STUDY", PatientName=f"*{given.upper()}",
                                   StudyInstanceUID=""))
    assert accented.StudyInstanceUID in {r.StudyInstanceUID for r in results}
    dates = sorted(g[0].StudyDate for g in studies.values())
    low, high = dates[1], dates[-2]
    results, _ = find(assoc, query("STUDY", StudyDate=f"{low}-{high}", StudyInstanceUID=""))
    assert len(results) == sum(low <= d <= high for d in dates)
    results, _ = find(assoc, query("STUDY", StudyDate=f"-{low}", StudyInstanceUID=""))
    assert len(results) == sum(d <= low for d in dates)
    results, _ = find(assoc, query("STUDY", StudyDate=f"{high}-", StudyInstanceUID=""))
    assert len(results) == sum(d >= high for d in dates)


def test_patient_root_all_levels(pacs, assoc):
    model = PatientRootQueryRetrieveInformationModelFind
    by_patient: dict[str, list[Dataset]] = {}
    for ds in pacs.datasets:
        by_patient.setdefault(ds.PatientID, []).append(ds)
    patients, status = find(assoc, query("PATIENT", PatientID="", PatientName="",
                                         NumberOfPatientRelatedStudies=""), model)
    assert status == 0x0000 and {p.PatientID for p in patients} == set(by_patient)
    pid, group = next(iter(by_patient.items()))
    studies, _ = find(assoc, query("STUDY", PatientID=pid, StudyInstanceUID="",
                                   StudyDescription=""), model)
    assert {s.StudyInstanceUID for s in studies} == {ds.StudyInstanceUID for ds in group}
    study_uid = studies[0].StudyInstanceUID
    in_study = [ds for ds in group if ds.StudyInstanceUID == study_uid]
    series, _ = find(assoc, query("SERIES", PatientID=pid, StudyInstanceUID=study_uid,
                                  SeriesInstanceUID="", Modality="", SeriesDescription="",
                                  NumberOfSeriesRelatedInstances=""), model)
    assert {s.SeriesInstanceUID for s in series} == {ds.SeriesInstanceUID for ds in in_study}
    first = series[0]
    assert first.NumberOfSeriesRelatedInstances == sum(
        ds.SeriesInstanceUID == first.SeriesInstanceUID for ds in in_study)
    images, _ = find(assoc, query("IMAGE", PatientID=pid, StudyInstanceUID=study_uid,
                                  SeriesInstanceUID=first.SeriesInstanceUID, SOPInstanceUID="",
                                  InstanceNumber="", SOPClassUID=""), model)
    assert len(images) == first.NumberOfSeriesRelatedInstances
    assert all(i.SOPClassUID for i in images)


def test_study_root_series_by_modality_and_bad_level(pacs, assoc):
    ct_series = {ds.SeriesInstanceUID for ds in pacs.datasets if ds.Modality == "CT"}
    results, _ = find(assoc, query("SERIES", Modality="CT", SeriesInstanceUID=""))
    assert {r.SeriesInstanceUID for r in results} == ct_series
    results, status = find(assoc, query("PATIENT", PatientID=""))
    assert results == [] and status == 0xA900  # Study Root has no PATIENT level


def test_modality_worklist_find(pacs, assoc):
    items = pacs.worklist
    target = items[0].ScheduledProcedureStepSequence[0]
    day = target.ScheduledProcedureStepStartDate
    wl = query(None, PatientName="", PatientID="", AccessionNumber="", RequestedProcedureID="")
    step = Dataset()
    step.Modality = target.Modality
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = f"{day}-{day}"
    step.ScheduledProcedureStepStartTime = ""
    wl.ScheduledProcedureStepSequence = Sequence([step])
    results, status = find(assoc, wl, ModalityWorklistInformationFind)
    assert status == 0x0000
    expected = {i.AccessionNumber for i in items
                if i.ScheduledProcedureStepSequence[0].Modality == target.Modality
                and i.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate == day}
    assert {r.AccessionNumber for r in results} == expected
    got = next(r for r in results if r.AccessionNumber == items[0].AccessionNumber)
    assert str(got.PatientName) == str(items[0].PatientName)
    assert got.ScheduledProcedureStepSequence[0].ScheduledStationAETitle == (
        target.ScheduledStationAETitle)


def test_move_study_with_compressed_series(pacs, store_scp):
    store_scp.reset()
    studies = studies_of(pacs)
    # the demo CT study whose last series is RLE: mixed syntaxes in one move
    uid, source = next((u, g) for u, g in studies.items()
                       if {str(ds.file_meta.TransferSyntaxUID) for ds in g} >= {RLELossless}
                       and g[0].Modality == "CT")
    ae = make_ae("ENGINEER", requested=QR)
    assoc = ae.associate(HOST, pacs.port, ae_title="DEMOPACS")
    statuses = [s.Status for s, _ in assoc.send_c_move(
        query("STUDY", StudyInstanceUID=uid), "STORESCP", StudyRootQueryRetrieveInformationModelMove)]
    assoc.release()
    assert statuses[-1] == 0x0000
    received = {ds.SOPInstanceUID: ds for ds in store_scp.received}
    assert set(received) == {ds.SOPInstanceUID for ds in source}
    for original in source:
        arrived = received[original.SOPInstanceUID]
        assert arrived.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        if original.file_meta.TransferSyntaxUID == RLELossless:
            assert arrived.PixelData == original.PixelData  # compressed bytes untouched
        np.testing.assert_array_equal(arrived.pixel_array, original.pixel_array)
    # only the (SOP class, syntax) pairs the study needs were proposed
    (accepted,) = store_scp.contexts
    assert {sop for sop, _ in accepted} == {CTImageStorage}
    assert len(accepted) <= 3


def test_move_patient_root_image_level_jpeg2000(pacs, store_scp):
    store_scp.reset()
    j2k = [ds for ds in pacs.datasets if ds.file_meta.TransferSyntaxUID == JPEG2000Lossless]
    jls = [ds for ds in pacs.datasets if ds.file_meta.TransferSyntaxUID == JPEGLSLossless]
    assert j2k and jls
    wanted = [j2k[0], jls[0]]
    ae = make_ae("ENGINEER", requested=QR)
    assoc = ae.associate(HOST, pacs.port, ae_title="DEMOPACS")
    identifier = query("IMAGE", SOPInstanceUID=[ds.SOPInstanceUID for ds in wanted])
    responses = list(assoc.send_c_move(identifier, "STORESCP",
                                       PatientRootQueryRetrieveInformationModelMove))
    assoc.release()
    assert responses[-1][0].Status == 0x0000
    assert responses[-1][0].NumberOfCompletedSuboperations == 2
    arrived = {ds.SOPInstanceUID: ds for ds in store_scp.received}
    for ds in wanted:
        assert arrived[ds.SOPInstanceUID].file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
        np.testing.assert_array_equal(arrived[ds.SOPInstanceUID].pixel_array, ds.pixel_array)


def test_move_to_unknown_destination_is_a801(pacs, assoc):
    uid = pacs.datasets[0].StudyInstanceUID
    statuses = [s.Status for s, _ in assoc.send_c_move(
        query("STUDY", StudyInstanceUID=uid), "NOBODY", StudyRootQueryRetrieveInformationModelMove)]
    assert statuses == [0xA801]
    records = []
    while not pacs.notify.empty():
        records.append(pacs.notify.get_nowait())
    assert {"event": "move", "destination": "NOBODY", "status": 0xA801}.items() <= next(
        r for r in records if r.get("destination") == "NOBODY").items()


def test_get_study(pacs):
    studies = studies_of(pacs)
    uid, source = next((u, g) for u, g in studies.items() if g[0].Modality == "US")
    syntaxes = sorted({str(ds.file_meta.TransferSyntaxUID) for ds in source})
    sop_classes = sorted({str(ds.SOPClassUID) for ds in source})
    contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)]
    contexts += [build_context(sop, ts) for sop in sop_classes for ts in syntaxes]
    received: list[Dataset] = []

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append(ds)
        return 0x0000

    ae = make_ae("ENGINEER", requested=contexts)
    assoc = ae.associate(HOST, pacs.port, ae_title="DEMOPACS",
                         ext_neg=[build_role(sop, scp_role=True) for sop in sop_classes],
                         evt_handlers=[(evt.EVT_C_STORE, on_store)])
    assert assoc.is_established
    responses = list(assoc.send_c_get(query("STUDY", StudyInstanceUID=uid),
                                      StudyRootQueryRetrieveInformationModelGet))
    assoc.release()
    assert responses[-1][0].Status == 0x0000
    assert sorted(ds.SOPInstanceUID for ds in received) == sorted(
        ds.SOPInstanceUID for ds in source)
    by_uid = {ds.SOPInstanceUID: ds for ds in source}
    for ds in received:
        np.testing.assert_array_equal(ds.pixel_array, by_uid[ds.SOPInstanceUID].pixel_array)


def test_store_then_find_on_a_fresh_pacs():
    notify: queue.Queue = queue.Queue()
    with DemoPacs(ae_title="EMPTYPACS", studies=[], worklist=[], notify=notify) as empty:
        assert empty.datasets == []
        study = generate_study("MR", images=3, series=1, size=32, seed=77, compression="jpegls")
        ae = make_ae("MODALITY", requested=[build_context(study[0].SOPClassUID, JPEGLSLossless),
                                            StudyRootQueryRetrieveInformationModelFind])
        assoc = ae.associate(HOST, empty.port, ae_title="EMPTYPACS")
        assert [assoc.send_c_store(ds).Status for ds in study] == [0, 0, 0]
        results, _ = find(assoc, query("STUDY", StudyInstanceUID="", PatientName="",
                                       NumberOfStudyRelatedInstances=""))
        assoc.release()
        assert [r.StudyInstanceUID for r in results] == [study[0].StudyInstanceUID]
        assert results[0].NumberOfStudyRelatedInstances == 3
        stored = {ds.SOPInstanceUID: ds for ds in empty.datasets}
        assert stored[study[0].SOPInstanceUID].file_meta.TransferSyntaxUID == JPEGLSLossless
        np.testing.assert_array_equal(stored[study[0].SOPInstanceUID].pixel_array,
                                      study[0].pixel_array)
        events = [notify.get_nowait()["event"] for _ in range(notify.qsize())]
        assert events.count("store") == 3 and "find" in events
    assert not empty.running


def test_find_handler_stops_when_cancelled(pacs):
    event = SimpleNamespace(
        identifier=query("IMAGE", SOPInstanceUID=""),
        request=SimpleNamespace(AffectedSOPClassUID=StudyRootQueryRetrieveInformationModelFind),
        is_cancelled=True,
        assoc=SimpleNamespace(requestor=SimpleNamespace(ae_title="ENGINEER")),
    )
    assert list(demo_handlers.on_find(event, pacs)) == [(0xFE00, None)]
