"""The modality's side of each workflow step (MWL, MPPS, C-STORE, commitment), timed and explained."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pynetdicom import build_role, evt
from pynetdicom.sop_class import ModalityPerformedProcedureStep, StorageCommitmentPushModel

from pacs_console.core.dicom.diagnosis.dimse_status import describe_status
from pacs_console.core.dicom.ops.results import make_evidence
from pacs_console.core.dicom.wire import association as assoc_mod
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.workflow import datasets as wds

STEPS = ("mwl", "mpps-create", "store", "commit", "mpps-set")
TITLES = {"mwl": "MWL C-FIND", "mpps-create": "MPPS N-CREATE (IN PROGRESS)",
          "store": "C-STORE", "commit": "Storage Commitment", "mpps-set": "MPPS N-SET"}


@dataclass
class StepResult:
    """One step: pass, fail or skipped, its timing, what it found and why it failed."""

    step: str
    outcome: str = "failed"  # ok, warning, failed, skipped
    duration_ms: float = 0.0
    summary: str = ""
    details: dict = field(default_factory=dict)
    diagnosis: Diagnosis | None = None
    association: dict | None = None
    target: Target | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "warning")

    @property
    def title(self) -> str:
        return TITLES.get(self.step, self.step)

    def to_dict(self) -> dict:
        return {"step": self.step, "title": self.title, "outcome": self.outcome, "ok": self.ok,
                "duration_ms": round(self.duration_ms, 3), "summary": self.summary,
                "details": self.details, "target": self.target.label if self.target else None,
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None}

    def evidence(self) -> dict:
        return make_evidence(f"workflow-{self.step}", self.target or "local",
                             outcome=self.outcome, parameters={"step": self.step},
                             metrics=self.details, diagnosis=self.diagnosis,
                             association=self.association, summary=f"{self.title}: {self.summary}",
                             duration_ms=self.duration_ms)


def _dimse_failure(step: StepResult, service: str, status, label: str) -> None:
    if status is None or "Status" not in status:
        step.diagnosis = Diagnosis(
            f"{service}-no-response", f"{label}: no response from {step.target.label}",
            ("the peer aborted or the DIMSE timeout expired",),
            ("check the node's log", "raise the DIMSE timeout"), {})
        return
    code = int(status.Status)
    step.details["status"] = f"0x{code:04X}"
    meaning, diag = describe_status(service, code)
    if code in _N_STATUS:
        meaning = _N_STATUS[code]
        diag = Diagnosis(f"dimse-failure-{code:04x}", f"{label} failed 0x{code:04X}: {meaning}",
                         _N_CAUSES.get(code, ("the node refused the request",)),
                         ("check the node's log and its MPPS/commitment configuration",),
                         {"status": f"0x{code:04X} ({meaning})", "service": label})
    step.details["meaning"] = meaning
    if diag is not None:
        step.diagnosis = diag
        step.outcome = "warning" if diag.code.startswith("dimse-warning") else "failed"
    else:
        step.outcome = "ok"


# PS3.7 C / PS3.4 F: statuses of the normalised services that the C-services table lacks.
_N_STATUS = {0x0110: "Processing failure", 0x0112: "No such SOP instance",
             0x0111: "Duplicate SOP instance", 0x0106: "Invalid attribute value",
             0x0116: "Attribute value out of range", 0x0120: "Missing attribute",
             0x0121: "Missing attribute value", 0x0118: "No such SOP class",
             0x0123: "No such action", 0x0119: "Class-instance conflict",
             0xA710: "Performed Procedure Step object may no longer be updated",
             0x0213: "Resource limitation", 0x0122: "SOP class not supported"}
_N_CAUSES = {
    0xA710: ("the step is already COMPLETED or DISCONTINUED on the node",),
    0x0120: ("the node requires an attribute the request lacks (IHE SWF MPPS attributes)",),
    0x0106: ("a value the node does not accept (status, dates, codes)",),
    0x0110: ("the node failed internally, or refuses MPPS from this AE",),
    0x0111: ("an MPPS with this instance UID already exists",),
    0x0112: ("the node does not know this MPPS instance",),
}


def _connect(step: StepResult, target: Target, contexts, **kwargs):
    timing: dict = {}
    try:
        assoc = assoc_mod.connect(target, contexts, timing=timing, **kwargs)
    except ConsoleError as exc:
        step.diagnosis = exc.diagnosis
        return None
    step.association = assoc_mod.association_report(assoc, timing)
    return assoc


def _mpps(step: StepResult, service: str, send, summary_if_ok: str) -> None:
    """One MPPS request on its own association, timed: ``send(assoc)`` returns (status, attrs)."""
    start = time.perf_counter()
    assoc = _connect(step, step.target, [ModalityPerformedProcedureStep])
    try:
        if assoc is not None:
            assoc_mod.require_context(assoc, ModalityPerformedProcedureStep)
            status, _attrs = send(assoc)
            _dimse_failure(step, service, status, f"MPPS {service.upper()}")
    except ConsoleError as exc:
        step.diagnosis = exc.diagnosis
    finally:
        assoc_mod.release(assoc)
        step.duration_ms = (time.perf_counter() - start) * 1000
    step.summary = (summary_if_ok if step.ok
                    else (step.diagnosis.what if step.diagnosis else "failed"))


def mpps_create(target: Target, ds) -> tuple[StepResult, str]:
    from pydicom.uid import generate_uid

    step = StepResult("mpps-create", target=target)
    uid = generate_uid()
    _mpps(step, "n-create",
          lambda assoc: assoc.send_n_create(ds, ModalityPerformedProcedureStep, uid),
          f"IN PROGRESS created ({uid})")
    step.details["mpps_uid"] = uid
    return step, uid


def mpps_set(target: Target, uid: str, ds) -> StepResult:
    step = StepResult("mpps-set", target=target)
    final = str(ds.PerformedProcedureStepStatus)
    _mpps(step, "n-set", lambda assoc: assoc.send_n_set(ds, ModalityPerformedProcedureStep, uid),
          f"{final} ({uid})")
    step.details.update({"mpps_uid": uid, "status_set": final})
    return step


class ReportListener:
    """Receives N-EVENT-REPORTs on associations the commitment SCP opens back to us."""

    def __init__(self, ae_title: str, host: str, port: int, timeouts) -> None:
        self.reports: list[tuple[str, object]] = []
        self.arrived = threading.Event()
        ae = make_ae(ae_title, timeouts)
        ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
        self._server = ae.serve((host, port), [(evt.EVT_N_EVENT_REPORT, self._on_report)])
        self.port = self._server.server_address[1]

    def _on_report(self, event):
        self.reports.append(("separate", event.event_information))
        self.arrived.set()
        return 0x0000, None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def commit(target: Target, instances: list[tuple[str, str]], *, mode: str = "any",
           listener: ReportListener | None = None, wait: float = 30.0) -> StepResult:
    """N-ACTION, then wait for the N-EVENT-REPORT on this association or the listener's."""
    step = StepResult("commit", target=target)
    request = wds.commit_request(instances)
    uid = str(request.TransactionUID)
    step.details.update({"transaction_uid": uid, "requested": len(instances), "mode": mode})
    same: list = []
    arrived = threading.Event()

    replying, replied = threading.Event(), threading.Event()

    def on_report(event):
        same.append(("same", event.event_information))
        arrived.set()
        return 0x0000, None

    # Our answer to that report goes out on pynetdicom's threads after on_report returns;
    # releasing before it has left made them send P-DATA after A-RELEASE-RQ (FSM error Evt9
    # in Sta7 on the reactor thread). So release only once the answer's PDU is on the wire.
    def on_dimse_sent(event):
        if type(event.message).__name__ == "N_EVENT_REPORT_RSP":
            replying.set()

    def on_pdu_sent(event):
        if replying.is_set() and type(event.pdu).__name__ == "P_DATA_TF":
            replied.set()

    start = time.perf_counter()
    role = build_role(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    assoc = _connect(step, target, [StorageCommitmentPushModel], roles=[role],
                     handlers=[(evt.EVT_N_EVENT_REPORT, on_report),
                               (evt.EVT_DIMSE_SENT, on_dimse_sent),
                               (evt.EVT_PDU_SENT, on_pdu_sent)])
    report = None
    try:
        if assoc is None:
            return step
        assoc_mod.require_context(assoc, StorageCommitmentPushModel)
        status, _ = assoc.send_n_action(request, 1, StorageCommitmentPushModel,
                                        wds.COMMIT_INSTANCE_UID)
        _dimse_failure(step, "n-action", status, "Storage Commitment N-ACTION")
        step.details["n_action_ms"] = round((time.perf_counter() - start) * 1000, 3)
        if not step.ok:
            return step
        deadline = time.monotonic() + wait
        if mode in ("same", "any"):
            while time.monotonic() < deadline and not arrived.is_set() and assoc.is_established:
                if listener is not None and listener.arrived.is_set():
                    break
                arrived.wait(0.01)
        if not same and listener is not None and mode in ("separate", "any"):
            assoc_mod.release(assoc)
            assoc = None
            listener.arrived.wait(max(0.0, deadline - time.monotonic()))
        report = _matching(same + (listener.reports if listener else []), uid)
    except ConsoleError as exc:
        step.diagnosis = exc.diagnosis
        step.outcome = "failed"
    finally:
        if same and assoc is not None:
            replied.wait(2.0)
        assoc_mod.release(assoc)
        step.duration_ms = (time.perf_counter() - start) * 1000
    if step.diagnosis is None or step.ok:
        _judge_report(step, report, wait, listener)
    return step


def _matching(reports: list, uid: str):
    for how, ds in reports:
        if ds is not None and str(ds.get("TransactionUID", "")) == uid:
            return how, ds
    return None


def _judge_report(step: StepResult, report, wait: float, listener) -> None:
    if report is None:
        where = (f"on this association or on port {listener.port}" if listener is not None
                 else "on this association")
        step.outcome = "failed"
        step.diagnosis = Diagnosis(
            "commit-report-timeout",
            f"The node accepted the commitment request but sent no N-EVENT-REPORT {where} "
            f"within {wait:g} s",
            ("the node sends reports on a new association to an address or port it has "
             "configured for this AE, and nothing listens there",
             "the node does not know this AE as a peer, so it cannot connect back",
             "the node commits later (some archives wait for their own processing)"),
            ("configure this console's AE, IP address and report port on the node",
             "raise the wait time"), {"wait": f"{wait:g} s"})
        step.summary = step.diagnosis.what
        return
    how, ds = report
    info = wds.read_report(ds)
    step.details.update({"report_association": how, "committed": len(info["committed"]),
                         "failed": info["failed"]})
    if info["failed"]:
        step.outcome = "failed"
        reasons = "; ".join(f"{f['sop_instance_uid']} {f['reason']} {f['meaning']}"
                            for f in info["failed"][:5])
        step.diagnosis = Diagnosis(
            "commit-failures", f"Storage commitment refused {len(info['failed'])} of "
            f"{step.details['requested']} instances",
            ("the node lost or never stored those instances",
             "the instances were stored on another node than the one asked to commit"),
            ("send the refused instances again, then ask again", "check the node's storage"),
            {"refused": reasons})
        step.summary = (f"{len(info['committed'])} committed, {len(info['failed'])} refused "
                        f"(report on the {how} association)")
    else:
        step.outcome = "ok"
        step.summary = (f"{len(info['committed'])} committed (report on the {how} association)")
