"""C-ECHO (Verification) with TCP connect, association and round-trip times, and a diagnosis.

``wire.echo.echo_on`` picks the wire path (the lean Upper Layer, or pynetdicom for TLS and
whatever the lean path hands back); this module makes the result, statistics and evidence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import field

from pacs_console.core.dicom.ops.results import make_evidence, summary_stats
from pacs_console.core.dicom.wire.echo import echo_on
from pacs_console.core.dicom.wire.params import DEFAULT_AE_TITLE, Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import Diagnosis
from pacs_console.core.records import record


@record
class EchoResult:
    """One C-ECHO: its status, the time of each phase, the peer's identity, and the
    association report or the diagnosis."""

    ok: bool
    target: Target = field(repr=False)  # the node echoed: its host, port and AE titles
    status: int | None = None
    connect_ms: float | None = None
    associate_ms: float | None = None
    echo_ms: float | None = None
    total_ms: float | None = None
    diagnosis: Diagnosis | None = None
    peer: dict[str, str] = field(default_factory=dict)
    tls_ms: float | None = None
    _association: dict | None = field(default=None, repr=False)
    # The lean path's report, made on first use (it names UIDs through pydicom, which an echo
    # that is only printed never needs to load).
    report_later: Callable[[], dict] | None = field(default=None, repr=False, compare=False)

    host = property(lambda self: self.target.host)
    port = property(lambda self: self.target.port)
    called_ae = property(lambda self: self.target.called_ae)
    calling_ae = property(lambda self: self.target.calling_ae)

    @property
    def association(self) -> dict | None:
        if self.report_later is not None:
            self._association, self.report_later = self.report_later(), None
        return self._association

    @association.setter
    def association(self, value: dict | None) -> None:
        self._association, self.report_later = value, None

    def to_dict(self) -> dict:
        data = {"ok": self.ok, "host": self.host, "port": self.port, "called_ae": self.called_ae,
                "calling_ae": self.calling_ae}
        data.update((k, v) for k, v in self.__dict__.items()
                    if k not in ("ok", "diagnosis", "target", "report_later", "_association"))
        data["association"] = self.association
        data["diagnosis"] = self.diagnosis.to_dict() if self.diagnosis else None
        return data

    @property
    def outcome(self) -> str:
        return "ok" if self.ok else "failed"

    def summary(self) -> str:
        if self.ok:
            return (f"C-ECHO OK in {self.total_ms:.1f} ms (connect {self.connect_ms:.1f}, "
                    f"associate {self.associate_ms:.1f}, echo {self.echo_ms:.1f})")
        return f"C-ECHO failed: {self.diagnosis.what if self.diagnosis else 'unknown'}"

    def evidence(self) -> dict:
        metrics = {k: getattr(self, k) for k in ("connect_ms", "tls_ms", "associate_ms", "echo_ms",
                                                 "total_ms", "status")}
        return make_evidence("echo", self.target, outcome=self.outcome, metrics=metrics,
                             diagnosis=self.diagnosis, association=self.association,
                             summary=self.summary(), duration_ms=self.total_ms or 0.0)


def echo(host: str, port: int, called_ae: str, calling_ae: str = DEFAULT_AE_TITLE,
         timeouts: Timeouts | None = None) -> EchoResult:
    """One C-ECHO on a fresh association; never raises for network or peer failures."""
    return echo_target(Target(host, port, called_ae, calling_ae, timeouts or Timeouts()))


def echo_target(target: Target, before_pynetdicom=None) -> EchoResult:
    """One C-ECHO to ``target`` (TLS included); never raises for network or peer failures.
    ``before_pynetdicom``: see ``wire.echo.echo_on``."""
    return echo_on(target, EchoResult(False, target), before_pynetdicom)


SERIES_KEEP = 5000


@record
class EchoStats:
    """A continuous echo's summary: loss and min/median/p95/max/jitter per phase, in ms."""

    sent: int
    ok: int
    loss_pct: float
    connect: dict
    associate: dict
    round_trip: dict
    total: dict
    target: Target | None = field(default=None, repr=False)
    last_diagnosis: Diagnosis | None = None
    duration_ms: float = 0.0
    # Round trip of each echo in order (None = failed), for charts in reports; the newest
    # SERIES_KEEP only, so a week-long monitor does not bloat its test run.
    series_ms: list[float | None] = field(default_factory=list)

    @classmethod
    def from_results(cls, results: list[EchoResult], target: Target | None = None,
                     duration_ms: float = 0.0) -> EchoStats:
        good = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        sent = len(results)

        def pick(name):
            return summary_stats([getattr(r, name) for r in good if getattr(r, name) is not None])

        return cls(sent, len(good), round(100.0 * (sent - len(good)) / sent, 2) if sent else 0.0,
                   pick("connect_ms"), pick("associate_ms"), pick("echo_ms"), pick("total_ms"),
                   target, failed[-1].diagnosis if failed else None, duration_ms,
                   [round(r.total_ms, 3) if r.ok and r.total_ms is not None else None
                    for r in results[-SERIES_KEEP:]])

    def to_dict(self) -> dict:
        return {"sent": self.sent, "ok": self.ok, "loss_pct": self.loss_pct,
                "connect_ms": self.connect, "associate_ms": self.associate,
                "round_trip_ms": self.round_trip, "total_ms": self.total,
                "series_ms": self.series_ms,
                "last_diagnosis": self.last_diagnosis.to_dict() if self.last_diagnosis else None}

    def evidence(self) -> dict:
        outcome = "ok" if self.sent and self.ok == self.sent else "failed" if not self.ok else "warning"
        summary = f"{self.sent} C-ECHO, {self.ok} OK, loss {self.loss_pct:g} %"
        if self.round_trip["median"] is not None:  # no echo answered: no figure to give
            summary += f", round trip median {self.round_trip['median']} ms"
        target = self.target or "unknown"
        return make_evidence("echo-series", target, outcome=outcome, metrics=self.to_dict(),
                             diagnosis=self.last_diagnosis, summary=summary,
                             duration_ms=self.duration_ms)


def echo_series(target: Target, count: int | None = None, interval: float = 1.0, *,
                stop: threading.Event | None = None) -> Generator[EchoResult, None, EchoStats]:
    """Ping with C-ECHO ``count`` times (None: until closed or ``stop`` is set)."""
    results: list[EchoResult] = []
    start = time.perf_counter()
    n = 0
    while count is None or n < count:
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        result = echo_target(target)
        results.append(result)
        n += 1
        yield result
        if count is not None and n >= count:
            break
        wait = interval - (time.perf_counter() - t0)
        if wait > 0:
            if stop is not None:
                stop.wait(wait)
            else:
                time.sleep(wait)
    return EchoStats.from_results(results, target, (time.perf_counter() - start) * 1000)
