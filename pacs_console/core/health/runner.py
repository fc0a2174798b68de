"""Run a site's plan: nodes in parallel with a bound, each node's checks in order (one
association at a time per node), progress as each check ends, cancel between checks."""

from __future__ import annotations

import threading
from collections.abc import Generator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime

from pacs_console.core.health.checks import CHECK_FUNCTIONS, NodeRun
from pacs_console.core.health.compare import compare
from pacs_console.core.health.model import FAIL, SKIPPED, CheckResult, HealthRun
from pacs_console.core.health.plan import CHECKS, Plan
from pacs_console.core.models import Progress

EVIDENCE_KIND = "health"
ORDER = CHECKS  # the plan's order: route first, C-STORE last
MAX_PARALLEL_NODES = 8


def site_label(site: str) -> str:
    return f"site:{site}"


def previous_run(db, site: str):
    """The last saved health run of this site (a test run of kind 'health'), or None."""
    from pacs_console.core.db.testruns import list_test_runs

    for run in list_test_runs(db, kind=EVIDENCE_KIND, limit=500):
        if run.node_label == site_label(site) and run.metrics.get("checks"):
            return run
    return None


def _node_checks(run: NodeRun, stop: threading.Event, done) -> None:
    for check in sorted(run.plan.checks, key=ORDER.index):
        if stop.is_set():
            return
        try:
            result = CHECK_FUNCTIONS[check](run)
        except Exception as exc:  # noqa: BLE001 - one check's bug is that check's FAIL
            result = CheckResult(run.plan.node, check, FAIL,
                                 f"The check itself failed: {type(exc).__name__}: {exc}"[:300])
        done(result)


def run_health(db, settings, plan: Plan, *, stop: threading.Event | None = None,
               save: bool = True, parallel: int | None = None, secrets=None
               ) -> Generator[Progress, None, HealthRun]:
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.dicom.wire.target import Target

    stop = stop or threading.Event()
    nodes = {n.name: n for n in list_nodes(db)}
    last = previous_run(db, plan.site) if db is not None else None
    before = {(c.node, c.check): c for c in map(CheckResult.from_dict,
                                                 (last.metrics.get("checks") if last else []))}
    runs = []
    for node_plan in plan.nodes:
        node = nodes[node_plan.node]
        runs.append(NodeRun(node, Target.from_node(node, settings), node_plan, plan.thresholds,
                            {check: r for (name, check), r in before.items()
                             if name == node_plan.node}, secrets=secrets))
    total = sum(len(r.plan.checks) for r in runs)
    health = HealthRun(plan.site, datetime.now(UTC), previous_run=last.uuid if last else None)
    lock, finished = threading.Lock(), []

    def done(result: CheckResult) -> None:
        with lock:
            finished.append(result)

    bound = max(1, min(parallel or min(MAX_PARALLEL_NODES, settings.scan_concurrency),
                       len(runs) or 1))
    yield Progress(0, total, f"Checking {len(runs)} node(s) of {plan.site}")
    reported = 0
    with ThreadPoolExecutor(max_workers=bound, thread_name_prefix="health") as pool:
        pending = {pool.submit(_node_checks, r, stop, done) for r in runs}
        try:
            while pending:
                complete, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in complete:
                    future.result()
                with lock:
                    new = finished[reported:]
                for result in new:
                    reported += 1
                    yield Progress(reported, total, f"{result.node}: {result.check} "
                                   f"{result.result.upper()} — {result.summary}", result)
        except GeneratorExit:
            stop.set()
            raise
    with lock:
        new = finished[reported:]
    for result in new:
        reported += 1
        yield Progress(reported, total, f"{result.node}: {result.check} {result.result.upper()}",
                       result)
    order = {n.node: i for i, n in enumerate(plan.nodes)}
    health.results = sorted(finished, key=lambda r: (order[r.node], ORDER.index(r.check)))
    health.cancelled = stop.is_set() and len(finished) < total
    health.changes = compare(before, health.results, plan.thresholds)
    health.finished_at = datetime.now(UTC)
    if save and db is not None:
        health.run_id = save_health(db, health, {r.plan.node: r.node for r in runs})
    return health


def save_health(db, health: HealthRun, nodes: dict | None = None) -> str:
    """Kept as evidence (a test run of kind 'health'), attachable to incidents and reports.

    Each node's C-ECHO check is also saved as that node's echo run, so a health check repeated
    through the visit feeds the uptime figures like any echo."""
    from pacs_console.core.db.testruns import save_test_run

    for result in health.results:
        node = (nodes or {}).get(result.node)
        if result.check == "echo" and node is not None:
            save_test_run(db, kind="echo-series", node_id=node.id,
                          node_label=f"{node.ae_title}@{node.host}:{node.port}",
                          outcome="ok" if result.result != "fail" else "failed",
                          started_at=health.started_at, duration_ms=result.duration_ms,
                          summary=f"Health check: {result.summary}",
                          metrics={**result.metrics, "round_trip_ms": {
                              "median": result.metrics.get("median_ms"),
                              "p95": result.metrics.get("p95_ms")}},
                          diagnosis=result.diagnosis)

    counts = health.counts()
    run = save_test_run(
        db, kind=EVIDENCE_KIND, outcome={"pass": "ok", "warn": "warning"}.get(health.verdict,
                                                                              "failed"),
        node_label=site_label(health.site), parameters={"site": health.site},
        started_at=health.started_at,
        duration_ms=((health.finished_at or health.started_at) - health.started_at)
        .total_seconds() * 1000,
        summary=(f"Site health {health.site}: {counts['pass']} pass, {counts['warn']} warn, "
                 f"{counts['fail']} fail" + (f", {len(health.changes)} worse than last time"
                                             if health.changes else "")),
        metrics={"checks": [r.to_dict() for r in health.results if r.result != SKIPPED]
                 + [r.to_dict() for r in health.results if r.result == SKIPPED],
                 "changes": [c.to_dict() for c in health.changes], "verdict": health.verdict,
                 "previous_run": health.previous_run})
    return run.uuid
