"""Evidence on an incident: files in a content-addressed store, drafts from failed test runs."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import Attachment
from pacs_console.core.incidents import audit
from pacs_console.core.incidents.model import AttachmentRecord, aware, invalid
from pacs_console.core.incidents.service import add_entry, find_incident


def attachment_path(attachments_dir: Path, sha256: str) -> Path:
    return attachments_dir / sha256[:2] / sha256


def attach_file(db: Database, attachments_dir: Path, ref: int | str, source: Path, *,
                actor: str = "", media_type: str | None = None,
                what: str = "") -> AttachmentRecord:
    """Copy a screenshot, log or DICOM file into the content-addressed store and attach it
    (``what``: said in the timeline entry, after the name and size)."""
    source = Path(source)
    if not source.is_file():
        raise invalid("attachment-missing", f"{source} is not a readable file",
                      "Check the path", path=str(source))
    attachments_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temp = tempfile.mkstemp(dir=attachments_dir, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        target = attachment_path(attachments_dir, digest.hexdigest())
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            os.unlink(temp)
        else:
            shutil.move(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    kind = media_type or mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        item = Attachment(incident_id=incident.id, sha256=digest.hexdigest(),
                          filename=source.name, media_type=kind, size=size)
        session.add(item)
        session.flush()
        audit.record(session, actor=actor, action="create", entity="attachment",
                     entity_id=item.id, after=audit.state_digest(session, "attachment", item.id),
                     detail={"sha256": item.sha256, "filename": item.filename})
        add_entry(session, incident, "attachment", actor, f"Attached {source.name} ({size} bytes)" + (f": {what}" if what else ""),
               attachment_id=item.id)
        return AttachmentRecord(item.id or 0, incident.id or 0, item.sha256, item.filename,
                                item.media_type, item.size, aware(item.added_at))


def attach_timeline(db: Database, attachments_dir: Path, ref: int | str, name: str,
                    document: bytes, *, actor: str = "") -> AttachmentRecord:
    """Attach a relay trace's or capture's redacted timeline (``core.relay.evidence``)."""
    from pacs_console.core.relay.evidence import NOTE

    with tempfile.TemporaryDirectory(prefix="timeline-") as folder:
        path = Path(folder) / name
        path.write_bytes(document)
        return attach_file(db, attachments_dir, ref, path, actor=actor,
                           media_type="application/json", what=NOTE)


def attach_trace(db: Database, attachments_dir: Path, ref: int | str, source: Path, *,
                 actor: str = "") -> AttachmentRecord:
    """A relay trace or pcap/pcapng capture, attached as its redacted decoded timeline: the raw
    bytes hold patient data and are never copied."""
    from pacs_console.core.relay.capture import CaptureError
    from pacs_console.core.relay.evidence import timeline_name, timeline_of

    source = Path(source)
    try:
        document = timeline_of(source)
    except (CaptureError, OSError) as exc:
        raise invalid("trace-unreadable", f"{source.name} cannot be decoded as a trace: {exc}",
                      "Check the file with `pacs-console trace FILE`", path=str(source)) from exc
    return attach_timeline(db, attachments_dir, ref, timeline_name(source.name), document,
                           actor=actor)


def attachments(db: Database, ref: int | str) -> list[AttachmentRecord]:
    with db.session() as session:
        incident = find_incident(session, ref)
        rows = session.exec(select(Attachment).where(Attachment.incident_id == incident.id)
                            .order_by(Attachment.id))
        return [AttachmentRecord(a.id or 0, a.incident_id, a.sha256, a.filename, a.media_type,
                                 a.size, aware(a.added_at)) for a in rows]


@dataclass(frozen=True)
class IncidentDraft:
    """What a failed test run pre-fills in a new incident."""

    title: str
    description: str
    category: str
    severity: str
    nodes: tuple[int, ...]
    test_run_id: int


_CATEGORY_HINTS = (("tls", "security"), ("certificate", "security"), ("refused", "network"),
                   ("timeout", "network"), ("resolve", "network"), ("route", "network"),
                   ("associate", "modality"), ("ae", "modality"), ("store", "storage"),
                   ("move", "storage"), ("get", "storage"), ("worklist", "integration"))


def draft_from_test_run(db: Database, run_id: int | str) -> IncidentDraft:
    from pacs_console.core.db.testruns import get_test_run

    run = get_test_run(db, run_id)
    if run is None:
        raise invalid("test-run-unknown", f"No test run {run_id}",
                      "Pick one from the Tests panel's history")
    diagnosis = run.diagnosis or {}
    clue = f"{diagnosis.get('code', '')} {run.kind}".lower()
    category = next((c for hint, c in _CATEGORY_HINTS if hint in clue), "other")
    what = diagnosis.get("what") or run.summary or run.outcome
    lines = [f"{run.kind} against {run.node_label} at {run.started_at:%Y-%m-%d %H:%M} UTC: "
             f"{run.outcome}"]
    for key in ("causes", "actions"):
        if diagnosis.get(key):
            lines.append(f"{key.capitalize()}: " + "; ".join(diagnosis[key]))
    return IncidentDraft(f"{run.node_label or 'Node'}: {what}"[:200], "\n".join(lines), category,
                         "high", (run.node_id,) if run.node_id else (), run.id)
