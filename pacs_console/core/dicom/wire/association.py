"""Open associations with a precise diagnosis of every failure, and report what was negotiated."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import time
from collections.abc import Iterable, Iterator

from pynetdicom import evt

from pacs_console.core.dicom.diagnosis import diagnose, diagnose_tls
from pacs_console.core.dicom.diagnosis.fingerprint import fingerprint
from pacs_console.core.dicom.names import uid_name
from pacs_console.core.dicom.wire import tls
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.params import MAX_CONTEXTS
from pacs_console.core.dicom.wire.pdu import effective_max_pdu
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError, Diagnosis

__all__ = ["MAX_CONTEXTS", "association_report", "connect", "fingerprint", "open_association",
           "release", "require_context", "uid_name"]
_ABORT_SOURCES = {0: "service user (the peer application)", 1: "reserved", 2: "service provider"}
_PROVIDER_REASONS = {0: "reason not specified", 1: "unrecognised PDU", 2: "unexpected PDU",
                     4: "unrecognised PDU parameter", 5: "unexpected PDU parameter",
                     6: "invalid PDU parameter value"}


def pre_connect(target: Target, timing: dict) -> None:
    """A bare TCP connect (and TLS handshake): it tells refused, timeout, DNS and TLS apart."""
    timeout = target.timeouts.connect
    if target.tls is not None:
        check_tls_files(target)
    try:
        if target.tls is not None:
            shake = tls.handshake(target.tls, target.host, target.port, timeout)
            timing["connect_ms"], timing["tls_ms"] = shake.connect_ms, shake.handshake_ms
            timing["tls"] = shake.to_dict()
            return
        start = time.perf_counter()
        with socket.create_connection((target.host, target.port), timeout=timeout):
            timing["connect_ms"] = (time.perf_counter() - start) * 1000
    except OSError as exc:
        if target.tls is not None and diagnose_tls.is_tls_error(exc):
            diag = diagnose_tls.diagnose_tls_error(
                exc, target.host, target.port, server_name=tls.server_name(target.tls, target.host),
                ca_file=target.tls.ca_file)
        else:
            diag = diagnose.diagnose_socket_error(exc, target.host, target.port, timeout)
        raise ConsoleError(diag) from None


def check_tls_files(target: Target) -> None:
    """Load the CA, certificate and key once, so a bad file is named as such."""
    try:
        tls.client_context(target.tls)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConsoleError(Diagnosis(
            "tls-configuration", f"The TLS files for {target.label} cannot be used: {exc}",
            ("a wrong path, or a file that is not PEM", "a key that does not match the certificate"),
            ("check the node's CA, certificate and key files",),
            {"CA file": target.tls.ca_file, "certificate": target.tls.cert_file})) from None


def connect(target: Target, contexts: Iterable, *, roles: Iterable = (), handlers: Iterable = (),
            timing: dict | None = None):
    """Return an established Association or raise ``ConsoleError`` with the diagnosis.

    ``contexts``: PresentationContexts or SOP class UIDs (default transfer syntaxes).
    ``timing`` receives connect_ms (and tls_ms) and associate_ms.
    """
    timing = {} if timing is None else timing
    contexts = list(contexts)
    if len(contexts) > MAX_CONTEXTS:
        raise ValueError(f"{len(contexts)} presentation contexts; DICOM allows {MAX_CONTEXTS}")
    pre_connect(target, timing)
    ae = make_ae(target.calling_ae, target.timeouts, requested=contexts,
                 maximum_pdu=effective_max_pdu(target.max_pdu))
    received: list = []
    evt_handlers = [(evt.EVT_ACSE_RECV, lambda e: received.append(e.primitive)), *handlers]
    tls_args = None
    if target.tls is not None:
        tls_args = (tls.client_context(target.tls), tls.server_name(target.tls, target.host))
    for attempt in (1, 2):
        received.clear()
        start = time.perf_counter()
        assoc = ae.associate(target.host, target.port, ae_title=target.called_ae,
                             ext_neg=list(roles) or None, evt_handlers=evt_handlers,
                             tls_args=tls_args)
        elapsed = time.perf_counter() - start
        timing["associate_ms"] = elapsed * 1000
        if assoc.is_established:
            return assoc
        diagnosis = association_failure(assoc, received, target, elapsed)
        # Some peers (Orthanc among them) now and then close right after sending A-ASSOCIATE-RJ,
        # and the close wins the race; one more try usually brings the decoded rejection.
        if diagnosis.code != "closed-without-answer" or attempt == 2:
            break
        time.sleep(0.1)
    raise ConsoleError(diagnosis)


def release(assoc) -> None:
    """Release politely; abort when the peer does not answer the release."""
    if assoc is None or not assoc.is_established:
        return
    try:
        assoc.release()
    finally:
        if assoc.is_established:
            assoc.abort()


@contextlib.contextmanager
def open_association(target: Target, contexts: Iterable, *, roles: Iterable = (),
                     handlers: Iterable = (), timing: dict | None = None) -> Iterator:
    """``with open_association(...) as assoc``: established, released (or aborted) on exit."""
    assoc = connect(target, contexts, roles=roles, handlers=handlers, timing=timing)
    try:
        yield assoc
    finally:
        release(assoc)


def association_failure(assoc, received: list, target: Target, elapsed: float) -> Diagnosis:
    called, calling = target.called_ae, target.calling_ae
    acse = target.timeouts.acse
    if assoc.is_rejected:
        rj = next((p for p in reversed(received) if hasattr(p, "result_source")), None)
        if rj is not None:
            return diagnose.diagnose_rejection(int(rj.result), int(rj.result_source),
                                               int(rj.diagnostic), called, calling)
        return diagnose.diagnose_rejection(1, 1, 1, called, calling)
    if assoc.is_aborted and assoc.rejected_contexts and not assoc.accepted_contexts:
        return no_context(assoc, "any of the proposed services")
    abort = next((p for p in reversed(received) if hasattr(p, "abort_source")
                  or hasattr(p, "provider_reason")), None)
    dropped = abort is not None and type(abort).__name__ == "A_P_ABORT" and len(received) == 1
    if abort is not None and not (dropped and elapsed < acse * 0.9):
        return abort_diagnosis(abort, "during association negotiation")
    if received and not dropped:
        return diagnose.diagnose_abort("during association negotiation")
    if elapsed < acse * 0.9:
        # Closed on us without a word, well before our ACSE timer: an access rule, not a hang.
        return Diagnosis(
            "closed-without-answer",
            f"{target.label} accepted TCP, then closed the connection without answering",
            ("the node only accepts known IP addresses and this laptop's is not listed",
             "the port belongs to a service that is not DICOM",
             "the node requires DICOM over TLS on this port"),
            ("check the node's access list for this laptop's IP address",
             "check whether this port needs TLS"),
            {"elapsed": f"{elapsed:.2f} s", "ACSE timeout": f"{acse:g} s"})
    return diagnose.diagnose_acse_timeout(acse)


def abort_diagnosis(primitive, stage: str) -> Diagnosis:
    base = diagnose.diagnose_abort(stage)
    evidence = dict(base.evidence)
    source = getattr(primitive, "abort_source", None)
    if source is not None:
        evidence["abort source"] = f"{source} ({_ABORT_SOURCES.get(int(source), 'unknown')})"
    reason = getattr(primitive, "provider_reason", None)
    if reason is not None:
        evidence["provider reason"] = f"{reason} ({_PROVIDER_REASONS.get(int(reason), 'unknown')})"
    return dataclasses.replace(base, evidence=evidence)


def _describe(cx) -> str:
    syntaxes = ", ".join(uid_name(ts) for ts in cx.transfer_syntax)
    return f"{uid_name(cx.abstract_syntax)} ({cx.abstract_syntax}) [{syntaxes}]"


def no_context(assoc, wanted: str) -> Diagnosis:
    proposed = [_describe(cx) for cx in assoc.requestor.requested_contexts]
    returned = [f"{uid_name(cx.abstract_syntax)}: {cx.status}" for cx in assoc.rejected_contexts]
    returned += [f"{uid_name(cx.abstract_syntax)}: accepted {uid_name(cx.transfer_syntax[0])}"
                 for cx in assoc.accepted_contexts]
    base = diagnose.diagnose_no_context(proposed, returned)
    return dataclasses.replace(base, what=f"The node accepted no presentation context for {wanted}",
                               evidence={"proposed": "; ".join(proposed),
                                         "returned": "; ".join(returned)})


def require_context(assoc, sop_class: str, *, role: str = "scu"):
    """The accepted context for ``sop_class`` or ConsoleError listing proposed vs returned."""
    for cx in assoc.accepted_contexts:
        if cx.abstract_syntax == sop_class and (role != "scp" or cx.as_scp):
            return cx
    raise ConsoleError(no_context(assoc, uid_name(sop_class)))


def _role(cx) -> str:
    roles = [name for name, flag in (("SCU", cx.as_scu), ("SCP", cx.as_scp)) if flag]
    return "/".join(roles) or "none"


def association_report(assoc, timing: dict | None = None) -> dict:
    """What the peer told us during negotiation, JSON-safe, for the evidence and the GUI."""
    acc, req = assoc.acceptor, assoc.requestor
    class_uid = str(acc.implementation_class_uid or "")
    version = str(acc.implementation_version_name or "")
    identity = acc.user_identity
    invoked, performed = acc.asynchronous_operations
    report = {
        "peer": {"ae_title": str(acc.ae_title).strip(), "address": acc.address, "port": acc.port,
                 "max_pdu": acc.maximum_length, "implementation_class_uid": class_uid,
                 "implementation_version_name": version,
                 "async_ops_window": {"invoked": invoked, "performed": performed},
                 "user_identity_response": (identity.server_response.hex()
                                            if identity is not None and identity.server_response
                                            else None)},
        "local": {"ae_title": str(req.ae_title).strip(), "max_pdu": req.maximum_length,
                  "implementation_version_name": str(req.implementation_version_name or "")},
        "fingerprint": fingerprint(class_uid, version, called_ae=str(acc.ae_title),
                                   port=acc.port),
        "accepted": [{"abstract_syntax": str(cx.abstract_syntax),
                      "name": uid_name(cx.abstract_syntax),
                      "transfer_syntax": str(cx.transfer_syntax[0]),
                      "transfer_syntax_name": uid_name(cx.transfer_syntax[0]), "role": _role(cx)}
                     for cx in assoc.accepted_contexts],
        "rejected": [{"abstract_syntax": str(cx.abstract_syntax),
                      "name": uid_name(cx.abstract_syntax),
                      "proposed": [str(ts) for ts in cx.transfer_syntax], "result": cx.status}
                     for cx in assoc.rejected_contexts],
    }
    if timing:
        report["timing"] = {k: round(v, 3) for k, v in timing.items() if isinstance(v, float)}
        if "tls" in timing:
            report["tls"] = timing["tls"]
    return report
