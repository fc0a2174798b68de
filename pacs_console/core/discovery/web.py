"""DICOMweb detection on HTTP ports: a QIDO-RS ``studies?limit=1`` answer or Orthanc's ``/system``."""

from __future__ import annotations

import json
from dataclasses import dataclass

# Where DICOMweb usually lives: Orthanc's plugin, a bare root, dcm4chee-arc's default AE path.
QIDO_ROOTS = ("/dicom-web", "", "/dcm4chee-arc/aets/DCM4CHEE/rs", "/orthanc/dicom-web")


@dataclass(frozen=True)
class WebAnswer:
    verdict: str  # dicomweb, http, not-http, silent
    dicomweb_url: str = ""
    product: str = ""
    version: str = ""
    server: str = ""
    ae_title: str = ""  # Orthanc's /system tells its own AE title and DICOM port
    dicom_port: int = 0
    detail: str = ""


def make_client(timeout: float):
    import httpx

    # trust_env=False: a proxy from the environment must never carry a sweep off the subnet.
    # verify=False: hospital servers use self-signed certificates; we only detect, never send PHI.
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), verify=False, trust_env=False,
                             follow_redirects=False,
                             headers={"User-Agent": "PACS-Console-discovery"})


def _json(response):
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


async def probe_web(client, host: str, port: int) -> WebAnswer:
    """At most five small GETs; the first QIDO root that answers wins."""
    import httpx

    base = f"{'https' if port == 443 else 'http'}://{host}:{port}"
    product = version = server = ae_title = ""
    dicom_port = 0
    notes: list[str] = []
    try:
        system = await client.get(base + "/system")
    except httpx.TimeoutException:
        return WebAnswer("silent", detail="accepted TCP, no HTTP answer before the timeout")
    except (httpx.RemoteProtocolError, httpx.ProtocolError) as exc:
        return WebAnswer("not-http", detail=f"not an HTTP answer ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return WebAnswer("not-http", detail=f"{type(exc).__name__}: {exc}"[:200])
    server = system.headers.get("server", "")
    info = _json(system) if system.status_code == 200 else None
    if isinstance(info, dict) and "DicomAet" in info:
        product, version = "Orthanc", str(info.get("Version", ""))
        ae_title, dicom_port = str(info.get("DicomAet", "")), int(info.get("DicomPort") or 0)
    elif system.status_code == 401 and "orthanc" in system.headers.get("www-authenticate", "").lower():
        product = "Orthanc"
        notes.append("Orthanc REST needs credentials")
    for root in QIDO_ROOTS:
        url = f"{base}{root}/studies"
        try:
            response = await client.get(url, params={"limit": "1"},
                                        headers={"Accept": "application/dicom+json"})
        except httpx.HTTPError:
            break
        body = _json(response) if response.status_code == 200 else None
        if response.status_code == 204 or isinstance(body, list):
            return WebAnswer("dicomweb", f"{base}{root}", product, version, server, ae_title,
                             dicom_port, "; ".join(notes + ["QIDO-RS answered"]))
        if response.status_code in (401, 403) and root == "/dicom-web":
            notes.append(f"{url} needs credentials (HTTP {response.status_code})")
    if product:
        notes.append(f"{product} REST API" + (f" {version}" if version else ""))
    return WebAnswer("http", "", product, version, server, ae_title, dicom_port,
                     "; ".join(notes) or f"HTTP {system.status_code}, no DICOMweb found")
