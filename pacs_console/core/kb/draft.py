"""From resolution to article: an incident's title, symptoms, codes, vendor and fix as a draft."""

from __future__ import annotations

import re
from dataclasses import replace

from pacs_console.core.db.engine import Database
from pacs_console.core.kb.model import Article, valid_codes
from pacs_console.core.kb.store import create_article, update_article

_STATUS_CODE_RE = re.compile(r"^0x[0-9A-Fa-f]{4}$")


def diagnosis_codes(diagnosis: dict | None) -> list[str]:
    """The codes a saved diagnosis carries: its own code and any DIMSE status in its evidence."""
    diagnosis = diagnosis or {}
    codes = [diagnosis.get("code", "")]
    for value in (diagnosis.get("evidence") or {}).values():
        # DIMSE statuses such as 0xA801 are codes engineers search by, too.
        if isinstance(value, str) and _STATUS_CODE_RE.match(value.strip()):
            codes.append(value.strip())
    return valid_codes(codes)


def association_vendor(association: dict | None) -> tuple[str, str]:
    """(vendor, product) from a saved association report's fingerprint; '' when unknown."""
    fp = (association or {}).get("fingerprint") or {}
    vendor, product = fp.get("vendor", ""), fp.get("product", "")
    return ("" if vendor == "unknown" else vendor), ("" if product == "unknown" else product)


def draft_from_incident(db: Database, ref: int | str, *, author: str = "") -> Article:
    """Pre-filled from the incident: its runs' diagnosis codes and fingerprints, its nodes'
    vendor, the notes as steps and the resolving status note as the fix. Not saved."""
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.db.testruns import get_test_run
    from pacs_console.core.incidents.evidence import attachments
    from pacs_console.core.incidents.service import get_incident, timeline

    record = get_incident(db, ref)
    entries = timeline(db, record.id)
    run_ids = [e.test_run_id for e in entries if e.test_run_id]
    if record.source_test_run_id:
        run_ids.insert(0, record.source_test_run_id)
    codes, vendor, model = [], "", ""
    for run_id in dict.fromkeys(run_ids):
        run = get_test_run(db, run_id)
        if run is None:
            continue
        codes += diagnosis_codes(run.diagnosis)
        v, m = association_vendor(run.association)
        vendor, model = vendor or v, model or m
    if not vendor:
        for node_id, _label in record.nodes:
            node = get_node(db, str(node_id)) if node_id else None
            fp = ((node.capabilities or {}).get("fingerprint") or {}) if node else {}
            if fp.get("vendor") and fp["vendor"] != "unknown":
                vendor, model = fp["vendor"], model or fp.get("product", "")
                break
    steps = [e.text for e in entries if e.kind == "note" and e.text.strip()]
    fixes = [e.text.split("\n", 1)[1] for e in entries
             if e.kind == "status" and e.to_status in ("resolved", "closed") and "\n" in e.text]
    nodes = ", ".join(label for _, label in record.nodes)
    symptoms = record.description.strip() or record.title
    if nodes:
        symptoms += f"\nNodes: {nodes}"
    return Article(title=record.title, symptoms=symptoms,
                   body="\n".join(f"- {s}" for s in steps), fix="\n".join(fixes).strip(),
                   codes=tuple(dict.fromkeys(codes)), vendor=vendor, model=model,
                   attachments=tuple(a.filename for a in attachments(db, record.id)),
                   author=author, site=record.site_name or "", incident_uuid=record.uuid)


def existing_for_incident(db: Database, incident_uuid: str) -> Article | None:
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT id FROM kb_article WHERE incident_uuid = ? ORDER BY id LIMIT 1",
            (incident_uuid,)).first()
    if row is None:
        return None
    from pacs_console.core.kb.store import get_article

    return get_article(db, row[0])


def save_from_incident(db: Database, ref: int | str, *, author: str = "", **overrides) -> Article:
    """Save (or refresh, never duplicate) the article for one incident; overrides win over
    the draft's fields (e.g. a title or fix the engineer typed in the close dialog)."""
    draft = draft_from_incident(db, ref, author=author)
    overrides = {k: v for k, v in overrides.items() if v not in (None, "")}
    if "codes" in overrides:
        overrides["codes"] = tuple(overrides["codes"])
    article = replace(draft, **overrides)
    existing = existing_for_incident(db, draft.incident_uuid)
    if existing is None:
        return create_article(db, article)
    fields = {name: getattr(article, name) for name in (
        "title", "symptoms", "body", "cause", "fix", "codes", "vendor", "model", "attachments",
        "site")}
    return update_article(db, existing.id, **fields)


def suggest_for_incident(db: Database, ref: int | str, *, limit: int = 5) -> list:
    """Known fixes for an open incident: its runs' codes and its nodes' vendor, best first,
    leaving out the incident's own article."""
    from pacs_console.core.kb.store import suggest

    draft = draft_from_incident(db, ref)
    found = suggest(db, draft.codes, draft.vendor or None, limit=limit + 1)
    return [s for s in found if s.article.incident_uuid != draft.incident_uuid][:limit]
