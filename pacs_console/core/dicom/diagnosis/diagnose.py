"""Turn socket errors and association outcomes into Diagnosis objects an engineer can act on."""

from __future__ import annotations

import errno
from _socket import gaierror  # socket's own: its module costs a command line ~3 ms

from pacs_console.core.errors import Diagnosis

# PS3.8 Table 9-21: A-ASSOCIATE-RJ reasons by (source, reason).
_REJECT_REASONS = {
    (1, 1): ("no reason given by the service user", "calling_or_called"),
    (1, 2): ("application context name not supported", "context"),
    (1, 3): ("calling AE title not recognised", "calling"),
    (1, 7): ("called AE title not recognised", "called"),
    (2, 1): ("no reason given (ACSE)", ""),
    (2, 2): ("protocol version not supported", ""),
    (3, 1): ("temporary congestion", "busy"),
    (3, 2): ("local limit exceeded", "busy"),
}
_SOURCES = {1: "service user (the peer application)", 2: "service provider (ACSE)",
            3: "service provider (presentation layer)"}


def diagnose_socket_error(exc: BaseException, host: str, port: int, timeout: float) -> Diagnosis:
    where = f"{host}:{port}"
    if isinstance(exc, gaierror):
        return Diagnosis(
            "name-resolution", f"Could not resolve the host name {host!r}",
            ("a typing mistake in the host name", "no DNS server reachable from this laptop",
             "the name exists only in the hospital's DNS"),
            ("use the node's IP address", "check the laptop's DNS settings and network link"),
            {"error": str(exc)})
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return Diagnosis(
            "connect-timeout", f"No answer from {where} within {timeout:g} s",
            ("a firewall silently dropping the connection", "the host is off or not on this network",
             "a wrong IP address"),
            ("ping the host", "check firewall rules for this port on the node and on the path",
             "confirm the IP address on the node's own network settings"),
            {"timeout": f"{timeout:g} s"})
    code = getattr(exc, "errno", None)
    if code == errno.ECONNREFUSED:
        return Diagnosis(
            "connection-refused", f"{where} refused the connection",
            ("the DICOM service is not running on the node", "a wrong port number",
             "the service listens on another network interface"),
            ("check the port configured on the node", "restart the DICOM service",
             "run a discovery sweep of the host to find the open ports"),
            {"error": str(exc)})
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
        return Diagnosis(
            "no-route", f"No route to {host}",
            ("the host is down", "this laptop is on another network or VLAN", "a cable or switch fault"),
            ("check the laptop's IP address and subnet", "ping the host and its gateway"),
            {"error": str(exc)})
    return Diagnosis("network-error", f"Network error talking to {where}: {exc}",
                     ("an unexpected network condition",), ("retry, then check the link",),
                     {"error": repr(exc)})


def diagnose_rejection(result: int, source: int, reason: int, called: str, calling: str) -> Diagnosis:
    text, kind = _REJECT_REASONS.get((source, reason), (f"reason code {reason}", ""))
    permanence = "permanently" if result == 1 else "transiently"
    evidence = {"result": f"{result} ({'permanent' if result == 1 else 'transient'})",
                "source": f"{source} ({_SOURCES.get(source, 'unknown')})",
                "reason": f"{reason} ({text})", "called AE": repr(called), "calling AE": repr(calling)}
    if kind == "called":
        return Diagnosis(
            "called-ae-rejected", f"The node {permanence} rejected the association: {text}",
            (f"the node's AE title is not {called!r} (AE titles are case-sensitive; check "
             "spelling, case and trailing spaces)",),
            ("read the AE title from the node's own DICOM settings and copy it exactly",),
            evidence)
    if kind == "calling":
        return Diagnosis(
            "calling-ae-rejected", f"The node {permanence} rejected the association: {text}",
            (f"the node does not list this console's AE title {calling!r}",),
            (f"add AE {calling!r} with this laptop's IP address and port to the node's "
             "list of known peers", "or use a calling AE the node already knows"),
            evidence)
    if kind == "busy":
        return Diagnosis(
            "peer-busy", f"The node rejected the association: {text}",
            ("the node has reached its limit of simultaneous associations",),
            ("wait and retry", "check for stuck associations on the node"), evidence)
    return Diagnosis(
        "association-rejected", f"The node {permanence} rejected the association: {text}",
        ("the node's access rules refuse this console (AE title, IP address or both)",),
        ("check the node's list of allowed peers for this AE title and IP address",), evidence)


def diagnose_no_context(proposed: list[str], rejected: list[str]) -> Diagnosis:
    return Diagnosis(
        "no-presentation-context", "The node accepted none of the proposed presentation contexts",
        ("the node does not support this service (SOP class) or these transfer syntaxes",),
        ("run a capability probe to see what the node accepts",
         "enable the service on the node"),
        {"proposed": ", ".join(proposed), "rejected": ", ".join(rejected)})


def diagnose_abort(stage: str) -> Diagnosis:
    return Diagnosis(
        "association-aborted", f"The node aborted the association {stage}",
        ("the node's access rules or licence refused this peer", "a crash or restart on the node",
         "a network device cutting the connection"),
        ("check the node's log at this time", "retry; if it repeats, check the path for proxies"),
        {})


def diagnose_acse_timeout(timeout: float) -> Diagnosis:
    return Diagnosis(
        "association-timeout",
        f"The node accepted TCP but did not answer the association request within {timeout:g} s",
        ("the service is hung or overloaded", "something that is not DICOM listens on this port",
         "a firewall or proxy that accepts connections and then drops them"),
        ("restart the DICOM service on the node", "check the port: it may belong to another service"),
        {"ACSE timeout": f"{timeout:g} s"})


def lost_query(aborted: bool, target, count: int, quiet_s: float) -> Diagnosis:
    """No response: an abort or a closed connection if it came well before the DIMSE timeout."""
    dimse = target.timeouts.dimse
    if aborted or quiet_s < dimse * 0.9:
        if count == 0:
            return Diagnosis(
                "no-matches-unregistered-ae",
                "The node ended the association instead of answering the query",
                (f"the node does not list this console's calling AE {target.calling_ae!r}: "
                 "Orthanc, for one, drops C-FIND from an AE missing from its DicomModalities",
                 "the node's query service crashed on this request"),
                (f"add AE {target.calling_ae!r} with this laptop's IP address to the node's "
                 "list of DICOM peers (Orthanc: DicomModalities) and allow it to query",
                 "check the node's log at this time"),
                {"calling AE": target.calling_ae, "after": f"{quiet_s:.2f} s"})
        diag = diagnose_abort(f"during C-FIND after {count} matches")
        return Diagnosis(diag.code, diag.what, diag.causes, diag.actions,
                         {"matches received": str(count)})
    return Diagnosis("dimse-timeout", f"No C-FIND response within {dimse:g} s",
                     ("the node is still searching (a very broad query on a large archive)",
                      "the node's query service hung"),
                     ("narrow the query", "raise the DIMSE timeout for this node"),
                     {"DIMSE timeout": f"{dimse:g} s", "matches received": str(count)})
