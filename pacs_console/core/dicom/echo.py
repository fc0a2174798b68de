"""C-ECHO (Verification) with TCP connect, association and round-trip times, and a diagnosis."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from pynetdicom import evt
from pynetdicom.sop_class import Verification

from pacs_console.core.dicom import diagnose
from pacs_console.core.dicom.ae import DEFAULT_AE_TITLE, Timeouts, make_ae
from pacs_console.core.errors import Diagnosis


@dataclass
class EchoResult:
    ok: bool
    host: str
    port: int
    called_ae: str
    calling_ae: str
    status: int | None = None
    connect_ms: float | None = None
    associate_ms: float | None = None
    echo_ms: float | None = None
    total_ms: float | None = None
    diagnosis: Diagnosis | None = None
    peer: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "diagnosis"}
        data["diagnosis"] = self.diagnosis.to_dict() if self.diagnosis else None
        return data


def tcp_connect_ms(host: str, port: int, timeout: float) -> float:
    """Time a bare TCP connect; raises OSError, which diagnose turns into a reason."""
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout):
        return (time.perf_counter() - start) * 1000


def echo(host: str, port: int, called_ae: str, calling_ae: str = DEFAULT_AE_TITLE,
         timeouts: Timeouts | None = None) -> EchoResult:
    """One C-ECHO on a fresh association; never raises for network or peer failures."""
    timeouts = timeouts or Timeouts()
    result = EchoResult(False, host, port, called_ae, calling_ae)
    start = time.perf_counter()
    try:
        result.connect_ms = tcp_connect_ms(host, port, timeouts.connect)
    except OSError as exc:
        result.diagnosis = diagnose.diagnose_socket_error(exc, host, port, timeouts.connect)
        return result
    received: list = []
    ae = make_ae(calling_ae, timeouts, requested=[Verification])
    t0 = time.perf_counter()
    assoc = ae.associate(host, port, ae_title=called_ae,
                         evt_handlers=[(evt.EVT_ACSE_RECV, lambda e: received.append(e.primitive))])
    result.associate_ms = (time.perf_counter() - t0) * 1000
    try:
        if not assoc.is_established:
            result.diagnosis = _association_failure(assoc, received, called_ae, calling_ae, timeouts)
            return result
        result.peer = peer_identity(assoc)
        t1 = time.perf_counter()
        status = assoc.send_c_echo()
        result.echo_ms = (time.perf_counter() - t1) * 1000
        if not status:
            result.diagnosis = Diagnosis(
                "dimse-timeout", f"No C-ECHO response within {timeouts.dimse:g} s",
                ("the node accepted the association but its Verification service hung",),
                ("restart the DICOM service on the node",))
            return result
        result.status = int(status.Status)
        result.ok = result.status == 0
        if not result.ok:
            result.diagnosis = Diagnosis(
                "echo-failed", f"C-ECHO answered with status 0x{result.status:04X}",
                ("the node's Verification service reported a failure",),
                ("check the node's log",))
        assoc.release()
    finally:
        if assoc.is_established:
            assoc.abort()
        result.total_ms = (time.perf_counter() - start) * 1000
    return result


def peer_identity(assoc) -> dict[str, str]:
    acceptor = assoc.acceptor
    return {
        "implementation_class_uid": str(acceptor.implementation_class_uid or ""),
        "implementation_version_name": str(acceptor.implementation_version_name or ""),
        "max_pdu": str(acceptor.maximum_length),
    }


def _association_failure(assoc, received, called_ae, calling_ae, timeouts) -> Diagnosis:
    if assoc.is_rejected:
        rj = next((p for p in reversed(received) if hasattr(p, "result_source")), None)
        if rj is not None:
            return diagnose.diagnose_rejection(int(rj.result), int(rj.result_source),
                                               int(rj.diagnostic), called_ae, calling_ae)
        return diagnose.diagnose_rejection(1, 1, 1, called_ae, calling_ae)
    if not received:
        # Nothing came back at all: pynetdicom aborts itself when the ACSE timer fires.
        return diagnose.diagnose_acse_timeout(timeouts.acse)
    if assoc.is_aborted:
        if assoc.rejected_contexts and not assoc.accepted_contexts:
            return diagnose.diagnose_no_context(
                [str(cx.abstract_syntax) for cx in assoc.requestor.requested_contexts],
                [f"{cx.abstract_syntax} ({cx.status})" for cx in assoc.rejected_contexts])
        return diagnose.diagnose_abort("during negotiation")
    return diagnose.diagnose_acse_timeout(timeouts.acse)
