"""Reports on disk: data/reports/*.pdf with a sidecar JSON each, drafts, and the build pipeline."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pacs_console.core.models import Progress
from pacs_console.core.reports.model import Extras, VisitReport, extras_from_dict, extras_to_dict

SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class ReportFile:
    path: str
    visit_id: int | None
    visit_uuid: str
    site: str
    engineer: str
    created: str
    signed: bool
    timestamped: bool
    json_sha256: str
    pdf_sha256: str
    pages: int
    signer_fingerprint: str = ""
    report_number: str = ""

    @property
    def timestamp_pending(self) -> bool:
        return self.signed and not self.timestamped

    def to_dict(self) -> dict:
        return {**asdict(self), "timestamp_pending": self.timestamp_pending}


def reports_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "reports"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def draft_path(data_dir: Path, visit_id: int) -> Path:
    return reports_dir(data_dir) / "drafts" / f"visit-{int(visit_id)}.json"


def load_extras(data_dir: Path, visit_id: int) -> Extras:
    path = draft_path(data_dir, visit_id)
    if not path.exists():
        return Extras()
    try:
        return extras_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return Extras()  # a damaged draft is started again rather than blocking the report


def save_extras(data_dir: Path, visit_id: int, extras: Extras) -> Path:
    path = draft_path(data_dir, visit_id)
    _atomic_write(path, json.dumps(extras_to_dict(extras), ensure_ascii=False,
                                   indent=1).encode("utf-8"))
    return path


def sidecar_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.name + SIDECAR_SUFFIX)


def write_sidecar(record: ReportFile) -> None:
    _atomic_write(sidecar_path(Path(record.path)),
                  json.dumps(record.to_dict(), ensure_ascii=False, indent=1).encode("utf-8"))


def list_reports(data_dir: Path) -> list[ReportFile]:
    """Newest first, from the sidecars (no PDF is opened)."""
    found = []
    folder = reports_dir(data_dir)
    for meta in folder.glob("*.pdf" + SIDECAR_SUFFIX) if folder.exists() else ():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            data.pop("timestamp_pending", None)
            record = ReportFile(**data)
        except (OSError, ValueError, TypeError):
            continue
        if Path(record.path).exists():
            found.append(record)
    return sorted(found, key=lambda r: r.created, reverse=True)


def site_code(site: str) -> str:
    """'Tamale Teaching Hospital' -> 'TTH': the initials of the site's words, ASCII, at most 5."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", site).encode("ascii", "ignore").decode("ascii")
    words = [w for w in re.split(r"[^A-Za-z0-9]+", plain) if w]
    code = "".join(w[0] for w in words if w.lower() not in ("of", "the", "and"))[:5].upper()
    return code or "SITE"


def next_report_number(data_dir: Path, site: str, when: datetime) -> str:
    """SITE-YYYYMMDD-NN, NN counting the reports already kept for that site and day."""
    prefix = f"{site_code(site)}-{when:%Y%m%d}-"
    taken = {r.report_number for r in list_reports(data_dir) if r.report_number.startswith(prefix)}
    n = 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


def report_name(report: VisitReport) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report.site).strip("-").lower()[:40] or "site"
    visit = f"visit{report.visit_id}" if report.visit_id is not None else "sample"
    return f"{slug}-{visit}-{report.generated_at:%Y%m%d-%H%M%S}.pdf"


def build_report(report_source: Callable[[], VisitReport], data_dir: Path, secrets, *,
                 out: Path | None = None, register: bool = True, sign: bool = True,
                 engineer: str = "", organisation: str = "", tsa_url: str | None = None,
                 ask=None, logo: Path | None = None, notify=None, sample: bool = False
                 ) -> Generator[Progress, None, ReportFile]:
    """Gather, lay out, sign, save: a generator for the GUI's workers, driven plainly by the CLI.

    ``engineer`` and ``organisation`` come from the engineer profile and are the only source of
    the signer's identity: a visit's own data never names the signer. ``sample`` signs with a
    throw-away "SAMPLE - not a real signature" identity instead (no keyring, nothing stored).

    ``register`` keeps the report (and its sidecar) under data/reports so the panel lists it;
    ``out`` also writes it there. Closing the generator early leaves no half-written file.
    """
    from pacs_console.core.reports import sign as signing
    from pacs_console.core.reports.pdf import render_pdf

    if not register and out is None:
        raise ValueError("build_report needs out= when the report is not kept in data/reports")
    written: list[Path] = []
    done = False
    try:
        yield Progress(0, 4, "Gathering the visit's data")
        report = report_source()
        yield Progress(1, 4, "Laying out the report")
        rendered = render_pdf(report, logo=logo)
        fingerprint, timestamped = "", False
        if sign:
            from pacs_console.core.reports.certs import load_signer, sample_signer

            yield Progress(2, 4, "Signing")
            if sample:
                signer, info = sample_signer()
            else:
                signer, info = load_signer(data_dir, secrets, engineer=engineer,
                                           organisation=organisation, ask=ask, notify=notify)
            pdf, timestamped = signing.sign_report(
                rendered, signer, info, engineer=info.name, organisation=info.organisation,
                location=report.site,
                timestamper=signing.timestamper_for(tsa_url))
            fingerprint = info.fingerprint_sha256
        else:
            pdf = signing.unsigned_pdf(rendered)
        yield Progress(3, 4, "Saving")
        target = reports_dir(data_dir) / report_name(report) if register else Path(out)
        _atomic_write(target, pdf)
        written.append(target)
        record = ReportFile(str(target), report.visit_id, report.visit_uuid, report.site,
                            report.engineer, datetime.now(UTC).isoformat(), sign, timestamped,
                            rendered.sha256, hashlib.sha256(pdf).hexdigest(), rendered.pages,
                            fingerprint, report.report_number)
        if register:
            write_sidecar(record)
            written.append(sidecar_path(target))
            if out is not None and Path(out).resolve() != target.resolve():
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(target, out)
        yield Progress(4, 4, "Done")
        done = True
        return record
    finally:
        if not done:
            for path in written:
                path.unlink(missing_ok=True)


def handed_over_heads(data_dir: Path) -> list[tuple[str, dict]]:
    """(report name, audit head) of every signed report kept here, read from the visit data
    attached inside each PDF (the signed copy, not the sidecar)."""
    from pacs_console.core.reports.verify import attached_json

    heads = []
    for record in list_reports(data_dir):
        if not record.signed:
            continue
        data = attached_json(Path(record.path))
        if isinstance(data, dict) and isinstance(data.get("audit_head"), dict):
            heads.append((f"signed report {Path(record.path).name}", data["audit_head"]))
    return heads


def timestamp_pending(data_dir: Path, timestamper) -> Generator[Progress, None, int]:
    """The sync hook: add a document timestamp to every signed report that has none yet."""
    from dataclasses import replace

    from pacs_console.core.reports.sign import add_document_timestamp

    pending = [r for r in list_reports(data_dir) if r.timestamp_pending]
    for n, record in enumerate(pending):
        yield Progress(n, len(pending), f"Timestamping {Path(record.path).name}")
        add_document_timestamp(Path(record.path), timestamper)
        pdf_hash = hashlib.sha256(Path(record.path).read_bytes()).hexdigest()
        write_sidecar(replace(record, timestamped=True, pdf_sha256=pdf_hash))
    return len(pending)
