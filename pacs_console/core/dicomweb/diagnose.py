"""DICOMweb failures explained like DIMSE ones: HTTP status, content type, proxy pages, network."""

from __future__ import annotations

import re

from pacs_console.core.dicom.diagnosis import diagnose as dimse_diagnose
from pacs_console.core.errors import Diagnosis

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)

_STATUS = {
    400: ("the server did not understand the request",
          ("a query parameter the server does not support", "a malformed UID"),
          ("remove unusual query parameters", "check the UIDs")),
    401: ("authentication is required or the credentials are wrong",
          ("no credentials saved for this endpoint", "a wrong user name or password",
           "an expired bearer token"),
          ("save the right credentials (basic or bearer) for this URL", "renew the token")),
    403: ("the server refused this user the operation",
          ("the account has no right to search, retrieve or store",),
          ("ask the PACS administrator to grant the right to this account",)),
    404: ("nothing at this address",
          ("a wrong base path (many servers serve DICOMweb under /dicom-web, /dcm4chee-arc/aets/"
           "AET/rs or /wado)", "the study, series or instance is not on the server"),
          ("check the DICOMweb base URL in the server's documentation or settings",
           "search with QIDO-RS first to confirm the UIDs")),
    405: ("the server does not allow this method here",
          ("STOW-RS is disabled or the URL is not a DICOMweb root",),
          ("check the base URL and whether the server accepts STOW-RS",)),
    406: ("the server cannot answer in the media type asked for",
          ("the server does not offer multipart/related application/dicom or dicom+json",),
          ("try another Accept type or transfer syntax",)),
    409: ("the server refused every instance of the store",
          ("the instances conflict with stored ones or fail the server's checks",),
          ("read the failure reasons per instance",)),
    413: ("the request is too large for the server or a proxy in front of it",
          ("a reverse proxy body-size limit (nginx client_max_body_size)",),
          ("send fewer instances per request", "raise the proxy's limit")),
    415: ("the server does not accept this content type",
          ("the server expects another multipart layout or media type",),
          ("check the server's STOW-RS media types",)),
}


def html_title(body: bytes) -> str:
    match = _TITLE.search(body[:20000])
    if not match:
        return ""
    return re.sub(r"\s+", " ", match.group(1).decode("utf-8", "replace")).strip()[:120]


def _evidence(response, body: bytes) -> dict[str, str]:
    evidence = {"HTTP status": f"{response.status_code} {response.reason_phrase}",
                "content type": response.headers.get("content-type", "(none)"),
                "URL": str(response.request.url) if response.request else ""}
    for header in ("server", "www-authenticate", "via", "x-cache"):
        if header in response.headers:
            evidence[header] = response.headers[header][:200]
    title = html_title(body) if body else ""
    if title:
        evidence["page title"] = title
    elif body and not body.lstrip().startswith((b"{", b"[")):
        evidence["body start"] = body[:160].decode("utf-8", "replace")
    return evidence


def is_html(response) -> bool:
    return "text/html" in response.headers.get("content-type", "").lower()


def diagnose_response(response, body: bytes, operation: str, expected: str) -> Diagnosis | None:
    """None when the response is what ``operation`` (qido, wado, stow) expects."""
    status = response.status_code
    evidence = _evidence(response, body)
    ctype = response.headers.get("content-type", "").lower()
    if is_html(response) and (status < 300 or status >= 400):
        title = evidence.get("page title", "")
        return Diagnosis(
            "dicomweb-html-page",
            f"{operation.upper()}-RS got a web page{f' ({title!r})' if title else ''} instead of "
            f"{expected} (HTTP {status})",
            ("a proxy, firewall or captive portal answered instead of the DICOMweb server",
             "a login page of the PACS web front end (the URL is the viewer, not DICOMweb)",
             "a wrong base path that lands on a web application"),
            ("open the URL in a browser and read the page", "use the DICOMweb root of the "
             "server (often /dicom-web)", "bypass the proxy for this host"), evidence)
    if status in _STATUS:
        what, causes, actions = _STATUS[status]
        return Diagnosis(f"dicomweb-http-{status}", f"{operation.upper()}-RS failed: HTTP {status}, "
                         f"{what}", causes, actions, evidence)
    if status >= 500:
        gateway = status in (502, 503, 504)
        return Diagnosis(
            f"dicomweb-http-{status}", f"{operation.upper()}-RS failed: HTTP {status} "
            + ("from a gateway: the server behind it did not answer" if gateway
               else "server error"),
            ("the DICOMweb service behind the proxy is down or slow",) if gateway else
            ("the server failed internally on this request",),
            ("check the PACS services and the proxy's log", "retry later"), evidence)
    if status >= 300 and status < 400:
        return Diagnosis(
            "dicomweb-redirect", f"{operation.upper()}-RS was redirected (HTTP {status})",
            ("http:// to https:// or a single sign-on redirect",),
            ("use the URL in the Location header", "use https://"),
            {**evidence, "location": response.headers.get("location", "")})
    if status >= 400:
        return Diagnosis(f"dicomweb-http-{status}", f"{operation.upper()}-RS failed: HTTP {status}",
                         ("the server refused the request",), ("check the server's log",), evidence)
    if status == 204 or not expected:
        return None
    if expected not in ctype:
        return Diagnosis(
            "dicomweb-content-type",
            f"{operation.upper()}-RS answered {ctype or 'no content type'} instead of {expected}",
            ("a proxy rewrote the response", "the URL is not a DICOMweb endpoint"),
            ("check the base URL", "look at the start of the body in the evidence"), evidence)
    return None


def _root_os_error(exc: BaseException) -> BaseException | None:
    """httpx wraps httpcore wraps the socket error: find the OSError underneath."""
    seen, current = set(), exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def diagnose_transport(exc: Exception, url: str, timeout: float, *,
                       ca_file: str = "") -> Diagnosis:
    """httpx transport errors (connect, read, TLS) in the words used for DIMSE."""
    import httpx

    from pacs_console.core.dicom.diagnosis import diagnose_tls

    host = httpx.URL(url).host
    port = httpx.URL(url).port or (443 if url.startswith("https") else 80)
    cause = _root_os_error(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return dimse_diagnose.diagnose_socket_error(TimeoutError(), host, port, timeout)
    if isinstance(exc, httpx.ReadTimeout):
        return Diagnosis(
            "dicomweb-read-timeout", f"{host}:{port} accepted the request but did not answer "
            f"within {timeout:g} s",
            ("a large retrieve on a slow link", "the server is overloaded"),
            ("raise the timeout", "retrieve one series at a time"), {"timeout": f"{timeout:g} s"})
    if cause is not None and diagnose_tls.is_tls_error(cause):
        return diagnose_tls.diagnose_tls_error(
            cause, host, port, server_name=host, ca_file=ca_file,
            trust_action="give the PEM file of the CA that signed the server's certificate "
                         "(--ca-file, or CA file in the DICOMweb section)")
    if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc):
        return Diagnosis(
            "tls-handshake", f"TLS with {host}:{port} failed: {exc}",
            ("a certificate signed by a CA this laptop does not trust", "plain HTTP on the port"),
            ("give the CA file (--ca-file)", "check http:// versus https://"),
            {"error": str(exc)[:200]})
    if isinstance(cause, OSError):
        return dimse_diagnose.diagnose_socket_error(cause, host, port, timeout)
    if isinstance(exc, httpx.RemoteProtocolError):
        return Diagnosis(
            "dicomweb-protocol", f"{host}:{port} broke the HTTP exchange: {exc}",
            ("the port speaks another protocol (DICOM, HTTPS on an http:// URL)",),
            ("check the port and scheme",), {"error": str(exc)[:200]})
    return Diagnosis("network-error", f"Network error talking to {host}:{port}: {exc}",
                     ("an unexpected network condition",), ("retry, then check the link",),
                     {"error": repr(exc)[:200]})
