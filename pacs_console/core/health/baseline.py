"""Upgrade validation: a named snapshot of a site before the vendor's upgrade, the same taken
after, and every difference with its severity (PASS only when nothing regressed).

A snapshot holds per node: the capability matrix (SOP classes x transfer syntaxes accepted),
the implementation identity, study counts for a fixed date range, the worklist count, the
C-ECHO p95, the pixel checksums of a known study (``retrieve_study_uid``), the QIDO-RS study
count of a DICOMweb node and the ACK code an HL7 test interface
gives a test ADT (only with consent in the plan). The date range is recorded with the baseline,
so the comparison asks the same.
"""

from __future__ import annotations

import statistics
from collections.abc import Generator
from datetime import UTC, datetime, timedelta

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.health.model import FAIL, PASS, WARN, CheckResult
from pacs_console.core.health.plan import Plan
from pacs_console.core.models import Progress, drain

BASELINE_KIND = "health-baseline"
VALIDATION_KIND = "health-validation"
SLOWER_PCT, SLOWER_MS = 50.0, 20.0


def _count(target, model: str, keys: dict) -> int | None:
    from pacs_console.core.dicom.ops.query import find

    try:
        result = drain(find(target, "STUDY", keys, model=model, limit=100_000))
    except ConsoleError:
        return None
    return result.count if result.outcome != "failed" else None


MAX_NAMES = 50  # non-ASCII patient names kept per node: the character-set sample


def _studies(target, date_range: str, watch=()) -> tuple[int | None, dict]:
    """The study count for ``date_range`` and how the answers' text decodes: the patient names
    that are not plain ASCII (at most MAX_NAMES, and those of the ``watch`` studies) with the
    Specific Character Set (0008,0005) each of those answers declared, how many answers
    declared which, and the character set the console had to assume for answers that declared
    none. Names are kept as digests (patient data never sits in evidence), with the non-ASCII
    characters they held."""
    import hashlib

    from pacs_console.core.dicom.ops.query import find

    names: dict[str, str] = {}
    declared: dict[str, str] = {}  # study UID -> its answer's Specific Character Set
    chars: set[str] = set()
    watch = set(watch)
    steps = find(target, "STUDY", {"date": date_range}, limit=100_000, charset=True)
    try:
        while True:
            row = next(steps)
            uid, name = row.get("StudyInstanceUID", ""), row.get("PatientName", "")
            if uid in watch or (not name.isascii() and len(names) < MAX_NAMES):
                names[uid] = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
                declared[uid] = row.get("SpecificCharacterSet", "")
                chars.update(c for c in name if not c.isascii())
    except StopIteration as stop:
        result = stop.value
    except ConsoleError:
        return None, {}
    if result.outcome == "failed":
        return None, {}
    return result.count, {"assumed": result.charset_assumed, "names": names,
                          "declared": declared, "declared_counts": result.charsets_declared,
                          "characters": "".join(sorted(chars))}


def _node_snapshot(target, node_plan, date_range: str, run=None, watch=()) -> dict:
    snapshot = _dicom_snapshot(target, node_plan, date_range, watch) \
        if "echo" in node_plan.checks else {"reachable": True}
    if run is not None and "dicomweb" in node_plan.checks:
        from pacs_console.core.health.checks import qido_studies

        try:
            result = qido_studies(run, date_range, 100_000)
            snapshot["qido_studies"] = len(result.matches) if result.ok else None
        except ConsoleError:
            snapshot["qido_studies"] = None
    if node_plan.retrieve_study_uid and snapshot.get("reachable"):
        from pacs_console.core.health.archive import study_digests

        _result, digests = study_digests(target, node_plan.retrieve_study_uid)
        snapshot["study_checksums"] = digests
    if run is not None and "hl7" in node_plan.checks and node_plan.allow_hl7:
        from pacs_console.core.health.checks import hl7

        snapshot["hl7_ack"] = hl7(run).metrics.get("ack_code")
    return snapshot


def _dicom_snapshot(target, node_plan, date_range: str, watch=()) -> dict:
    from pacs_console.core.dicom.ops.echo import echo_target
    from pacs_console.core.dicom.ops.probe import probe

    echoes = [echo_target(target) for _ in range(5)]
    ok = [e for e in echoes if e.ok]
    if not ok:
        return {"reachable": False, "diagnosis": echoes[-1].diagnosis.to_dict()
                if echoes[-1].diagnosis else None}
    times = sorted(e.total_ms or 0.0 for e in ok)
    peer = (ok[0].association or {}).get("peer", {})
    matrix = drain(probe(target, storage=True))
    snapshot = {"reachable": True,
                "implementation": {k: peer.get(k) for k in (
                    "implementation_class_uid", "implementation_version_name", "max_pdu")},
                "capabilities": {uid: sorted(e["transfer_syntaxes"])
                                 for uid, e in matrix.accepted.items()},
                "names": {uid: e["name"] for uid, e in matrix.accepted.items()},
                "echo_p95_ms": round(times[-1] if len(times) < 2 else
                                     statistics.quantiles(times, n=20, method="inclusive")[-1], 3)}
    if "find" in node_plan.checks:
        snapshot["studies"], snapshot["charset"] = _studies(target, date_range, watch)
    if "worklist" in node_plan.checks:
        snapshot["worklist"] = _count(target, "worklist", {"station_ae": node_plan.station_ae}
                                      if node_plan.station_ae else {})
    return snapshot


def take_snapshot(db, settings, plan: Plan, *, date_range: str | None = None, secrets=None,
                  baseline: dict | None = None) -> Generator[Progress, None, dict]:
    """``baseline``: the snapshot this one is compared with (its date range is asked again and
    the names of its character-set sample are read again)."""
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.dicom.wire.target import Target

    today = datetime.now(UTC).date()
    if baseline is not None:
        date_range = baseline["date_range"]
    date_range = date_range or f"{today - timedelta(days=365):%Y%m%d}-{today:%Y%m%d}"
    nodes = {n.name: n for n in list_nodes(db)}
    out = {"site": plan.site, "taken_at": datetime.now(UTC).isoformat(),
           "date_range": date_range, "nodes": {}}
    for n, node_plan in enumerate(plan.nodes):
        yield Progress(n, len(plan.nodes), f"Snapshot of {node_plan.node}")
        from pacs_console.core.health.checks import NodeRun

        node = nodes[node_plan.node]
        target = Target.from_node(node, settings)
        run = NodeRun(node, target, node_plan, plan.thresholds, secrets=secrets)
        watch = (((baseline or {}).get("nodes", {}).get(node_plan.node) or {}).get("charset")
                 or {}).get("names", {})
        out["nodes"][node_plan.node] = _node_snapshot(target, node_plan, date_range, run, watch)
    yield Progress(len(plan.nodes), len(plan.nodes), "Snapshot taken")
    return out


def save_baseline(db, name: str, snapshot: dict) -> str:
    from pacs_console.core.db.testruns import save_test_run

    reachable = sum(1 for s in snapshot["nodes"].values() if s.get("reachable"))
    run = save_test_run(db, kind=BASELINE_KIND, outcome="ok" if reachable else "failed",
                        node_label=f"site:{snapshot['site']}",
                        parameters={"site": snapshot["site"], "name": name},
                        summary=f"Baseline {name!r} of {snapshot['site']}: {reachable} of "
                                f"{len(snapshot['nodes'])} node(s) answered",
                        metrics=snapshot)
    return run.uuid


def load_baseline(db, site: str, name: str) -> dict:
    from pacs_console.core.db.testruns import list_test_runs

    for run in list_test_runs(db, kind=BASELINE_KIND, limit=1000):
        if run.parameters.get("site") == site and run.parameters.get("name") == name:
            return run.metrics
    raise ConsoleError(Diagnosis(
        "health-baseline-unknown", f"No baseline {name!r} for {site}",
        ("It was never recorded on this laptop, or under another name",),
        (f"Record it before the upgrade: pacs-console health {site!r} --baseline {name}",)))


def list_baselines(db, site: str) -> list[str]:
    """Names of the baselines recorded for ``site``, newest first."""
    from pacs_console.core.db.testruns import list_test_runs

    names = [run.parameters.get("name", "") for run in list_test_runs(db, kind=BASELINE_KIND,
                                                                      limit=1000)
             if run.parameters.get("site") == site]
    return list(dict.fromkeys(n for n in names if n))


def record_baseline(db, settings, plan: Plan, name: str, *, secrets=None
                    ) -> Generator[Progress, None, tuple[dict, str]]:
    """Take the snapshot and keep it as baseline ``name``: (the snapshot, its run id)."""
    snapshot = yield from take_snapshot(db, settings, plan, secrets=secrets)
    return snapshot, save_baseline(db, name, snapshot)


def validate(db, settings, plan: Plan, name: str, *, secrets=None, save: bool = True
             ) -> Generator[Progress, None, tuple[dict, object]]:
    """The post-upgrade validation against baseline ``name``: (the baseline, a HealthRun whose
    results are the comparison rows). ConsoleError when there is no such baseline."""
    from pacs_console.core.health.model import HealthRun

    before = load_baseline(db, plan.site, name)
    after = yield from take_snapshot(db, settings, plan, secrets=secrets, baseline=before)
    health = HealthRun(plan.site, datetime.fromisoformat(after["taken_at"]),
                       results=compare_snapshots(before, after, plan.thresholds.p95_increase_pct),
                       finished_at=datetime.now(UTC))
    if save:
        health.run_id = save_validation(db, health, name, before["taken_at"])
    return before, health


def save_validation(db, health, baseline: str, taken_at: str) -> str:
    """The post-upgrade validation report kept as evidence (History, incidents, the visit
    report's Site health section)."""
    from pacs_console.core.db.testruns import save_test_run

    regressed = [r for r in health.results if r.result != PASS]
    run = save_test_run(
        db, kind=VALIDATION_KIND, node_label=f"site:{health.site}",
        outcome="ok" if not regressed else "failed" if health.verdict == FAIL else "warning",
        parameters={"site": health.site, "baseline": baseline, "baseline_taken_at": taken_at},
        started_at=health.started_at,
        summary=f"Post-upgrade validation of {health.site} against baseline {baseline!r}: "
                + ("PASS" if not regressed else f"{len(regressed)} regression(s)"),
        metrics={"checks": [r.to_dict() for r in health.results],
                 "verdict": PASS if not regressed else health.verdict})
    return run.uuid


def _row(node: str, check: str, result: str, summary: str, **metrics) -> CheckResult:
    return CheckResult(node, check, result, summary, None, metrics)


def compare_snapshots(before: dict, after: dict, slower_pct: float = SLOWER_PCT
                      ) -> list[CheckResult]:
    """One row per node and aspect: PASS where nothing regressed, else WARN or FAIL naming it."""
    rows: list[CheckResult] = []
    for node, old in before["nodes"].items():
        new = after["nodes"].get(node)
        if new is None:
            rows.append(_row(node, "node", FAIL, "Node missing from the site after the upgrade"))
            continue
        if old.get("reachable") and not new.get("reachable"):
            rows.append(_row(node, "reachable", FAIL, "Answered before the upgrade, not now"))
            continue
        if not old.get("reachable"):
            continue
        if "capabilities" in old:
            rows += [_capabilities(node, old, new), _identity(node, old, new),
                     _speed(node, old, new, slower_pct)]
        if old.get("charset"):
            rows.append(_charset(node, old["charset"], new.get("charset") or {}))
        if "study_checksums" in old:
            rows.append(_checksums(node, old["study_checksums"], new.get("study_checksums", {})))
        for key, label in (("studies", "study count"), ("worklist", "worklist count"),
                           ("qido_studies", "QIDO-RS study count"), ("hl7_ack", "HL7 ACK code")):
            if key in old:
                same = old[key] == new.get(key)
                rows.append(_row(node, key, PASS if same else FAIL,
                                 f"{label} {old[key]}" if same else
                                 f"{label} {old[key]} before, {new.get(key)} now",
                                 before=old[key], after=new.get(key)))
    return rows


def _charset(node: str, old: dict, new: dict) -> CheckResult:
    """Character set handling: the same patient names must read the same, and answers must
    not start (or stop) leaving the character set for the console to guess."""
    before, after = old.get("names", {}), new.get("names", {})
    changed = {uid: (name, after.get(uid)) for uid, name in before.items()
               if uid in after and after[uid] != name}
    problems = [f"{len(changed)} patient name(s) read differently (non-ASCII characters "
                f"{old.get('characters') or 'none'} before, {new.get('characters') or 'none'} "
                "now)"] if changed else []
    problems += _declared_changes(old, new)
    if old.get("assumed", "") != new.get("assumed", ""):
        problems.append("answers without a Specific Character Set: "
                        f"{old.get('assumed') or 'none'} before, {new.get('assumed') or 'none'} now")
    declared = {"declared_before": old.get("declared_counts", {}),
                "declared_after": new.get("declared_counts", {})}
    if problems:
        return _row(node, "charset", FAIL, "Character set handling changed: "
                    + "; ".join(problems), changed=sorted(changed)[:20],
                    assumed_before=old.get("assumed", ""), assumed_after=new.get("assumed", ""),
                    **declared)
    terms = _terms(old.get("declared_counts", {}))
    return _row(node, "charset", PASS, (f"{len(before)} non-ASCII patient name(s) read as "
                "before" if before else "Character set handling as before (no non-ASCII names "
                "in the sample)") + (f"; answers declare {terms}" if terms else ""), **declared)


def _terms(counts: dict) -> str:
    """``ISO_IR 192 (40), none (2)`` for the declared Specific Character Set counts."""
    return ", ".join(f"{term or 'none'} ({n})" for term, n in sorted(counts.items()))


def _declared_changes(old: dict, new: dict) -> list[str]:
    """The Specific Character Set the answers declare: which terms (a baseline from before
    this was recorded has none to compare), and per sampled study."""
    problems = []
    before, after = old.get("declared_counts"), new.get("declared_counts")
    if before is not None and after is not None and set(before) != set(after):
        problems.append(f"Specific Character Set declared {_terms(before) or 'nothing'} "
                        f"before, {_terms(after) or 'nothing'} now")
    was, now = old.get("declared", {}), new.get("declared", {})
    moved = sorted(uid for uid in was if uid in now and was[uid] != now[uid])
    if moved:
        pairs = sorted({f"{was[u] or 'none'} -> {now[u] or 'none'}" for u in moved})
        problems.append(f"{len(moved)} sampled study(ies) declare another Specific Character "
                        f"Set ({', '.join(pairs[:3])})")
    return problems


def _checksums(node: str, old: dict, new: dict) -> CheckResult:
    """The known study's pixel checksums, instance by instance."""
    missing = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    if not missing and not changed:
        return _row(node, "study_checksums", PASS,
                    f"{len(old)} instance(s) of the known study unchanged")
    parts = [f"{len(missing)} instance(s) no longer retrieved"] if missing else []
    parts += [f"{len(changed)} instance(s) with different pixel data"] if changed else []
    return _row(node, "study_checksums", FAIL, "Known study: " + ", ".join(parts),
                missing=missing[:20], changed=changed[:20])


def _capabilities(node: str, old: dict, new: dict) -> CheckResult:
    """SOP classes or transfer syntaxes no longer accepted fail; new ones are named."""
    from pacs_console.core.health.contexts import context_changes

    diff = context_changes(old["capabilities"], new.get("capabilities", {}))
    lines = diff.lines()
    if not diff.regressed:
        return _row(node, "capabilities", PASS,
                    f"{len(old['capabilities'])} SOP classes accepted as before"
                    + (f" ({'; '.join(lines)})" if lines else ""), **diff.to_dict())
    return _row(node, "capabilities", FAIL, "; ".join(lines), **diff.to_dict())


def _identity(node: str, old: dict, new: dict) -> CheckResult:
    a, b = old.get("implementation", {}), new.get("implementation", {})
    changed = [f"{k.replace('_', ' ')} {a.get(k)} -> {b.get(k)}" for k in a if a.get(k) != b.get(k)]
    return _row(node, "association", WARN if changed else PASS,
                "; ".join(changed) if changed else f"{a.get('implementation_version_name')}",
                changed=changed)


def _speed(node: str, old: dict, new: dict, slower_pct: float) -> CheckResult:
    """Slower answers: the C-ECHO p95 up by more than the plan's p95_increase_pct (and 20 ms)."""
    was, now = old.get("echo_p95_ms") or 0.0, new.get("echo_p95_ms") or 0.0
    slower = was > 0 and now - was > SLOWER_MS and (now - was) / was * 100 > slower_pct
    return _row(node, "speed", WARN if slower else PASS,
                f"C-ECHO p95 {was:.1f} ms -> {now:.1f} ms", before=was, after=now)
