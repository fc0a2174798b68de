"""`python -m tests.bench [--only TEXT] [--repeat N] [--json FILE]`: run the benchmarks.

Run it by hand (never under pytest); the peers take a random loopback network and OS ports:
``python -m tests.bench --only cli: --json bench.json``; then
``python -m tests.bench.table bench.json`` regenerates the README table from that JSON.
Exit 0 only when every selected case was measured and met its target.
"""

from __future__ import annotations

import argparse
import os
import sys

from tests.bench import runner


def all_cases() -> list[runner.Case]:
    from tests.bench import (
        assess,
        discovery,
        frozen,
        gui_find,
        gui_stall,
        health,
        incidents,
        kb,
        kb_pull,
        live_views,
        relay,
        reports,
        startup,
        sync,
        viewer,
        viewer_large,
        whole,
    )

    return (startup.cases() + gui_stall.cases() + viewer.cases() + viewer_large.cases()
            + incidents.cases()
            + whole.cases() + gui_find.cases() + discovery.cases() + frozen.cases() + reports.cases()
            + sync.cases() + live_views.cases() + kb.cases() + relay.cases()
            + health.cases() + assess.cases() + kb_pull.cases())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--only", action="append", default=[],
                        help="run only cases whose name contains this text (repeatable)")
    parser.add_argument("--skip", action="append", default=[],
                        help="leave out cases whose name contains this text (repeatable)")
    parser.add_argument("--repeat", type=int, help="samples per case after one warm-up (default: "
                        f"the case's, at least {runner.MIN_SAMPLES}; fewer are not judged)")
    parser.add_argument("--json", metavar="FILE", help="also write the results, every sample "
                        "included, as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    cases = [c for c in all_cases()
             if (not args.only or any(o.lower() in c.name.lower() for o in args.only))
             and not any(s.lower() in c.name.lower() for s in args.skip)]
    outcomes = runner.run_cases(cases, args.repeat)
    print(runner.render(outcomes))
    if args.json:
        runner.write_json(outcomes, args.json)
    return 0 if all(o.met for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
