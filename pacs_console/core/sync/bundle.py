"""Log bundle: logs, test runs, reports, de-identified images; manifest, checksums, no patient
data (PDFs only when asked, and then listed in the manifest as containing it)."""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Generator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pacs_console import __version__
from pacs_console.core import phi
from pacs_console.core.db.engine import Database
from pacs_console.core.models import Progress

DEFAULT_LIMIT = 50 * 1024 * 1024
PDF_LEFT_OUT = "PDF may name patients: left out (add it with --include-pdfs)"
TEXT_SUFFIXES = {".log", ".txt", ".json", ".csv", ".xml", ".html", ".md", ".ini", ".cfg",
                 ".hl7", ""}


def scrub_text(text: str) -> str:
    """Patient data out of a text file: JSON structurally, anything else line by line."""
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        return phi.redact_json_text(text)
    return phi.redact_text(text)


scrub_json = phi.redact_json


@dataclass
class BundleResult:
    path: Path
    size: int = 0
    files: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    contains_phi: list[str] = field(default_factory=list)  # entries the engineer chose to add

    def to_dict(self) -> dict:
        return {"path": str(self.path), "size": self.size, "files": self.files,
                "skipped": self.skipped, "warnings": self.warnings,
                "contains_phi": self.contains_phi}


class _Writer:
    """Adds entries while keeping the zip under the limit; records checksums for the manifest."""

    def __init__(self, archive: zipfile.ZipFile, limit: int, result: BundleResult) -> None:
        self.archive, self.limit, self.result, self.used = archive, limit, result, 0

    def add(self, name: str, data: bytes, source: str) -> bool:
        # Checked on the uncompressed size: the limit then holds whatever compression gives.
        if self.used + len(data) > self.limit:
            self.result.skipped.append({"name": name, "size": len(data),
                                        "reason": "size limit"})
            return False
        self.archive.writestr(name, data)
        self.used += len(data)
        self.result.files.append({"name": name, "size": len(data), "source": source,
                                  "sha256": hashlib.sha256(data).hexdigest()})
        return True


def _text_file(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES or path.name.endswith(tuple(
        f".log.{n}" for n in range(1, 100)))


def build_bundle(db: Database, out: Path, *, logs_dir: Path | None = None,
                 test_run_ids: Sequence[int] = (), reports: Sequence[Path] = (),
                 images: Sequence[Path] = (), limit: int = DEFAULT_LIMIT,
                 note: str = "", include_pdfs: bool = False
                 ) -> Generator[Progress, None, BundleResult]:
    """Write ``out`` (a .zip). Text is scrubbed, DICOM goes through the de-identified export,
    PDFs only with ``include_pdfs`` (then listed in the manifest as containing patient data),
    anything else is left out. Entries past ``limit`` bytes are skipped and listed."""
    from pacs_console.core.db.testruns import get_test_run

    out.parent.mkdir(parents=True, exist_ok=True)
    result = BundleResult(out)
    partial = out.with_name(out.name + ".partial")
    steps = len(test_run_ids) + len(reports) + len(images) + 2
    done = 0
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            writer = _Writer(archive, limit, result)
            for path in sorted(logs_dir.glob("*")) if logs_dir and logs_dir.is_dir() else ():
                if path.is_file() and _text_file(path):
                    text = path.read_text(encoding="utf-8", errors="replace")
                    writer.add(f"logs/{path.name}", scrub_text(text).encode(), "log")
            done += 1
            yield Progress(done, steps, "Logs added")
            for run_id in test_run_ids:
                run = get_test_run(db, run_id)
                if run is None:
                    result.warnings.append(f"test run {run_id} not found")
                else:
                    data = scrub_json(json.loads(json.dumps(asdict(run), default=str)))
                    writer.add(f"test-runs/{run.kind}-{run.uuid}.json",
                               json.dumps(data, indent=2).encode(), "test-run")
                done += 1
                yield Progress(done, steps, f"Test run {run_id} added")
            for path in map(Path, reports):
                if _text_file(path):
                    data = scrub_text(path.read_text(encoding="utf-8", errors="replace")).encode()
                elif path.suffix.lower() == ".pdf" and not include_pdfs:
                    # Visit reports name the incidents' patients and cannot be scrubbed.
                    result.skipped.append({"name": path.name, "reason": PDF_LEFT_OUT})
                    continue
                elif path.suffix.lower() == ".pdf":
                    data = path.read_bytes()
                    result.contains_phi.append(f"reports/{path.name}")
                else:
                    result.skipped.append({"name": path.name, "reason": "not a text or PDF file"})
                    continue
                writer.add(f"reports/{path.name}", data, "report")
                done += 1
                yield Progress(done, steps, f"Report {path.name} added")
            if images:
                yield from _add_images(writer, result, images)
            manifest = {"created_at": datetime.now(UTC).isoformat(), "app": "pacs-console",
                        "version": __version__, "note": scrub_text(note),
                        "limit_bytes": limit, "files": result.files, "skipped": result.skipped,
                        "contains_phi": result.contains_phi,
                        "warnings": result.warnings}
            sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in result.files)
            archive.writestr("SHA256SUMS", sums)
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    result.size = out.stat().st_size
    yield Progress(steps, steps, f"Bundle written: {result.size} bytes")
    return result


def _add_images(writer: _Writer, result: BundleResult, images: Sequence[Path]):
    try:
        from pacs_console.core.imaging.deid import export_deid
    except ImportError:
        result.warnings.append("de-identification is not available: images left out")
        return
    with tempfile.TemporaryDirectory(prefix="bundle-deid-") as temp:
        report = yield from export_deid([str(p) for p in images], temp)
        result.warnings.extend(report.warnings)
        for source, error in report.failed:
            result.skipped.append({"name": Path(source).name, "reason": f"not exported: {error}"})
        for path in report.written:
            name = "images/" + Path(path).relative_to(temp).as_posix()
            writer.add(name, Path(path).read_bytes(), "deidentified-image")


def verify_bundle(path: Path) -> list[str]:
    """Problems found: entries whose checksum does not match the manifest (empty: all good)."""
    problems = []
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            if hashlib.sha256(archive.read(entry["name"])).hexdigest() != entry["sha256"]:
                problems.append(f"{entry['name']}: checksum mismatch")
    return problems


def attach_bundle(db: Database, attachments_dir: Path, incident: int | str, bundle: Path, *,
                  actor: str = ""):
    """Attach the bundle to an incident: it reaches the helpdesk through the outbox."""
    from pacs_console.core.incidents.evidence import attach_file

    return attach_file(db, attachments_dir, incident, bundle, actor=actor,
                       media_type="application/zip")
