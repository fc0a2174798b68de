"""Benchmark runner: repeats each case, prints medians against targets and peer tools, and JSON."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Case:
    """One benchmark: ``run()`` returns a dict of metric -> value for a single repetition."""

    name: str
    run: Callable[[], dict[str, float]]
    metric: str  # the headline metric compared with the target
    target: float
    lower_is_better: bool = True
    peer_metric: str | None = None  # measured in the same run, e.g. DCMTK's or nmap's time
    peer_name: str = ""
    unit: str = "s"
    repeat: int = 5
    setup: Callable[[], None] | None = None
    teardown: Callable[[], None] | None = None
    skip: str = ""  # why this case cannot run here; shown in the table, not counted as missed


@dataclass
class Outcome:
    case: Case
    samples: list[dict[str, float]] = field(default_factory=list)

    def median(self, metric: str) -> float:
        return statistics.median(s[metric] for s in self.samples)

    @property
    def value(self) -> float:
        return self.median(self.case.metric)

    @property
    def met(self) -> bool:
        if self.case.skip:
            return True
        return self.value <= self.case.target if self.case.lower_is_better else self.value >= self.case.target

    def to_dict(self) -> dict:
        case = self.case
        if case.skip:
            return {"name": case.name, "metric": case.metric, "unit": case.unit, "skipped": case.skip,
                    "target": case.target, "met": True, "repeats": 0, "medians": {}}
        data = {"name": case.name, "metric": case.metric, "unit": case.unit,
                "median": self.value, "target": case.target, "met": self.met,
                "lower_is_better": case.lower_is_better, "repeats": len(self.samples),
                "medians": {k: statistics.median(s[k] for s in self.samples) for k in self.samples[0]}}
        if case.peer_metric:
            peer = self.median(case.peer_metric)
            data.update(peer=case.peer_name, peer_median=peer, ratio=self.value / peer if peer else None)
        return data


def run_cases(cases: list[Case], repeat: int | None = None) -> list[Outcome]:
    outcomes = []
    for case in cases:
        if case.skip:
            outcomes.append(Outcome(case))
            continue
        if case.setup:
            case.setup()
        try:
            outcome = Outcome(case)
            case.run()  # warm-up: file caches, imports, first connections
            for _ in range(repeat or case.repeat):
                outcome.samples.append(case.run())
            outcomes.append(outcome)
        finally:
            if case.teardown:
                case.teardown()
    return outcomes


def render(outcomes: list[Outcome]) -> str:
    rows = [("benchmark", "median", "target", "peer tool", "ratio", "verdict")]
    for outcome in outcomes:
        data = outcome.to_dict()
        if "skipped" in data:
            rows.append((outcome.case.name, "-", f"{outcome.case.target:g} {outcome.case.unit}",
                         "-", "-", f"SKIPPED: {data['skipped']}"))
            continue
        sign = "<=" if outcome.case.lower_is_better else ">="
        peer = ratio = "-"
        if "peer_median" in data:
            peer = f"{data['peer']} {data['peer_median']:.4g} {outcome.case.unit}"
            ratio = f"{data['ratio']:.2f}x" if data["ratio"] else "-"
        rows.append((outcome.case.name, f"{data['median']:.4g} {outcome.case.unit}",
                     f"{sign} {outcome.case.target:g} {outcome.case.unit}", peer, ratio,
                     "met" if outcome.met else "MISSED"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for outcome in outcomes:
        extra = {k: v for k, v in outcome.to_dict()["medians"].items() if k != outcome.case.metric}
        if extra:
            lines.append(f"  {outcome.case.name}: " +
                         ", ".join(f"{k} {v:.4g}" for k, v in sorted(extra.items())))
    return "\n".join(lines)


def report(outcomes: list[Outcome]) -> dict:
    return {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": platform.platform(),
            "python": platform.python_version(), "results": [o.to_dict() for o in outcomes]}


def write_json(outcomes: list[Outcome], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report(outcomes), handle, indent=2)
