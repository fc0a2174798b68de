"""`pacs-console echo`: C-ECHO once or continuously, with diagnosis and per-failure exit codes."""

from __future__ import annotations

from pacs_console.commands import exit_codes
from pacs_console.commands.dimse_common import (
    dimse_parser,
    opened_target,
    report_run,
    say,
    say_diagnosis,
    started,
)


def register(subparsers) -> None:
    parser = dimse_parser(
        subparsers, "echo", "verify a node with C-ECHO",
        "Verify a DICOM node with C-ECHO, once or continuously, and diagnose any failure. "
        "Example: pacs-console echo -aec ORTHANC 127.0.0.11 4242", run)
    parser.add_argument("--count", "-c", type=int, default=1, metavar="N",
                        help="number of echoes (default 1; 0 = until Ctrl+C)")
    parser.add_argument("--interval", "-i", type=float, default=1.0, metavar="SECONDS",
                        help="pause between echoes (0 = back to back; default 1)")


def _line(n: int, result) -> str:
    if result.ok:
        return (f"#{n} OK {result.called_ae}@{result.host}:{result.port}  connect "
                f"{result.connect_ms:.1f} ms  associate {result.associate_ms:.1f} ms  echo "
                f"{result.echo_ms:.1f} ms  total {result.total_ms:.1f} ms")
    return f"#{n} FAILED: {result.diagnosis.what}"


def run(args) -> int:
    from pacs_console.core.dicom.ops.echo import echo_series, echo_target

    # The log and the context come up only when needed: pynetdicom (TLS, a peer the lean path
    # hands over), the database, a diagnosis's known fixes; a lean echo may never need them.
    with opened_target(args, request_first=True) as (ctx, target, node):
        if args.count == 1:
            result = echo_target(target, before_pynetdicom=lambda: started(ctx))
            code = _code(result.ok, result.diagnosis, False)
            if not args.json:
                say(args, _line(1, result))
                if result.diagnosis:
                    say_diagnosis(args, ctx, result.diagnosis)
                elif result.peer:
                    say(args, f"  peer: {result.peer.get('implementation_version_name', '')} "
                              f"({result.peer.get('implementation_class_uid', '')})")
            # The result is on screen; the evidence (and the database) come after it.
            report_run(args, ctx, node, "echo", result, code, ok=result.ok, result=result)
            return code
        started(ctx)  # a run of echoes: the log up before the first, as ever
        results = []
        series = echo_series(target, args.count or None, args.interval)
        try:
            for result in series:
                results.append(result)
                say(args, _line(len(results), result))
        except KeyboardInterrupt:
            series.close()  # Ctrl+C ends a continuous echo with its statistics, not a traceback
        from pacs_console.core.dicom.ops.echo import EchoStats

        stats = EchoStats.from_results(results, target,
                                       sum(r.total_ms or 0.0 for r in results))
        ok_all = bool(results) and stats.ok == stats.sent
        code = _code(ok_all, stats.last_diagnosis, 0 < stats.ok < stats.sent)
        if not report_run(args, ctx, node, "echo", stats, code, ok=ok_all, stats=stats,
                          results=results):
            rt = stats.round_trip
            times = (f"round trip min/median/p95/max {rt['min']}/{rt['median']}/{rt['p95']}/"
                     f"{rt['max']} ms, jitter {rt['jitter']} ms" if rt["median"] is not None
                     else "no round trip measured (no echo answered)")
            say(args, f"{stats.sent} sent, {stats.ok} OK, loss {stats.loss_pct:g} %; {times}")
            if stats.last_diagnosis:
                say_diagnosis(args, ctx, stats.last_diagnosis)
        return code


def _code(ok: bool, diagnosis, partial: bool) -> int:
    if ok:
        return exit_codes.OK
    if partial:
        return exit_codes.PARTIAL
    return exit_codes.for_diagnosis(diagnosis.code if diagnosis else None)
