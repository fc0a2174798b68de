"""Primary vs disaster-recovery copy: one study-level C-FIND on each archive over a date range;
studies on one side only, series/instance count mismatches, the replication gap in studies and
in hours. The two queries start apart (politeness) so a production PACS is not loaded.

Every caller (CLI, GUI, benchmark) runs ``run_dr_compare``, which resolves the address-book
names and keeps the report as evidence; ``compare_listings`` is the pure comparison.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from datetime import datetime

from pacs_console.core.health.archive import Pacer, address_book_node, list_studies
from pacs_console.core.models import Progress

COMPARE_KIND = "archive-compare"
MAX_SAVED_UIDS = 500  # per list in the evidence; the counts are always whole
COUNT_KEYS = ("NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances")
COUNT_NAMES = {"NumberOfStudyRelatedSeries": "series", "NumberOfStudyRelatedInstances": "instances"}


def _when(study: dict) -> datetime | None:
    date, clock = study.get("StudyDate") or "", (study.get("StudyTime") or "000000")[:6]
    try:
        return datetime.strptime(date + clock.ljust(6, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def compare_listings(primary_rows: list[dict], dr_rows: list[dict], date_from: str,
                     date_to: str) -> dict:
    """The report for two study-level listings (JSON-ready; ``checks`` one row per finding)."""
    left = {s.get("StudyInstanceUID", ""): s for s in primary_rows}
    right = {s.get("StudyInstanceUID", ""): s for s in dr_rows}
    only_primary = sorted(set(left) - set(right))
    only_dr = sorted(set(right) - set(left))
    mismatches = []
    for uid in sorted(set(left) & set(right)):
        for key in COUNT_KEYS:
            a, b = left[uid].get(key, ""), right[uid].get(key, "")
            if a and b and a != b:
                mismatches.append({"study_uid": uid, "what": key, "primary": a, "dr": b})
    newest_primary = max((t for t in map(_when, left.values()) if t), default=None)
    replicated = [t for t in (_when(left[u]) for u in set(left) & set(right)) if t]
    newest_dr = max(replicated, default=None)
    gap_hours = None  # also when the DR copy holds none of the studies: no point to count from
    if newest_primary and newest_dr and only_primary:
        gap_hours = round((newest_primary - newest_dr).total_seconds() / 3600, 2)
    checks = [{"node": "DR", "check": "missing-on-dr", "study_uid": u, "result": "fail",
               "diagnosis": None} for u in only_primary]
    checks += [{"node": "primary", "check": "missing-on-primary", "study_uid": u,
                "result": "warn", "diagnosis": None} for u in only_dr]
    checks += [{"node": "DR", "check": "count-mismatch", "result": "fail", "diagnosis": None, **m}
               for m in mismatches]
    return {"from": date_from, "to": date_to, "primary_studies": len(left),
            "dr_studies": len(right), "only_on_primary": only_primary, "only_on_dr": only_dr,
            "count_mismatches": mismatches, "replication_gap_studies": len(only_primary),
            "replication_gap_hours": gap_hours, "checks": checks,
            "result": "fail" if only_primary or mismatches else "warn" if only_dr else "pass"}


def dr_compare(primary, dr, date_from: str, date_to: str
               ) -> Generator[Progress, None, dict]:
    """Both listings (primary first, a pause between), then the comparison."""
    date_range = f"{date_from}-{date_to}"
    started = time.perf_counter()
    pacer = Pacer()
    yield Progress(0, 2, f"Listing the studies of {primary.label}")
    pacer.wait()
    left = yield from list_studies(primary, date_range)
    pacer.wait()
    yield Progress(1, 2, f"{len(left)} studies on the primary; listing the DR copy {dr.label}")
    right = yield from list_studies(dr, date_range)
    yield Progress(2, 2, f"{len(right)} studies on the DR copy; comparing")
    report = compare_listings(left, right, date_from, date_to)
    report["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


def summary(report: dict) -> str:
    return (f"DR comparison {report['from']}-{report['to']}: {len(report['only_on_primary'])} "
            f"missing on DR, {len(report['count_mismatches'])} count mismatches")


def finding_rows(report: dict) -> list[tuple[str, str, str, str]]:
    """(finding, study UID, primary, DR) for each difference, as an engineer reads them."""
    rows = [("Missing on DR", uid, "present", "absent") for uid in report["only_on_primary"]]
    rows += [("Only on DR", uid, "absent", "present") for uid in report["only_on_dr"]]
    rows += [(f"Count mismatch ({COUNT_NAMES.get(m['what'], m['what'])})", m["study_uid"],
              str(m["primary"]), str(m["dr"])) for m in report["count_mismatches"]]
    return rows


def _bounded(report: dict) -> dict:
    metrics = {k: v for k, v in report.items() if k != "checks"}
    for key in ("only_on_primary", "only_on_dr", "count_mismatches"):
        metrics[f"{key}_count"] = len(report[key])
        metrics[key] = report[key][:MAX_SAVED_UIDS]
    return metrics


def save_dr_compare(db, primary_name: str, dr_name: str, report: dict,
                    node_id: int | None = None) -> str:
    """Kept as evidence (kind 'archive-compare'): History, incidents, the visit report."""
    from pacs_console.core.db.testruns import save_test_run

    run = save_test_run(db, kind=COMPARE_KIND, node_id=node_id,
                        node_label=f"{primary_name} vs {dr_name}",
                        summary=summary(report),
                        outcome={"pass": "ok", "warn": "warning"}.get(report["result"], "failed"),
                        parameters={"primary": primary_name, "dr": dr_name,
                                    "from": report["from"], "to": report["to"]},
                        duration_ms=report.get("duration_ms", 0.0),
                        metrics=_bounded(report))
    return run.uuid


def run_dr_compare(db, settings, primary_name: str, dr_name: str, date_from: str, date_to: str,
                   *, save: bool = True) -> Generator[Progress, None, dict]:
    """Compare the address-book nodes ``primary_name`` and ``dr_name``; keep it as evidence."""
    from pacs_console.core.dicom.wire.target import Target

    primary = address_book_node(db, primary_name)
    dr = address_book_node(db, dr_name)
    report = yield from dr_compare(Target.from_node(primary, settings),
                                   Target.from_node(dr, settings), date_from, date_to)
    if save:
        save_dr_compare(db, primary_name, dr_name, report, node_id=primary.id)
    return report
