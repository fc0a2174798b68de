"""Node uptime from echo history against the 99.9% target, excluding scheduled maintenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the window imports this module for its wording; SQLAlchemy loads later
    from pacs_console.core.db.engine import Database

UPTIME_TARGET = 0.999
# An echo result stands for the node's state until the next one, but no longer than this:
# beyond it the monitor was not running and the time counts as unknown, not as up or down.
DEFAULT_MAX_GAP = timedelta(minutes=15)
# Below either of these a percentage says more about the monitor than about the node (2 echo
# samples covering 0.1 % of a week once read "9.075 %, missed"): say "not enough data" instead.
MIN_SAMPLES = 3
MIN_MONITORED = 0.5  # of the period outside maintenance


def duration_text(delta: timedelta) -> str:
    """A span as a person reads it: "40 s", "15 min", "3 h 05 min", "6 d 4 h"."""
    seconds = int(delta.total_seconds())
    if 0 < seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class Uptime:
    window: timedelta
    maintenance: timedelta
    unknown: timedelta
    up: timedelta
    down: timedelta
    samples: int
    target: float = UPTIME_TARGET

    @property
    def observed_fraction(self) -> float | None:
        """Up time over monitored time, however little was monitored."""
        counted = self.up + self.down
        return self.up / counted if counted > timedelta(0) else None

    @property
    def enough_data(self) -> bool:
        monitored = self.monitored
        return (self.samples >= MIN_SAMPLES and monitored is not None
                and monitored >= MIN_MONITORED)

    @property
    def fraction(self) -> float | None:
        """The uptime figure, or None when the echo history is too thin to give one."""
        return self.observed_fraction if self.enough_data else None

    @property
    def meets_target(self) -> bool | None:
        return None if self.fraction is None else self.fraction >= self.target

    @property
    def monitored(self) -> float | None:
        """How much of the time outside maintenance the echo monitor actually covered."""
        expected = self.window - self.maintenance
        return (self.up + self.down) / expected if expected > timedelta(0) else None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "missed", None: "not enough data"}[self.meets_target]

    @property
    def basis(self) -> str:
        """What the figure was computed from, e.g. "240 echo samples over 2 d 4 h monitored,
        31.0 % of the 7 d 0 h outside maintenance"."""
        expected = self.window - self.maintenance
        share = "" if self.monitored is None else f"{self.monitored * 100:.1f} % of "
        noun = "sample" if self.samples == 1 else "samples"
        return (f"{self.samples} echo {noun} over {duration_text(self.up + self.down)} monitored,"
                f" {share}the {duration_text(expected)} outside maintenance")

    def summary(self) -> str:
        """The figure with its verdict and basis, or why there is none."""
        if self.fraction is None:
            return f"not enough data ({self.basis})"
        return (f"{self.fraction * 100:.3f} % ({self.verdict} against {self.target * 100:g} %) "
                f"from {self.basis}")

    def to_dict(self) -> dict:
        return {"window_s": self.window.total_seconds(), "up_s": self.up.total_seconds(),
                "down_s": self.down.total_seconds(), "unknown_s": self.unknown.total_seconds(),
                "maintenance_s": self.maintenance.total_seconds(), "samples": self.samples,
                "fraction": self.fraction, "target": self.target,
                "meets_target": self.meets_target, "monitored_fraction": self.monitored,
                "enough_data": self.enough_data, "observed_fraction": self.observed_fraction,
                "verdict": self.verdict, "basis": self.basis, "summary": self.summary(),
                "min_samples": MIN_SAMPLES, "min_monitored_fraction": MIN_MONITORED}


@dataclass(frozen=True)
class NodeUptime:
    node_id: int
    name: str
    label: str
    site_name: str
    uptime: Uptime

    def to_dict(self) -> dict:
        return {"node_id": self.node_id, "name": self.name, "label": self.label,
                "site": self.site_name, **self.uptime.to_dict()}


def _merge(intervals: Sequence[tuple[datetime, datetime]], start: datetime,
           end: datetime) -> list[tuple[datetime, datetime]]:
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if b > start and a < end)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif b > a:
            merged.append((a, b))
    return merged


def _minus(a: datetime, b: datetime, holes: list[tuple[datetime, datetime]]) -> timedelta:
    """Length of [a, b) outside the (sorted, disjoint) holes."""
    total = b - a
    for h1, h2 in holes:
        lo, hi = max(a, h1), min(b, h2)
        if hi > lo:
            total -= hi - lo
    return total


def compute_uptime(samples: Sequence[tuple[datetime, bool]], start: datetime, end: datetime,
                   maintenance: Sequence[tuple[datetime, datetime]] = (),
                   max_gap: timedelta = DEFAULT_MAX_GAP) -> Uptime:
    """Pure: samples are (time, reachable) echo results; state holds until the next sample."""
    if end <= start:
        raise ValueError("the uptime window must end after it starts")
    holes = _merge(maintenance, start, end)
    maintenance_total = sum((b - a for a, b in holes), timedelta(0))
    ordered = sorted(samples)
    up = down = timedelta(0)
    for index, (at, ok) in enumerate(ordered):
        following = ordered[index + 1][0] if index + 1 < len(ordered) else end
        a, b = max(at, start), min(following, at + max_gap, end)
        if b <= a:
            continue
        span = _minus(a, b, holes)
        if ok:
            up += span
        else:
            down += span
    window = end - start
    unknown = window - maintenance_total - up - down
    return Uptime(window, maintenance_total, unknown, up, down,
                  sum(1 for at, _ in ordered if start <= at < end))


def node_uptime(db: Database, node_id: int, start: datetime, end: datetime, *,
                max_gap: timedelta = DEFAULT_MAX_GAP) -> Uptime:
    """From the node's saved echo runs and the maintenance windows entered for it or its site."""
    from sqlmodel import col, select

    from pacs_console.core.db.tables import Node, TestRun
    from pacs_console.core.incidents.model import aware
    from pacs_console.core.incidents.sites import maintenance_windows

    with db.session() as session:
        node = session.get(Node, node_id)
        site_id = node.site_id if node else None
        runs = session.exec(select(TestRun.started_at, TestRun.outcome)
                            .where(TestRun.node_id == node_id,
                                   col(TestRun.kind).in_(("echo", "echo-series")),
                                   TestRun.started_at < end.astimezone(UTC),
                                   TestRun.started_at >= (start - max_gap).astimezone(UTC))
                            ).all()
    samples = [(aware(at), outcome == "ok") for at, outcome in runs]
    windows = [(a, b) for a, b, _ in maintenance_windows(db, node_id=node_id, site_id=site_id)]
    return compute_uptime(samples, start, end, windows, max_gap)


def uptime_report(db: Database, start: datetime, end: datetime, *, node: int | str | None = None,
                  site: int | str | None = None,
                  max_gap: timedelta = DEFAULT_MAX_GAP) -> list[NodeUptime]:
    """Uptime of one node, of the nodes at a site, or of every node in the address book."""
    from pacs_console.core.db.nodes import get_node, list_nodes
    from pacs_console.core.incidents.model import check_period, invalid
    from pacs_console.core.incidents.sites import get_site, list_sites

    check_period(start, end, code="uptime-period", what="The uptime period",
                 action="Check --since and --until", names=("since", "until"))
    if node is not None:
        found = get_node(db, node)
        if found is None:
            raise invalid("node-unknown", f"No node {node!r} in the address book",
                          "Use its name, AE title or id from the Tests panel", node=str(node))
        nodes = [found]
    else:
        nodes = list_nodes(db)
    if site is not None:
        site_id = get_site(db, site).id
        nodes = [n for n in nodes if n.site_id == site_id]
    names = {s.id: s.name for s in list_sites(db)}
    return [NodeUptime(n.id, n.name, n.label, names.get(n.site_id, "") if n.site_id else "",
                       node_uptime(db, n.id, start, end, max_gap=max_gap)) for n in nodes]
