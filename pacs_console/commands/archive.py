"""`pacs-console archive check|compare`: archive integrity spot-checks and primary-vs-DR."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from pacs_console.commands.dimse_common import with_context
from pacs_console.commands.options import action_parsers
from pacs_console.core.errors import ConsoleError
from pacs_console.core.terminal import clean

EXIT_USAGE = 2


def _date(text: str) -> str:
    try:
        value = datetime.strptime(text.replace("-", ""), "%Y%m%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if not 1970 <= value.year <= 2100:
        raise argparse.ArgumentTypeError("dates run from 1970 to 2100")
    return f"{value:%Y%m%d}"


def _sample(text: str) -> int:
    from pacs_console.core.health.archive import MAX_SAMPLE

    if not text.isdigit() or not 1 <= int(text) <= MAX_SAMPLE:
        raise argparse.ArgumentTypeError(f"--sample takes 1 to {MAX_SAMPLE} studies")
    return int(text)


def _interval(text: str) -> float:
    from pacs_console.core.health.archive import MAX_INTERVAL_S

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_INTERVAL_S:
        raise argparse.ArgumentTypeError(f"--interval takes 0 to {MAX_INTERVAL_S:g} seconds")
    return value


def _parallel(text: str) -> int:
    from pacs_console.core.health.archive import MAX_PARALLEL

    if not text.isdigit() or not 1 <= int(text) <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(f"--parallel takes 1 to {MAX_PARALLEL} studies")
    return int(text)


def _drive(steps, quiet: bool):
    try:
        while True:
            step = next(steps)
            if not quiet:
                print(step.message, file=sys.stderr)
    except StopIteration as stop:
        return stop.value


def _unknown_node(exc: ConsoleError) -> bool:
    if exc.diagnosis.code != "archive-node-unknown":
        return False
    print(f"archive: {exc.diagnosis.what}", file=sys.stderr)
    return True


def _check(args, ctx) -> int:
    from pacs_console.core.health.archive import (
        MIN_QUERY_INTERVAL_S,
        PARALLEL_STUDIES,
        run_spot_check,
        study_line,
    )

    interval = MIN_QUERY_INTERVAL_S if args.interval is None else args.interval
    parallel = PARALLEL_STUDIES if args.parallel is None else args.parallel
    try:
        # The node read and the evidence written without the ORM where the file allows.
        outcome = _drive(run_spot_check(lambda: ctx.db, ctx.receiving_settings(),
                                        ctx.paths.data, args.node,
                                        args.sample, since=args.since,
                                        retrieve=args.retrieve, interval=interval,
                                        parallel=parallel, database=ctx.paths.database),
                         args.json)
    except ConsoleError as exc:
        if _unknown_node(exc):
            return EXIT_USAGE
        if exc.diagnosis.code == "archive-move-port-busy":
            print(f"archive: {exc.diagnosis.what}; {exc.diagnosis.actions[0]}", file=sys.stderr)
            return 1
        raise
    if args.json:
        print(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2))
    else:
        counts = outcome.counts()
        print(f"Archive spot-check of {clean(args.node)}: {len(outcome.sampled)} of "
              f"{outcome.population} studies; {counts.get('pass', 0)} pass, "
              f"{counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail (studies "
              f"{outcome.interval:g} s apart, {outcome.parallel} at once)")
        for s in outcome.sampled:
            print(clean(f"{s.result.upper():<5} {s.study_uid} ({s.year or '????'} "
                        f"{s.modality or '?'}): {study_line(s)}"))
    return outcome.exit_code()


def _compare(args, ctx) -> int:
    from pacs_console.core.health.dr import run_dr_compare

    if args.date_from > args.date_to:
        print("archive compare: --from is after --to", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = _drive(run_dr_compare(ctx.db, ctx.settings, args.primary, args.dr,
                                       args.date_from, args.date_to), args.json)
    except ConsoleError as exc:
        if _unknown_node(exc):
            return EXIT_USAGE
        raise
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"DR comparison {args.date_from}-{args.date_to}: {report['result'].upper()} — "
              f"primary {report['primary_studies']} studies, DR {report['dr_studies']}")
        print(f"  missing on DR: {len(report['only_on_primary'])}; only on DR: "
              f"{len(report['only_on_dr'])}; count mismatches: "
              f"{len(report['count_mismatches'])}")
        if report["replication_gap_hours"] is not None:
            print(f"  replication gap: {report['replication_gap_studies']} studies, "
                  f"{report['replication_gap_hours']} h behind the primary's newest study")
        for uid in report["only_on_primary"][:50]:
            print(f"  not on DR: {uid}")
    return {"pass": 0, "warn": 10, "fail": 10}[report["result"]]


def register(subparsers) -> None:
    sub = action_parsers(subparsers, "archive", "archive integrity and DR comparison")
    p = sub.add_parser("check", help="spot-check a random sample of studies",
                       description="A sample of studies stratified by year and modality: counts "
                                   "at study and image level agree, every instance arrives "
                                   "(C-GET, or C-MOVE with --retrieve move), decodes, and "
                                   "matches its pixel checksum from the last check. Exit 0 all "
                                   "pass, 10 some problems, 1 all fail.")
    p.add_argument("node", help="address-book name of the archive")
    p.add_argument("--sample", type=_sample, required=True, metavar="N")
    p.add_argument("--since", type=_date, metavar="DATE", help="only studies from this date")
    p.add_argument("--retrieve", choices=("get", "move"), default="get",
                   help="C-GET (default: needs no set-up on the archive) or C-MOVE to this "
                        "console's AE title, received on its receiving port (the archive must "
                        "know the console as a move destination)")
    p.add_argument("--interval", type=_interval, default=None, metavar="SECONDS",
                   help="politeness: seconds between the starts of two studies' checks "
                        "(default 0.2)")
    p.add_argument("--parallel", type=_parallel, default=None, metavar="N",
                   help="politeness: studies checked at once (default 2)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=with_context(_check))
    p = sub.add_parser("compare", help="compare a primary archive with its DR copy",
                       description="One study-level C-FIND on each archive for the date range: "
                                   "studies on one side only, series/instance count "
                                   "mismatches, the replication gap. Exit 0 same, 10 differ.")
    p.add_argument("primary")
    p.add_argument("dr")
    p.add_argument("--from", dest="date_from", type=_date, required=True, metavar="DATE")
    p.add_argument("--to", dest="date_to", type=_date, required=True, metavar="DATE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=with_context(_compare))
