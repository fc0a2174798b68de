"""What got worse since the last run at the same site."""

from __future__ import annotations

from pacs_console.core.health.model import FAIL, PASS, SKIPPED, WARN, Change, CheckResult
from pacs_console.core.health.plan import Thresholds

MIN_P95_INCREASE_MS = 20.0  # below this, a percentage rise is noise on a LAN


def compare(previous: dict[tuple[str, str], CheckResult], current: list[CheckResult],
            thresholds: Thresholds) -> list[Change]:
    changes: list[Change] = []
    for now in current:
        before = previous.get((now.node, now.check))
        if now.result == SKIPPED:
            continue
        if before is not None and before.result == PASS and now.result in (WARN, FAIL):
            changes.append(Change(now.node, now.check, now.result,
                                  f"{now.check} passed last time, now {now.result.upper()}: "
                                  f"{now.summary}"))
        if before is not None:
            changes += _p95_rise(before, now, thresholds)
        if now.check == "association" and now.result == WARN and before is not None:
            changes.append(Change(now.node, now.check, WARN, now.summary))
        days = now.metrics.get("days_left") if now.check == "tls" else None
        if days is not None and days < thresholds.cert_days_warn:
            changes.append(Change(now.node, "tls", FAIL if days < 0 else WARN,
                                  f"certificate {'expired' if days < 0 else 'expires'} in "
                                  f"{days} days" if days >= 0 else "certificate expired"))
    return changes


def _p95_rise(before: CheckResult, now: CheckResult, thresholds: Thresholds) -> list[Change]:
    old, new = before.metrics.get("p95_ms"), now.metrics.get("p95_ms")
    if not isinstance(old, int | float) or not isinstance(new, int | float) or old <= 0:
        return []
    rise = (new - old) / old * 100
    if rise > thresholds.p95_increase_pct and new - old > MIN_P95_INCREASE_MS:
        return [Change(now.node, now.check, WARN,
                       f"{now.check} p95 {old:.1f} ms -> {new:.1f} ms (+{rise:.0f} %)")]
    return []
