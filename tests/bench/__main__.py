"""`python -m tests.bench [--only TEXT] [--repeat N] [--json FILE]`: run the benchmarks."""

from __future__ import annotations

import argparse
import os
import sys

from tests.bench import runner


def all_cases() -> list[runner.Case]:
    from tests.bench import (
        dimse,
        discovery,
        frozen,
        gui_find,
        gui_stall,
        incidents,
        kb,
        live_views,
        reports,
        startup,
        sync,
        viewer,
    )

    return (startup.cases() + gui_stall.cases() + viewer.cases() + incidents.cases()
            + dimse.cases() + gui_find.cases() + discovery.cases() + frozen.cases() + reports.cases()
            + sync.cases() + live_views.cases() + kb.cases())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--only", help="run only cases whose name contains this text")
    parser.add_argument("--repeat", type=int, help="repetitions per case (after one warm-up)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    cases = [c for c in all_cases() if not args.only or args.only.lower() in c.name.lower()]
    outcomes = runner.run_cases(cases, args.repeat)
    print(runner.render(outcomes))
    if args.json:
        runner.write_json(outcomes, args.json)
    return 0 if all(o.met for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
