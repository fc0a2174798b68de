"""`pacs-console health SITE`: the site's whole check plan as one run, compared with the last."""

from __future__ import annotations

import argparse
import json
import sys
import time

from pacs_console.commands.argcheck import number_in
from pacs_console.commands.dimse_common import with_context
from pacs_console.core.errors import ConsoleError
from pacs_console.core.terminal import clean

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
COLUMN = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skipped": "—"}


_minutes = number_in(float, 1, 1440, "{text!r} is not a number of minutes",
                     "--repeat takes 1 to 1440 minutes")


def _name(text: str) -> str:
    if not 1 <= len(text) <= 64 or not text.isprintable():
        raise argparse.ArgumentTypeError("a baseline name is 1-64 printable characters")
    return text


def _plan(args, ctx):
    from pacs_console.core.health.plan import site_plan

    return site_plan(ctx.db, args.site, args.plan)


def grid(health) -> str:
    """Nodes down, checks across, as an engineer reads it on a terminal."""
    from pacs_console.core.health.plan import CHECKS

    checks = [c for c in CHECKS if any(r.check == c for r in health.results)]
    nodes = list(dict.fromkeys(r.node for r in health.results))
    cell = {(r.node, r.check): COLUMN[r.result] for r in health.results}
    width = max([len(n) for n in nodes] + [4])
    lines = ["  ".join([f"{'Node':<{width}}", *(f"{c:<11}" for c in checks)]).rstrip()]
    for node in nodes:
        lines.append("  ".join([f"{node:<{width}}",
                                *(f"{cell.get((node, c), ''):<11}" for c in checks)]).rstrip())
    return "\n".join(lines)


def _print(health, as_json: bool) -> None:
    if as_json:
        print(json.dumps(health.to_dict(), ensure_ascii=False, indent=2))
        return
    counts = health.counts()
    print(f"Site health of {clean(health.site)}: {health.verdict.upper()} — {counts['pass']} "
          f"pass, {counts['warn']} warn, {counts['fail']} fail")
    print(grid(health))
    for r in health.results:
        if r.result in ("warn", "fail"):
            print(f"{r.result.upper()} {clean(r.node)} {r.check}: {clean(r.summary)}")
            if r.diagnosis and r.diagnosis.get("actions"):
                print(f"     what to try: {clean(r.diagnosis['actions'][0])}")
    if health.changes:
        print("Worse than the last run:")
        for change in health.changes:
            print(f"  {clean(change.node)} {change.check}: {clean(change.text)}")
    elif health.previous_run:
        print("Nothing got worse since the last run.")
    if health.cancelled:
        print("Stopped before every check ran.")


def _run_once(args, ctx, plan):
    from pacs_console.core.health.runner import run_health

    steps = run_health(ctx.db, ctx.settings, plan, save=not args.no_save, secrets=ctx.secrets)
    try:
        while True:
            step = next(steps)
            if not args.json and step.item is not None:
                print(f"[{step.done}/{step.total}] {step.message}", file=sys.stderr)
    except StopIteration as stop:
        return stop.value


def _baseline(args, ctx, plan) -> int:
    from pacs_console.core.health.baseline import record_baseline

    snapshot, run_id = _drive(args, record_baseline(ctx.db, ctx.settings, plan, args.baseline,
                                                    secrets=ctx.secrets))
    reachable = [n for n, s in snapshot["nodes"].items() if s.get("reachable")]
    data = {"baseline": args.baseline, "site": plan.site, "run_id": run_id,
            "date_range": snapshot["date_range"], "nodes": snapshot["nodes"]}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"Baseline {args.baseline!r} of {plan.site} recorded: {len(reachable)} of "
              f"{len(snapshot['nodes'])} node(s) answered. After the upgrade: "
              f"pacs-console health {plan.site!r} --compare {args.baseline}")
    return 0 if reachable else 1


def _compare(args, ctx, plan) -> int:
    from pacs_console.core.health.baseline import validate

    try:
        before, health = _drive(args, validate(ctx.db, ctx.settings, plan, args.compare,
                                               secrets=ctx.secrets, save=not args.no_save))
    except ConsoleError as exc:
        print(f"health: {exc.diagnosis.what}; {exc.diagnosis.actions[0]}", file=sys.stderr)
        return EXIT_USAGE
    rows = health.results
    if args.json:
        print(json.dumps({**health.to_dict(), "baseline": args.compare,
                          "baseline_taken_at": before["taken_at"]}, ensure_ascii=False, indent=2))
    else:
        regressed = [r for r in rows if r.result != "pass"]
        print(f"Post-upgrade validation of {plan.site} against baseline {args.compare!r} "
              f"({before['taken_at'][:16]}): {'PASS' if not regressed else 'REGRESSIONS'}")
        for r in rows:
            print(f"{COLUMN[r.result]:<5} {clean(r.node)} {r.check}: {clean(r.summary)}")
    return health.exit_code()


def _remove_test_data(args, ctx, plan) -> int:
    """Exit 0 when no test study is left at the site, 10 when some are left for the PACS
    administrator (listed by UID) or could not be removed."""
    from pacs_console.core.health.cleanup import DONE, remove_test_data

    studies = _drive(args, remove_test_data(ctx.db, ctx.settings, plan, secrets=ctx.secrets,
                                            save=not args.no_save))
    left = [s for s in studies if s.result not in DONE]
    if args.json:
        print(json.dumps({"site": plan.site, "studies": [s.to_dict() for s in studies],
                          "left": len(left)}, ensure_ascii=False, indent=2))
    elif not studies:
        print(f"No test data of the health checks left at {clean(plan.site)}.")
    else:
        for s in studies:
            print(f"{s.result.upper():<12} {clean(s.node)} study {s.study_uid}: {clean(s.text)}")
            for kept in s.kept:
                print(f"             kept {clean(kept)}")
            if s.result not in DONE:
                print(f"             series {s.series_uid or '?'}; instances "
                      f"{', '.join(s.instances) or '(not recorded)'}")
        print(f"{len(studies) - len(left)} of {len(studies)} test studies removed"
              + (f"; {len(left)} left for the PACS administrator (UIDs above)" if left else ""))
    return 10 if left else 0


def _drive(args, steps):
    try:
        while True:
            step = next(steps)
            if not args.json:
                print(step.message, file=sys.stderr)
    except StopIteration as stop:
        return stop.value


def _health(args, ctx) -> int:
    try:
        site, plan = _plan(args, ctx)
    except ConsoleError as exc:  # an unknown site or an unusable plan file: usage
        print(f"health: {exc.diagnosis.what}" + (f" ({exc.diagnosis.causes[0]})"
                                                  if exc.diagnosis.causes else ""),
              file=sys.stderr)
        return EXIT_USAGE
    if plan is None:
        print(f"health: site {site.name!r} has no node in the address book; add them first "
              "(pacs-console node add ... --site SITE)", file=sys.stderr)
        return EXIT_USAGE
    if args.baseline:
        return _baseline(args, ctx, plan)
    if args.compare:
        return _compare(args, ctx, plan)
    if args.remove_test_data:
        return _remove_test_data(args, ctx, plan)
    try:
        while True:
            health = _run_once(args, ctx, plan)
            _print(health, args.json)
            if not args.repeat:
                return health.exit_code()
            print(f"Next run in {args.repeat:g} min (Ctrl+C to stop)", file=sys.stderr)
            time.sleep(args.repeat * 60)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "health", help="run a site's health check plan and compare it with the last run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Every node of the site gets the checks of its role (route, C-ECHO, "
                    "association, TLS, study C-FIND, worklist, DICOMweb QIDO-RS; C-STORE of a "
                    "test image and a test ADT to an HL7 test interface only where the plan "
                    "allows), nodes in parallel, each result PASS, WARN or FAIL with the "
                    "console's diagnosis, and what got worse since the last run.",
        epilog="exit codes:\n  0   every check passed and nothing got worse\n"
               "  1   every check failed (or the run could not start)\n"
               "  2   usage: unknown site, a site without nodes, an unusable plan file\n"
               "  10  some checks warn or fail, or something got worse\n  130 interrupted")
    p.add_argument("site", help="site name or id")
    p.add_argument("--plan", metavar="FILE", help="a JSON plan file changing the defaults")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--baseline", metavar="NAME", type=_name,
                      help="record a snapshot before an upgrade (capabilities, identity, query "
                           "and worklist counts, speed) under NAME")
    mode.add_argument("--compare", metavar="NAME", type=_name,
                      help="after the upgrade: the same snapshot against baseline NAME, every "
                           "difference with its severity (the post-upgrade validation report)")
    mode.add_argument("--remove-test-data", action="store_true",
                      help="remove the test studies this site's health checks stored (C-STORE "
                           "check): through Orthanc's REST API where the plan gives rest_url, "
                           "only studies still tagged as the console's test data; otherwise "
                           "list their UIDs for the PACS administrator (exit 10)")
    mode.add_argument("--repeat", type=_minutes, metavar="MIN",
                   help="run again every MIN minutes until Ctrl+C (feeds the uptime figures)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout per run")
    p.add_argument("--no-save", action="store_true", help="do not keep this run as evidence")
    p.set_defaults(handler=with_context(_health))
