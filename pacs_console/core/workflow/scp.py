"""The site's side for commissioning: worklist, MPPS, storage and storage-commitment SCP in one AE."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from pynetdicom import evt
from pynetdicom.sop_class import (
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    StorageCommitmentPushModel,
    Verification,
)

from pacs_console.core.dicom.servers.serving import ServingMixin
from pacs_console.core.dicom.servers.storage import ACCEPTED_TRANSFER_SYNTAXES
from pacs_console.core.dicom.wire.ae import (
    STORAGE_SOP_CLASSES,
    Timeouts,
    limit_per_address,
    make_ae,
)
from pacs_console.core.workflow import datasets as wds

log = logging.getLogger(__name__)
_FINAL = ("COMPLETED", "DISCONTINUED")


@dataclass(frozen=True)
class WorkflowEvent:
    """One request the SCP answered, for the GUI bridge or the CLI; no patient data inside."""

    at: dt.datetime
    service: str  # mwl, mpps-create, mpps-set, store, commit, report
    calling_ae: str
    status: int
    detail: str = ""

    def to_dict(self) -> dict:
        return {"at": self.at.isoformat(), "service": self.service,
                "calling_ae": self.calling_ae, "status": f"0x{self.status:04X}",
                "detail": self.detail}


@dataclass
class ScpBehaviour:
    """How the simulated site answers; the failure switches let a test play a broken site."""

    mpps_create_status: int = 0x0000  # e.g. 0x0110 to reject every N-CREATE
    mpps_set_status: int = 0x0000
    refuse_commit: set[str] = field(default_factory=set)  # SOP instance UIDs to refuse
    commit_unknown: bool = True  # commit instances stored elsewhere (False: refuse, 0x0112)
    report: str = "same"  # same or separate association for the N-EVENT-REPORT
    report_delay: float = 0.05
    peers: dict[str, tuple[str, int]] = field(default_factory=dict)  # AE -> address for reports


class WorkflowSCP(ServingMixin):
    """``WorkflowSCP('SITE', port, items=worklist_items()).start()``; handlers fill ``notify``."""

    def __init__(self, ae_title: str, port: int, *, host: str = "0.0.0.0", items=None,
                 behaviour: ScpBehaviour | None = None, timeouts: Timeouts | None = None,
                 notify: queue.Queue | queue.SimpleQueue | None = None) -> None:
        self.ae_title, self.port, self.host = ae_title, port, host
        self.items = list(items or [])
        self.behaviour = behaviour or ScpBehaviour()
        self.timeouts = timeouts or Timeouts()
        self.notify = notify
        self.mpps: dict[str, dict] = {}  # instance UID -> attributes as text, status
        self.stored: dict[str, str] = {}  # SOP instance UID -> SOP class UID
        self._lock = threading.Lock()
        self._server = None

    def start(self) -> WorkflowSCP:
        ae = make_ae(self.ae_title, self.timeouts, supported=[
            Verification, ModalityWorklistInformationFind, ModalityPerformedProcedureStep])
        ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
        for sop_class in STORAGE_SOP_CLASSES:  # SR, dose reports and waveforms too
            ae.add_supported_context(sop_class, ACCEPTED_TRANSFER_SYNTAXES)
        self._server = ae.serve((self.host, self.port), [
            (evt.EVT_C_FIND, self._on_find), (evt.EVT_N_CREATE, self._on_create),
            (evt.EVT_N_SET, self._on_set), (evt.EVT_N_ACTION, self._on_action),
            (evt.EVT_C_STORE, self._on_store)])
        limit_per_address(self._server)
        self.port = self._server.server_address[1]
        log.info("Workflow SCP %s on %s:%s", self.ae_title, self.host, self.port)
        return self

    def _stopped(self, server) -> None:
        server.server_close()

    def _post(self, service: str, event, status: int, detail: str = "") -> None:
        log.info("Workflow SCP %s from %s: 0x%04X", service,
                 str(event.assoc.requestor.ae_title).strip(), status)
        if self.notify is not None:
            self.notify.put(WorkflowEvent(dt.datetime.now(dt.UTC), service,
                                          str(event.assoc.requestor.ae_title).strip(), status,
                                          detail))

    # --- worklist -----------------------------------------------------------------------------
    def _on_find(self, event):
        query = event.identifier
        count = 0
        for item in self.items:
            if _matches(item, query):
                count += 1
                yield 0xFF00, _answer(item, query)
        self._post("mwl", event, 0x0000, f"{count} match(es)")
        yield 0x0000, None

    # --- MPPS --------------------------------------------------------------------------------
    def _on_create(self, event):
        uid = str(event.request.AffectedSOPInstanceUID or "")
        attrs = event.attribute_list
        status = self.behaviour.mpps_create_status
        if status == 0 and uid in self.mpps:
            status = 0x0111
        if status == 0 and str(attrs.get("PerformedProcedureStepStatus", "")) != "IN PROGRESS":
            status = 0x0106
        if status == 0:
            with self._lock:
                self.mpps[uid] = {"status": "IN PROGRESS",
                                  "accession": _first(attrs, "ScheduledStepAttributesSequence",
                                                      "AccessionNumber"),
                                  "study_uid": _first(attrs, "ScheduledStepAttributesSequence",
                                                      "StudyInstanceUID")}
        self._post("mpps-create", event, status, uid)
        return status, (attrs if status == 0 else None)

    def _on_set(self, event):
        uid = str(event.request.RequestedSOPInstanceUID or "")
        changes = event.modification_list
        status = self.behaviour.mpps_set_status
        current = self.mpps.get(uid)
        if status == 0 and current is None:
            status = 0x0112
        elif status == 0 and current["status"] in _FINAL:
            status = 0xA710
        new = str(changes.get("PerformedProcedureStepStatus", "") or "")
        if status == 0 and new and new not in ("IN PROGRESS", *_FINAL):
            status = 0x0106
        if status == 0 and new:
            with self._lock:
                current["status"] = new
                current["series"] = len(changes.get("PerformedSeriesSequence", []))
        self._post("mpps-set", event, status, f"{uid} {new}".strip())
        return status, (changes if status == 0 else None)

    # --- storage and commitment -----------------------------------------------------------
    def _on_store(self, event):
        with self._lock:
            self.stored[str(event.request.AffectedSOPInstanceUID)] = str(
                event.request.AffectedSOPClassUID)
        self._post("store", event, 0x0000)
        return 0x0000

    def _on_action(self, event):
        info = event.action_information
        if event.action_type != 1 or info is None or "TransactionUID" not in info:
            self._post("commit", event, 0x0123 if event.action_type != 1 else 0x0120)
            return (0x0123 if event.action_type != 1 else 0x0120), None
        transaction = str(info.TransactionUID)
        committed, failed = [], []
        for ref in info.get("ReferencedSOPSequence", []):
            pair = (str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID))
            if pair[1] in self.behaviour.refuse_commit:
                failed.append((*pair, 0x0110))
            elif pair[1] not in self.stored and not self.behaviour.commit_unknown:
                failed.append((*pair, 0x0112))
            else:
                committed.append(pair)
        event_type, report = wds.commit_report(transaction, committed, failed, self.ae_title)
        calling = str(event.assoc.requestor.ae_title).strip()
        self._post("commit", event, 0x0000, f"{len(committed)} committed, {len(failed)} refused")
        threading.Thread(target=self._send_report, args=(event.assoc, calling, event_type, report),
                         daemon=True, name="commit-report").start()
        return 0x0000, None

    def _send_report(self, assoc, calling: str, event_type: int, report) -> None:
        """After the N-ACTION response is out: same association, or a new one to the modality."""
        time.sleep(self.behaviour.report_delay)
        try:
            if self.behaviour.report == "same" and assoc.is_established:
                status = assoc.send_n_event_report(report, event_type, StorageCommitmentPushModel,
                                                   wds.COMMIT_INSTANCE_UID)
            else:
                status = self._report_separately(calling, event_type, report)
            code = int(status.Status) if status is not None and "Status" in status else 0xFFFF
        except Exception:  # noqa: BLE001 - a report that cannot go out is logged, not raised
            log.exception("Commitment report to %s failed", calling)
            code = 0xFFFF
        if self.notify is not None:
            self.notify.put(WorkflowEvent(dt.datetime.now(dt.UTC), "report", calling, code,
                                          self.behaviour.report))

    def _report_separately(self, calling: str, event_type: int, report):
        address = self.behaviour.peers.get(calling)
        if address is None:
            log.warning("No address for AE %s: cannot send its commitment report", calling)
            return None
        ae = make_ae(self.ae_title, self.timeouts)
        ae.add_requested_context(StorageCommitmentPushModel)
        assoc = ae.associate(address[0], address[1], ae_title=calling)
        if not assoc.is_established:
            return None
        try:
            return assoc.send_n_event_report(report, event_type, StorageCommitmentPushModel,
                                             wds.COMMIT_INSTANCE_UID)
        finally:
            assoc.release()


def _first(ds, sequence: str, keyword: str) -> str:
    items = ds.get(sequence) or []
    return str(items[0].get(keyword, "")) if items else ""


def _value_matches(pattern: str, value: str) -> bool:
    import fnmatch

    if not pattern or pattern == "*":
        return True
    if "-" in pattern and pattern.replace("-", "").isdigit():  # date range
        low, _, high = pattern.partition("-")
        return (not low or value >= low) and (not high or value <= high)
    return fnmatch.fnmatchcase(value, pattern)


def _matches(item, query) -> bool:
    for elem in query:
        if elem.VR == "SQ":
            q_items = elem.value or []
            i_items = item.get(elem.keyword) or []
            if q_items and i_items and not _matches(i_items[0], q_items[0]):
                return False
            continue
        if elem.keyword in ("SpecificCharacterSet", "") or elem.value in (None, ""):
            continue
        if not _value_matches(str(elem.value), str(item.get(elem.keyword, "") or "")):
            return False
    return True


def _answer(item, query):
    """The item reduced to the keys the query asked for (and its character set)."""
    from pydicom import Dataset

    out = Dataset()
    out.SpecificCharacterSet = item.get("SpecificCharacterSet", "ISO_IR 192")
    for elem in query:
        if elem.keyword == "SpecificCharacterSet":
            continue
        if elem.VR == "SQ" and elem.keyword in item:
            sub = elem.value[0] if elem.value else Dataset()
            values = [_answer(x, sub) if len(sub) else x for x in item[elem.keyword].value]
            for value in values:
                if "SpecificCharacterSet" in value:
                    del value.SpecificCharacterSet
            setattr(out, elem.keyword, values)
        elif elem.keyword in item:
            out[elem.tag] = item[elem.tag]
        else:
            out[elem.tag] = elem
    return out
