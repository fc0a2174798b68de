"""The report sections "Archive integrity" (spot-checks) and "DR comparison" (primary vs DR)."""

from __future__ import annotations

from pacs_console.core.reports.model import VisitReport
from pacs_console.core.reports.sections import facts, grid, p, per_run, when

MAX_ROWS = 60  # differences printed per run; the count says how many there were


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def archive_integrity(r: VisitReport, width: float) -> list:
    return per_run("Archive integrity", r.archive_checks, lambda run: _archive_run(run, width),
                   intro=("A random sample of studies, spread over years and modalities: for "
                          "each, the counts at study and image level agree, every instance "
                          "arrives (C-GET), decodes, and matches the checksum of its pixel data "
                          "from the last check."))


def dr_comparison(r: VisitReport, width: float) -> list:
    return per_run("DR comparison", r.dr_compares, lambda run: _dr_run(run, width),
                   intro=("The primary archive and its disaster-recovery copy, one study-level "
                          "query on each for the dates: studies on one side only, series and "
                          "instance counts that differ, and how far the copy is behind."))


def _archive_run(run, width: float) -> list:
    out = [p(f"{run.node}, {when(run.at)}: {run.result.upper()}", "H2")]
    scope = f"{run.sampled} of {run.population} studies sampled" if run.sampled else ""
    if run.since:
        scope += f", studies since {_date(run.since)}"
    out.append(p(run.summary + (f". {scope[0].upper()}{scope[1:]}." if scope else "")))
    if run.findings:
        rows = [[result.upper(), uid, when_what, text]
                for result, uid, when_what, text in run.findings[:MAX_ROWS]]
        out.append(grid(["Result", "Study Instance UID", "Year / modality", "Findings"], rows,
                        (0.09, 0.37, 0.14, 0.4), width))
    else:
        out.append(p("Every sampled study passed."))
    return out


def _dr_run(run, width: float) -> list:
    out = [p(f"{run.primary} vs {run.dr}, {when(run.at)}: {run.result.upper()}", "H2")]
    gap = ("none: every study of the primary is on the DR copy" if not run.missing_on_dr
           else f"{run.missing_on_dr} studies" + (
               f", {run.gap_hours:g} h behind the primary's newest study"
               if run.gap_hours is not None else ""))
    out.append(facts([
        ("Studies dated", f"{_date(run.date_from)} to {_date(run.date_to)}"),
        ("Studies", f"primary {run.primary_studies}, DR copy {run.dr_studies}"),
        ("Missing on DR", str(run.missing_on_dr)),
        ("Only on DR", str(run.only_on_dr)),
        ("Count mismatches", str(run.count_mismatches)),
        ("Replication gap", gap)], width))
    if run.findings:
        rows = [list(f) for f in run.findings[:MAX_ROWS]]
        out.append(grid(["Finding", "Study Instance UID", "Primary", "DR"], rows,
                        (0.26, 0.46, 0.14, 0.14), width))
        total = run.missing_on_dr + run.only_on_dr + run.count_mismatches
        if total > min(len(run.findings), MAX_ROWS):
            out.append(p(f"… {total - min(len(run.findings), MAX_ROWS)} more differences in "
                         "the attached data and in History.", "Small"))
    return out
