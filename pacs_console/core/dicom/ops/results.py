"""Shared pieces of operation results: JSON-safe conversion, statistics and test-run evidence."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import field
from pathlib import Path

from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import Diagnosis
from pacs_console.core.records import record

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def json_safe(value: Any) -> Any:
    """Dataclasses, paths, tuples, bytes and Diagnosis objects into plain JSON values."""
    if isinstance(value, Diagnosis):
        return value.to_dict()
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_stats(values: Sequence[float]) -> dict[str, float | None]:
    """min/median/p95/max/jitter in ms; jitter is the mean change between consecutive samples."""
    if not values:
        return {"min": None, "median": None, "p95": None, "max": None, "jitter": None}
    import statistics  # only for a series (it imports fractions, decimal and random)

    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    jitter = (statistics.fmean(abs(b - a) for a, b in zip(values, values[1:], strict=False))
              if len(values) > 1 else 0.0)
    return {"min": round(ordered[0], 3), "median": round(statistics.median(ordered), 3),
            "p95": round(p95, 3), "max": round(ordered[-1], 3), "jitter": round(jitter, 3)}


def make_evidence(kind: str, target, *, outcome: str, parameters: dict | None = None,
                  metrics: dict | None = None, diagnosis: Diagnosis | None = None,
                  association: dict | None = None, summary: str = "",
                  duration_ms: float = 0.0) -> dict:
    """Keyword arguments for ``core.db.testruns.save_test_run`` (node_id comes from the caller)."""
    params = {"target": target.to_dict() if hasattr(target, "to_dict") else str(target)}
    params.update(parameters or {})
    return {"kind": kind, "outcome": outcome, "node_label": getattr(target, "label", str(target)),
            "parameters": json_safe(params), "metrics": json_safe(metrics or {}),
            "diagnosis": diagnosis.to_dict() if diagnosis else None,
            "association": json_safe(association) if association else None,
            "summary": summary, "duration_ms": float(duration_ms or 0.0)}


@record(kw_only=True)
class OperationResult:
    """What a C-FIND, C-MOVE/C-GET or C-STORE result carries besides its own counts: how long it
    took, what went wrong, the association it ran on, the node and the options it ran with.

    A subclass names its evidence ``kind`` and gives ``outcome``, ``metrics()`` and ``summary()``;
    ``evidence()`` turns them into a saved test run the same way for every operation.
    """

    duration_ms: float = 0.0
    diagnosis: Diagnosis | None = None
    association: dict | None = None
    cancelled: bool = False
    target: Target | None = field(default=None, repr=False)
    parameters: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        raise NotImplementedError

    @property
    def outcome(self) -> str:
        raise NotImplementedError

    def metrics(self) -> dict:
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError

    def evidence(self) -> dict:
        return make_evidence(self.kind, self.target or "unknown", outcome=self.outcome,
                             parameters=self.parameters, metrics=self.metrics(),
                             diagnosis=self.diagnosis, association=self.association,
                             summary=self.summary(), duration_ms=self.duration_ms)
