"""`python -m tests.bench.table RESULTS.json [MORE.json ...] [--readme README.md]`: the README's
benchmark table, regenerated from `python -m tests.bench --json` output (a case measured in
several files takes the last file's figures; the row says which run).

Prints the Markdown table; with ``--readme`` it replaces the text between the
``<!-- bench-table:start -->`` and ``<!-- bench-table:end -->`` markers in that file. Every
figure comes from the JSON: median with min-max over the samples, the peer tool's median from
the same run, the ratio, the target and the verdict ("not measured" for a skipped or failed
case, never "met").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def _num(value: float, unit: str) -> str:
    if unit == "s" and value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} {unit}".rstrip()


def _row(result: dict) -> str:
    unit, name = result["unit"], result["name"]
    sign = "≤" if result.get("lower_is_better", True) else "≥"
    target = (f"{sign} {result['target']:g}× peer" if result.get("target_on") == "ratio to peer"
              else f"{sign} {_num(result['target'], unit)}")
    if not result.get("measured", "median" in result):
        return f"| {name} | - | - | - | {target} | not measured: {result.get('why', '')} |"
    spread = result["spread"][result["metric"]]
    measured = (f"{_num(result['median'], unit)} ({_num(spread['min'], unit)}-"
                f"{_num(spread['max'], unit)}, n={result['repeats']})")
    peer = ratio = "-"
    if result.get("peer"):
        peer_spread = result["spread"].get(result.get("peer_metric", ""))
        peer = f"{result['peer']} {_num(result['peer_median'], unit)}"
        if peer_spread:
            peer += f" ({_num(peer_spread['min'], unit)}-{_num(peer_spread['max'], unit)})"
        ratio = f"{result['ratio']:.2f}×" if result.get("ratio") else "-"
    return f"| {name} | {measured} | {peer} | {ratio} | {target} | {result['verdict']} |"


def table(reports: list[dict], current: set[str] | None = None) -> str:
    """One row per case; a case in several reports takes its row from the last one given.
    With ``current`` (the names the bench defines today), a case renamed or removed since
    gets no row: it is named once below the table, so an old verdict is not read as today's."""
    latest: dict[str, tuple[int, dict]] = {}
    for n, report in enumerate(reports, 1):
        for result in report["results"]:
            latest[result["name"]] = (n, result)
    retired = sorted(name for name in latest if current is not None and name not in current)
    for name in retired:
        del latest[name]
    lines = []
    for n, report in enumerate(reports, 1):
        load = report.get("load_average_at_end") or []
        lines.append(f"Run {n}: {report['when']} on {report['machine']}, Python "
                     f"{report['python']}, {report.get('cpus', '?')} CPUs"
                     + (f", load average {load[0]:.1f} at the end" if load else "") + ".")
    lines += ["", "| case | run | console: median (min-max, samples) | peer tool, same run: median "
              "(min-max) | ratio | target | verdict |", "|---|---|---|---|---|---|---|"]
    for n, result in latest.values():
        row = _row(result)
        load = result.get("load_average") or {}
        run = f"{n} (load {load['start']:.1f}-{load['end']:.1f})" if "end" in load else str(n)
        lines.append(row.replace(" | ", f" | {run} | ", 1))
    if retired:
        lines += ["", "Cases the bench no longer runs (renamed or replaced; their last results "
                  "are in the JSON): " + "; ".join(retired) + "."]
    return "\n".join(lines)


def replace_in(readme: Path, text: str) -> None:
    content = readme.read_text(encoding="utf-8")
    if START not in content or END not in content:
        raise SystemExit(f"{readme}: no {START} ... {END} markers")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.table")
    parser.add_argument("results", nargs="+", help="JSON written by python -m tests.bench --json")
    parser.add_argument("--readme", type=Path, help="replace the table between the markers here")
    args = parser.parse_args(argv)
    reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.results]
    from tests.bench.__main__ import all_cases

    text = table(reports, {case.name for case in all_cases()})
    if args.readme:
        replace_in(args.readme, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
