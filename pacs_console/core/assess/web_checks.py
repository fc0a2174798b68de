"""Web and REST surfaces: Orthanc's REST API without authentication or with its default
credentials (ONE attempt), DICOMweb QIDO-RS without authentication, administration pages
(``admin_pages``), HTTP without TLS."""

from __future__ import annotations

import json

from pacs_console.core.assess import admin_pages

DEFAULT_CREDENTIALS = ("orthanc", "orthanc")
MAX_BODY = 256 << 10  # /system and one QIDO study are a few kB
QIDO_ROOTS = ("/dicom-web", "/orthanc/dicom-web", "")


def client(timeout: float):
    import httpx

    # As discovery's client: no proxy from the environment, no redirects, no verification
    # (the certificate is the transport family's business), and a clear User-Agent.
    return httpx.Client(timeout=httpx.Timeout(timeout), verify=False, trust_env=False,
                        follow_redirects=False, headers={"User-Agent": "PACS-Console-assessment"})


def fetch(http, url: str, **kwargs) -> tuple[int, dict, bytes | None]:
    """``(status, headers, body)``: the body read up to MAX_BODY only (None beyond it); status
    0 and ``headers["error"]`` when no HTTP answer came."""
    import httpx

    try:
        with http.stream("GET", url, **kwargs) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    return response.status_code, dict(response.headers), None
            return response.status_code, dict(response.headers), bytes(body)
    except httpx.HTTPError as exc:
        return 0, {"error": f"{type(exc).__name__}"}, None


def get(http, url: str, **kwargs) -> tuple[int, dict, object]:
    """``(status, headers, parsed JSON or None)``; the body is read up to MAX_BODY only."""
    status, headers, body = fetch(http, url, **kwargs)
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        data = None
    return status, headers, data


def assess(run, service) -> None:
    scheme = "https" if service.kind == "https" else "http"
    base = f"{scheme}://{service.host}:{service.port}"
    with client(run.options.timeout) as http:
        run.pace()
        status, headers, info = get(http, base + "/system")
        if status == 0:
            run.skip("orthanc-auth-off", service, f"no HTTP answer ({headers.get('error', '')})")
            return
        asks = status == 401
        if status == 200 and isinstance(info, dict) and "DicomAet" in info:
            run.web_identity(service, "Orthanc", str(info.get("Version", "")),
                             str(info.get("DicomAet", "")), _int(info.get("DicomPort")))
            run.add("orthanc-auth-off", service,
                    f"GET {base}/system answered 200 without credentials (Orthanc "
                    f"{str(info.get('Version', ''))[:20]}, AE {str(info.get('DicomAet'))[:16]})")
        elif asks:
            run.pace()  # ONE login attempt: never a second password (no lockout, no dictionary)
            status2, _, info2 = get(http, base + "/system", auth=DEFAULT_CREDENTIALS)
            if status2 == 200 and isinstance(info2, dict) and "DicomAet" in info2:
                run.web_identity(service, "Orthanc", str(info2.get("Version", "")),
                                 str(info2.get("DicomAet", "")), _int(info2.get("DicomPort")))
                run.add("orthanc-default-credentials", service,
                        f"GET {base}/system with orthanc:orthanc answered 200 (one attempt)")
        _qido(run, service, http, base)
        admin_pages.assess(run, service, base, lambda url: fetch(http, url))
        if scheme == "http":
            run.add("http-no-tls", service,
                    f"{base} serves HTTP without TLS" + (
                        "; it asks for HTTP Basic credentials, which cross the network in clear"
                        if asks else "; everything it answers crosses the network in clear"))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _qido(run, service, http, base: str) -> None:
    roots = [service.dicomweb_url.removeprefix(base)] if service.dicomweb_url else list(QIDO_ROOTS)
    for root in roots:
        run.pace()
        status, _, body = get(http, f"{base}{root}/studies", params={"limit": "1"},
                              headers={"Accept": "application/dicom+json"})
        if status == 204 or status == 200 and isinstance(body, list):
            count = len(body) if isinstance(body, list) else 0
            run.add("dicomweb-open", service,
                    f"QIDO-RS GET {base}{root}/studies?limit=1 answered HTTP {status} without "
                    f"credentials ({count} study in the answer, counted only)")
            return
        if status in (401, 403) or status == 0:
            return
