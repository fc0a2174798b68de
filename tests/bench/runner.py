"""Benchmark runner: repeats each case, prints medians and spread against targets and peer tools,
and writes every sample as JSON.

A case is ``met`` only when it was measured (at least ``MIN_SAMPLES`` samples) and its median
holds the target; a skipped or failed case is "not measured", never met. With ``ratio=True``
the target applies to median(metric) / median(peer metric), both measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_SAMPLES = 5


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
    repeat: int = MIN_SAMPLES
    setup: Callable[[], None] | None = None
    teardown: Callable[[], None] | None = None
    skip: str = ""  # why this case cannot run here: reported "not measured", never met
    ratio: bool = False  # the target is on metric / peer_metric (a ratio), not on the metric


@dataclass
class Outcome:
    case: Case
    samples: list[dict[str, float]] = field(default_factory=list)
    error: str = ""  # why it was not measured (an exception during setup or a sample)
    # The machine's 1-minute load average when the case began and when it ended: on a shared
    # machine a figure means little without it (compare ratios measured under like loads).
    load: dict[str, float] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return not self.case.skip and not self.error and bool(self.samples)

    @property
    def not_measured_why(self) -> str:
        return self.case.skip or self.error or "no samples"

    def median(self, metric: str) -> float:
        return statistics.median(s[metric] for s in self.samples)

    @property
    def peer_value(self) -> float | None:
        return self.median(self.case.peer_metric) if self.case.peer_metric else None

    @property
    def value(self) -> float:
        """The headline: the metric's median, or its ratio to the peer's for ratio cases."""
        if self.case.ratio:
            peer = self.peer_value
            return self.median(self.case.metric) / peer if peer else float("inf")
        return self.median(self.case.metric)

    @property
    def met(self) -> bool:
        if not self.measured or len(self.samples) < MIN_SAMPLES:
            return False
        return self.value <= self.case.target if self.case.lower_is_better else self.value >= self.case.target

    @property
    def verdict(self) -> str:
        if not self.measured:
            return f"not measured: {self.not_measured_why}"
        if len(self.samples) < MIN_SAMPLES:
            return f"not judged: {len(self.samples)} samples (< {MIN_SAMPLES})"
        return "met" if self.met else "MISSED"

    def to_dict(self) -> dict:
        case = self.case
        data = {"name": case.name, "metric": case.metric, "unit": case.unit, "target": case.target,
                "target_on": "ratio to peer" if case.ratio else "metric",
                "lower_is_better": case.lower_is_better, "met": self.met,
                "verdict": self.verdict, "repeats": len(self.samples), "samples": self.samples,
                "load_average": self.load}
        if not self.measured:
            data.update(measured=False, why=self.not_measured_why)
            return data
        data.update(measured=True, median=self.median(case.metric), headline=self.value,
                    spread={k: _spread([s[k] for s in self.samples]) for k in self.samples[0]},
                    medians={k: statistics.median(s[k] for s in self.samples)
                             for k in self.samples[0]})
        if case.peer_metric:
            peer = self.peer_value
            data.update(peer=case.peer_name, peer_metric=case.peer_metric, peer_median=peer,
                        ratio=self.median(case.metric) / peer if peer else None)
        return data


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else ordered * 3
    return {"min": ordered[0], "q1": q[0], "q3": q[2], "max": ordered[-1]}


def run_cases(cases: list[Case], repeat: int | None = None) -> list[Outcome]:
    outcomes = []
    for case in cases:
        outcome = Outcome(case)
        outcomes.append(outcome)
        if case.skip:
            continue
        outcome.load["start"] = _load()
        try:
            if case.setup:
                case.setup()
            case.run()  # warm-up: file caches, imports, first connections
            for _ in range(repeat or max(case.repeat, MIN_SAMPLES)):
                outcome.samples.append(case.run())
        except Exception as exc:  # noqa: BLE001 - one broken case must not hide the others
            outcome.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            traceback.print_exc()
        finally:
            outcome.load["end"] = _load()
            if case.teardown:
                try:
                    case.teardown()
                except Exception:  # noqa: BLE001 - reported, the run goes on
                    traceback.print_exc()
        print(f"[bench] {case.name}: {outcome.verdict}", flush=True)
    return outcomes


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def _fmt(value: float, unit: str) -> str:
    return f"{value:.4g} {unit}".rstrip()


def render(outcomes: list[Outcome]) -> str:
    rows = [("benchmark", "median [min-max]", "peer tool (same run)", "ratio", "target", "verdict")]
    for outcome in outcomes:
        case = outcome.case
        sign = "<=" if case.lower_is_better else ">="
        target = f"{sign} {case.target:g}{'x peer' if case.ratio else ' ' + case.unit}"
        if not outcome.measured:
            rows.append((case.name, "-", "-", "-", target, outcome.verdict))
            continue
        data = outcome.to_dict()
        spread = data["spread"][case.metric]
        value = (f"{_fmt(data['median'], case.unit)} [{spread['min']:.4g}-{spread['max']:.4g}]")
        peer = ratio = "-"
        if case.peer_metric:
            peer_spread = data["spread"][case.peer_metric]
            peer = (f"{case.peer_name} {_fmt(data['peer_median'], case.unit)} "
                    f"[{peer_spread['min']:.4g}-{peer_spread['max']:.4g}]")
            ratio = f"{data['ratio']:.2f}x" if data["ratio"] else "-"
        load = outcome.load
        verdict = (f"{outcome.verdict} (load {load['start']:.1f}-{load['end']:.1f})"
                   if "end" in load else outcome.verdict)
        rows.append((case.name, value, peer, ratio, target, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for outcome in outcomes:
        if not outcome.measured:
            continue
        data = outcome.to_dict()
        skip = {outcome.case.metric, outcome.case.peer_metric}
        extra = {k: v for k, v in data["medians"].items() if k not in skip}
        if extra:
            lines.append(f"  {outcome.case.name}: " +
                         ", ".join(f"{k} {v:.4g}" for k, v in sorted(extra.items())))
    return "\n".join(lines)


def report(outcomes: list[Outcome]) -> dict:
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": platform.platform(),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average_at_end": load, "min_samples": MIN_SAMPLES,
            "results": [o.to_dict() for o in outcomes]}


def write_json(outcomes: list[Outcome], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report(outcomes), handle, indent=2)
