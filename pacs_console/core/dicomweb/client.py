"""QIDO-RS, WADO-RS (into the local store) and STOW-RS against any DICOMweb endpoint (httpx)."""

from __future__ import annotations

import io
import json
import os
import ssl
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pacs_console.core import safepath
from pacs_console.core.dicom.ops.results import make_evidence
from pacs_console.core.dicomweb import multipart
from pacs_console.core.dicomweb.auth import Credentials, httpx_auth
from pacs_console.core.dicomweb.diagnose import diagnose_response, diagnose_transport
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.models import Progress

DICOM_JSON = "application/dicom+json"
WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
LEVELS = {"study": "studies", "series": "series", "instance": "instances"}


@dataclass(frozen=True)
class Endpoint:
    """A DICOMweb root such as http://pacs:8042/dicom-web, its credentials and timeouts."""

    url: str
    credentials: Credentials = field(default_factory=Credentials)
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    verify: bool | str = True  # False, True (system trust store) or a CA file (PEM)

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    @property
    def ca_file(self) -> str:
        return self.verify if isinstance(self.verify, str) else ""

    def tls_context(self) -> bool | ssl.SSLContext:
        """What httpx verifies with; a hospital CA file becomes a context trusting only it."""
        if not self.ca_file:
            return bool(self.verify)
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConsoleError(Diagnosis(
                "tls-ca-file-unreadable", f"The CA file {self.ca_file} cannot be used: {exc}",
                ("the path is wrong", "the file is not a PEM certificate (DER or a key instead)"),
                ("give the PEM file of the CA that signed the server's certificate",
                 "convert a DER file: openssl x509 -inform der -in ca.cer -out ca.pem"),
                {"CA file": self.ca_file})) from exc

    def to_dict(self) -> dict:
        return {"url": self.base, "auth": self.credentials.kind,
                "connect_timeout": self.connect_timeout, "read_timeout": self.read_timeout,
                "tls_verify": "off" if self.verify is False else (self.ca_file or "system")}

    def client(self):
        import httpx

        auth, headers = httpx_auth(self.credentials)
        return httpx.Client(auth=auth, headers=headers, verify=self.tls_context(),
                            timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                            follow_redirects=False)


@dataclass
class WebResult:
    """Any of the three operations; ``kind`` is qido, wado or stow."""

    kind: str
    endpoint: Endpoint
    status: int | None = None
    content_type: str = ""
    duration_ms: float = 0.0
    matches: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    stored: int = 0
    failed: list[dict] = field(default_factory=list)
    bytes: int = 0
    diagnosis: Diagnosis | None = None
    parameters: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.diagnosis is None

    @property
    def outcome(self) -> str:
        if self.diagnosis is None:
            return "ok"
        return "warning" if self.kind == "stow" and self.stored else "failed"

    @property
    def label(self) -> str:
        return self.endpoint.base

    def summary(self) -> str:
        name = f"{self.kind.upper()}-RS"
        if self.diagnosis is not None and not (self.stored or self.files):
            return f"{name} failed: {self.diagnosis.what}"
        if self.kind == "qido":
            return f"{name}: {len(self.matches)} matches in {self.duration_ms:.0f} ms"
        if self.kind == "wado":
            return (f"{name}: {len(self.files)} instances, {self.bytes / 1e6:.1f} MB in "
                    f"{self.duration_ms:.0f} ms")
        return (f"{name}: {self.stored} stored, {len(self.failed)} failed in "
                f"{self.duration_ms:.0f} ms")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "endpoint": self.endpoint.to_dict(), "ok": self.ok,
                "status": self.status, "content_type": self.content_type,
                "duration_ms": round(self.duration_ms, 3), "matches": self.matches,
                "files": self.files, "stored": self.stored, "failed": self.failed,
                "bytes": self.bytes, "parameters": self.parameters,
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None}

    def evidence(self) -> dict:
        return make_evidence(f"dicomweb-{self.kind}", self.endpoint.base, outcome=self.outcome,
                             parameters={**self.parameters, "endpoint": self.endpoint.to_dict()},
                             metrics={"status": self.status, "matches": len(self.matches),
                                      "instances": len(self.files), "stored": self.stored,
                                      "failed": len(self.failed), "bytes": self.bytes},
                             diagnosis=self.diagnosis, summary=self.summary(),
                             duration_ms=self.duration_ms)


def _keyword(tag: str) -> str:
    from pydicom.datadict import keyword_for_tag

    try:
        return keyword_for_tag(int(tag, 16)) or tag
    except ValueError:
        return tag


def flatten_json(item: dict) -> dict[str, str]:
    """DICOM JSON (PS3.18 F.2) to keyword -> text, names as their Alphabetic form."""
    out = {}
    for tag, element in item.items():
        values = element.get("Value") or []
        texts = []
        for value in values:
            if isinstance(value, dict) and "Alphabetic" in value:
                texts.append(value["Alphabetic"])
            elif isinstance(value, dict):
                continue  # sequence items are not shown in a flat row
            else:
                texts.append(str(value))
        out[_keyword(tag)] = "\\".join(texts)
    return out


def qido(endpoint: Endpoint, level: str = "study", filters: dict | None = None, *,
         study_uid: str = "", limit: int | None = None) -> WebResult:
    """Search; ``filters`` are DICOM keywords or tags with values (QIDO-RS matching rules)."""

    if level not in LEVELS:
        raise ValueError(f"level {level!r} not one of {', '.join(LEVELS)}")
    params = dict(filters or {})
    if limit:
        params["limit"] = str(limit)
    path = f"/studies/{study_uid}/{LEVELS[level]}" if study_uid and level != "study" else \
        f"/{LEVELS[level]}"
    result = WebResult("qido", endpoint, parameters={"level": level, "filters": params,
                                                     "study_uid": study_uid})
    response = _request(endpoint, result, "GET", path, params=params,
                        headers={"Accept": DICOM_JSON})
    if response is None:
        return result
    body = response.content
    result.diagnosis = diagnose_response(response, body, "qido", "json")
    if result.diagnosis is None and response.status_code != 204 and body.strip():
        try:
            result.matches = [flatten_json(item) for item in json.loads(body)]
        except (ValueError, AttributeError, TypeError) as exc:
            result.diagnosis = Diagnosis(
                "dicomweb-bad-json", f"QIDO-RS answered JSON that is not DICOM JSON: {exc}",
                ("a proxy or another web service answered",), ("check the base URL",),
                {"body start": body[:160].decode("utf-8", "replace")})
    return result


def _request(endpoint: Endpoint, result: WebResult, method: str, path: str, **kwargs):
    """One request below the endpoint's root, read whole and timed into ``result`` with its
    status and content type; a transport failure becomes the result's diagnosis (None back)."""
    import httpx

    start = time.perf_counter()
    try:
        with endpoint.client() as client:
            response = client.request(method, endpoint.base + path, **kwargs)
            response.read()
    except httpx.HTTPError as exc:
        result.diagnosis = diagnose_transport(exc, endpoint.base, _timeout_for(exc, endpoint),
                                              ca_file=endpoint.ca_file)
        return None
    finally:
        result.duration_ms = (time.perf_counter() - start) * 1000
    result.status, result.content_type = response.status_code, response.headers.get(
        "content-type", "")
    return response


def _timeout_for(exc: Exception, endpoint: Endpoint) -> float:
    """The timeout that ran out: connecting, or waiting for the answer."""
    import httpx

    return endpoint.connect_timeout if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError) \
        else endpoint.read_timeout


def _save_part(data: bytes, store: Path) -> Path:
    """Write one Part 10 instance under store/study/series/sop.dcm, as the Storage SCP does."""
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(data), stop_before_pixels=True,
                 specific_tags=["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
    path = safepath.instance_path(store, ds.get("StudyInstanceUID", ""),
                                  ds.get("SeriesInstanceUID", ""), ds.get("SOPInstanceUID", ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def wado(endpoint: Endpoint, store: Path, study_uid: str, series_uid: str = "",
         instance_uid: str = "") -> Generator[Progress, None, WebResult]:
    """Retrieve a study, series or instance into ``store``; yields one Progress per instance."""
    import httpx

    path = f"/studies/{study_uid}"
    if series_uid:
        path += f"/series/{series_uid}"
        if instance_uid:
            path += f"/instances/{instance_uid}"
    result = WebResult("wado", endpoint, parameters={"study_uid": study_uid,
                                                     "series_uid": series_uid,
                                                     "instance_uid": instance_uid})
    start = time.perf_counter()
    try:
        with endpoint.client() as client, client.stream(
                "GET", endpoint.base + path, headers={"Accept": WADO_ACCEPT}) as response:
            result.status = response.status_code
            result.content_type = response.headers.get("content-type", "")
            boundary = multipart.boundary_of(result.content_type)
            if response.status_code != 200 or not boundary:
                body = response.read()
                result.diagnosis = diagnose_response(response, body, "wado", "multipart/related")
                if result.diagnosis is None:
                    shown = result.content_type or "no content type"
                    result.diagnosis = Diagnosis(
                        "dicomweb-content-type",
                        f"WADO-RS answered {shown} without a multipart boundary",
                        ("the server does not support multipart retrieval",),
                        ("check the server's WADO-RS support",), {"HTTP status": str(result.status)})
                return result
            for _headers, data in multipart.iter_parts(response.iter_bytes(), boundary):
                try:
                    saved = _save_part(data, store)
                except Exception as exc:  # noqa: BLE001 - one bad part is reported, not fatal
                    result.failed.append({"part": len(result.files) + len(result.failed) + 1,
                                          "reason": f"{type(exc).__name__}: {exc}"})
                    continue
                result.files.append(str(saved))
                result.stored = len(result.files)  # written to the local store
                result.bytes += len(data)
                yield Progress(len(result.files), None, f"{len(result.files)} instances",
                               str(saved))
    except httpx.HTTPError as exc:
        result.diagnosis = diagnose_transport(exc, endpoint.base, _timeout_for(exc, endpoint),
                                              ca_file=endpoint.ca_file)
    finally:
        result.duration_ms = (time.perf_counter() - start) * 1000
    if result.failed and result.diagnosis is None:
        result.diagnosis = Diagnosis(
            "partial-wado" if result.files else "dicomweb-bad-part",
            f"WADO-RS: {len(result.failed)} part(s) could not be stored "
            f"({result.failed[0]['reason']})",
            ("the server sent a part that is not a DICOM instance",),
            ("retrieve the instance again", "check the server's log"), {})
    if not result.files and result.diagnosis is None:
        result.diagnosis = Diagnosis("dicomweb-empty", "WADO-RS returned no instance",
                                     ("the UIDs match nothing on the server",),
                                     ("search with QIDO-RS first",), {})
    return result


def _read_stow_answer(result: WebResult, body: bytes, sent: int) -> None:
    try:
        answer = json.loads(body) if body.strip() else {}
    except ValueError:
        answer = {}
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    refs = (answer.get("00081199") or {}).get("Value") or []
    failed = (answer.get("00081198") or {}).get("Value") or []
    result.stored = len(refs) if refs or failed else (sent if result.status == 200 else 0)
    for item in failed:
        reason = ((item.get("00081197") or {}).get("Value") or [None])[0]
        uid = ((item.get("00081155") or {}).get("Value") or [""])[0]
        result.failed.append({"sop_instance_uid": uid,
                              "reason": f"0x{int(reason):04X}" if reason is not None else ""})


def stow(endpoint: Endpoint, sources: Iterable, *, study_uid: str = ""
         ) -> Generator[Progress, None, WebResult]:
    """Store files (paths) or pydicom Datasets in one request; yields progress as parts go out."""
    from pydicom import Dataset

    items = list(sources)
    result = WebResult("stow", endpoint, parameters={"instances": len(items),
                                                     "study_uid": study_uid})
    progress: list[Progress] = []

    def parts():
        for index, item in enumerate(items, 1):
            if isinstance(item, Dataset):
                buffer = io.BytesIO()
                item.save_as(buffer, enforce_file_format=True)
                data = buffer.getvalue()
            else:
                data = Path(item).read_bytes()
            result.bytes += len(data)
            progress.append(Progress(index, len(items), f"sent {index}/{len(items)}"))
            yield data

    content_type, body = multipart.build(parts())
    response = _request(endpoint, result, "POST", "/studies" + (f"/{study_uid}" if study_uid
                                                                else ""),
                        content=body, headers={"Content-Type": content_type,
                                               "Accept": DICOM_JSON})
    if response is None:
        return result
    answer = response.content
    yield from progress
    if response.status_code in (200, 202, 409) and not is_html_type(result.content_type):
        _read_stow_answer(result, answer, len(items))
    if response.status_code in (202, 409) or result.failed:
        reasons = ", ".join(f"{f['sop_instance_uid'] or '?'} ({f['reason']})"
                            for f in result.failed[:5])
        result.diagnosis = Diagnosis(
            "partial-stow" if result.stored else "dicomweb-http-409",
            f"STOW-RS: {len(result.failed)} of {len(items)} instances refused",
            ("the server refused some instances (failure reason per instance in the evidence)",),
            ("read each failure reason (0xA7xx out of resources, 0xA9xx data set does not match "
             "SOP class, 0xC000 cannot understand)",),
            {"HTTP status": str(response.status_code), "refused": reasons})
    elif response.status_code != 200:
        result.diagnosis = diagnose_response(response, answer, "stow", "")
    return result


def is_html_type(content_type: str) -> bool:
    return "text/html" in content_type.lower()
