"""Plain data of a health run: one result per node and check, and what changed since the last."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pacs_console.core.models import Plain

PASS, WARN, FAIL, SKIPPED = "pass", "warn", "fail", "skipped"
EXIT_ALL_PASS, EXIT_ALL_FAIL, EXIT_SOME = 0, 1, 10


@dataclass(frozen=True)
class CheckResult(Plain):
    node: str
    check: str
    result: str  # pass, warn, fail, skipped
    summary: str
    diagnosis: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0

    @classmethod
    def from_dict(cls, data: dict) -> CheckResult:
        return cls(str(data.get("node", "")), str(data.get("check", "")),
                   str(data.get("result", FAIL)), str(data.get("summary", "")),
                   data.get("diagnosis"), dict(data.get("metrics") or {}),
                   float(data.get("duration_ms") or 0.0))


@dataclass(frozen=True)
class Change(Plain):
    node: str
    check: str
    severity: str  # warn, fail
    text: str


@dataclass
class HealthRun:
    site: str
    started_at: datetime
    finished_at: datetime | None = None
    results: list[CheckResult] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    previous_run: str | None = None  # uuid of the run compared with
    cancelled: bool = False
    run_id: str = ""

    @property
    def counted(self) -> list[CheckResult]:
        return [r for r in self.results if r.result != SKIPPED]

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, WARN: 0, FAIL: 0, SKIPPED: 0}
        for r in self.results:
            out[r.result] = out.get(r.result, 0) + 1
        return out

    @property
    def verdict(self) -> str:
        counted = self.counted
        if self.cancelled or not counted:
            return FAIL if not counted else WARN
        if all(r.result == PASS for r in counted) and not self.changes:
            return PASS
        if all(r.result == FAIL for r in counted):
            return FAIL
        return WARN

    def exit_code(self) -> int:
        """0 every check passed (and nothing got worse), 1 every check failed, 10 otherwise."""
        return {PASS: EXIT_ALL_PASS, FAIL: EXIT_ALL_FAIL}.get(self.verdict, EXIT_SOME)

    def to_dict(self) -> dict:
        return {"site": self.site, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "verdict": self.verdict, "counts": self.counts(), "cancelled": self.cancelled,
                "run_id": self.run_id, "previous_run": self.previous_run,
                "checks": [r.to_dict() for r in self.results],
                "changes": [c.to_dict() for c in self.changes]}
