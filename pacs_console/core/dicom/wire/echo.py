"""C-ECHO on whichever wire path serves it: the one entry point ``ops.echo`` calls.

A plain (non-TLS) echo goes over the lean Upper Layer (``ul``), which needs neither pynetdicom
nor pydicom: ``pacs-console echo`` then starts in a fraction of the time. Anything the lean
path does not expect before the echo is sent goes to pynetdicom, whose richer state gives the
precise diagnosis (and TLS echoes always do, for their handshake report).
"""

from __future__ import annotations

import time

from pacs_console.core.dicom.diagnosis import diagnose
from pacs_console.core.dicom.diagnosis.dimse_status import describe_status
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030


def echo_on(target: Target, result, before_pynetdicom=None):
    """One C-ECHO to ``target``, filling ``result`` (``ops.echo.EchoResult``): status, times,
    peer, association report or diagnosis. Never raises for network or peer failures.
    ``before_pynetdicom()``: called before pynetdicom takes over (TLS, or what the lean path
    handed back), for what the caller has left until then (its log, which pynetdicom writes
    to)."""
    if target.tls is None and _lean_echo(target, result):
        return result
    if before_pynetdicom is not None:
        before_pynetdicom()
    return _full_echo(target, result)


def _lean_echo(target: Target, result) -> bool:
    """The echo over the lean Upper Layer; False (nothing reported) to let pynetdicom do it."""
    from pacs_console.core.dicom.wire import pdu, ul

    timing: dict = {}
    start = time.perf_counter()
    try:
        assoc = ul.open_lean(target, [(VERIFICATION, [IMPLICIT_VR_LE])], timing=timing)
    except ul.Fallback as exc:
        if exc.connect_error is not None:  # refused, timed out and DNS told apart here
            result.diagnosis = diagnose.diagnose_socket_error(
                exc.connect_error, target.host, target.port, target.timeouts.connect)
            _timing(result, timing, start)
            return True
        asked = time.perf_counter() - start - timing.get("connect_ms", 0.0) / 1000
        if asked >= target.timeouts.acse * 0.95:
            # No answer within the ACSE timeout: asking again through pynetdicom would only
            # make the engineer wait that long twice for the same verdict.
            result.diagnosis = diagnose.diagnose_acse_timeout(target.timeouts.acse)
            _timing(result, timing, start)
            return True
        return False
    except ConsoleError as exc:  # a rejection or a protocol error the node will repeat
        result.diagnosis = exc.diagnosis
        _timing(result, timing, start)
        return True
    try:
        context = assoc.context_for(VERIFICATION)
        t1 = time.perf_counter()
        assoc.send(context.context_id, pdu.encode_command(
            {0x0002: VERIFICATION, 0x0100: C_ECHO_RQ, 0x0110: 1, 0x0800: ul.NO_DATASET}))
        _, fields, _ = assoc.receive(target.timeouts.dimse)
        result.echo_ms = (time.perf_counter() - t1) * 1000
        if fields.get(0x0100) != C_ECHO_RSP or not isinstance(fields.get(0x0900), int):
            assoc.abort()
            result.diagnosis = diagnose.diagnose_abort("during C-ECHO (an answer that is not a "
                                                       "C-ECHO response)")
            return True
        result.status = fields[0x0900]
        result.ok = result.status == 0
        if not result.ok:
            _, result.diagnosis = describe_status("echo", result.status)
        assoc.release()
    except ul.Lost as lost:
        assoc.abort()
        result.diagnosis = _dimse_timeout(target) if lost.timed_out else diagnose.diagnose_abort(
            "during C-ECHO")
    finally:
        _timing(result, timing, start)
    result.peer = {"implementation_class_uid": assoc.implementation_class_uid,
                   "implementation_version_name": assoc.implementation_version_name,
                   "max_pdu": str(assoc.peer_max_pdu)}
    result.report_later = lambda: assoc.report(timing)
    return True


def _dimse_timeout(target: Target) -> Diagnosis:
    return Diagnosis(
        "dimse-timeout", f"No C-ECHO response within {target.timeouts.dimse:g} s",
        ("the node accepted the association but its Verification service hung",),
        ("restart the DICOM service on the node",),
        {"DIMSE timeout": f"{target.timeouts.dimse:g} s"})


def _full_echo(target: Target, result):
    """The echo through pynetdicom: TLS, and whatever the lean path handed over."""
    from pynetdicom.sop_class import Verification

    from pacs_console.core.dicom.wire import association as assoc_mod

    timing: dict = {}
    start = time.perf_counter()
    try:
        assoc = assoc_mod.connect(target, [Verification], timing=timing)
    except ConsoleError as exc:
        result.diagnosis = exc.diagnosis
        _timing(result, timing, start)
        return result
    try:
        result.peer = peer_identity(assoc)
        t1 = time.perf_counter()
        status = assoc.send_c_echo()
        result.echo_ms = (time.perf_counter() - t1) * 1000
        result.association = assoc_mod.association_report(assoc, timing)
        if not status:
            result.diagnosis = (diagnose.diagnose_abort("during C-ECHO")
                                if assoc.is_aborted else _dimse_timeout(target))
            return result
        result.status = int(status.Status)
        result.ok = result.status == 0
        if not result.ok:
            _, result.diagnosis = describe_status("echo", result.status)
    finally:
        assoc_mod.release(assoc)
        _timing(result, timing, start)
    return result


def _timing(result, timing: dict, start: float) -> None:
    result.connect_ms = timing.get("connect_ms")
    result.tls_ms = timing.get("tls_ms")
    result.associate_ms = timing.get("associate_ms")
    result.total_ms = (time.perf_counter() - start) * 1000


def peer_identity(assoc) -> dict[str, str]:
    acceptor = assoc.acceptor
    return {
        "implementation_class_uid": str(acceptor.implementation_class_uid or ""),
        "implementation_version_name": str(acceptor.implementation_version_name or ""),
        "max_pdu": str(acceptor.maximum_length),
    }
