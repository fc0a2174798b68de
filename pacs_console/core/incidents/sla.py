"""Business-calendar arithmetic and SLA response clocks: pure functions, no database."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pacs_console.core.errors import ConsoleError, Diagnosis

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "Africa/Accra"
DEFAULT_COUNTRY = "GH"
DEFAULT_HOURS: Mapping[str, str] = {d: "08:00-17:00" for d in WEEKDAYS[:5]} | {"sat": "", "sun": ""}
# A calendar open for no minute in this many days is refused instead of looping for ever.
MAX_SEARCH_DAYS = 800
DUE_SOON_FRACTION = 0.25  # "due soon" once less than a quarter of the target remains

Span = tuple[int, int]  # minutes since local midnight, [start, end), end may be 1440


@dataclass(frozen=True)
class SeverityLevel:
    name: str
    response: timedelta
    business_hours: bool  # False: wall-clock target; True: counted in the site's business hours
    definition: str

    @property
    def label(self) -> str:
        return self.name.capitalize()


SEVERITY_LEVELS: dict[str, SeverityLevel] = {level.name: level for level in (
    SeverityLevel("critical", timedelta(minutes=15), False,
                  "System-wide outage: no user can view, store or retrieve images (server down, "
                  "network failure cutting PACS access, archive unable to store or retrieve "
                  "anything)."),
    SeverityLevel("high", timedelta(hours=1), False,
                  "Significant degradation or partial outage for many users or a critical "
                  "function (slow retrieval, primary review impossible, a critical component "
                  "failing)."),
    SeverityLevel("medium", timedelta(hours=4), True,
                  "Localised: one workstation slow, one modality connection failing, a "
                  "non-essential reporting feature."),
    SeverityLevel("low", timedelta(hours=8), True,
                  "Minor or cosmetic issue, small configuration request, enhancement request."),
)}
SEVERITIES = tuple(SEVERITY_LEVELS)


def _bad(code: str, what: str, action: str, **evidence: str) -> ConsoleError:
    return ConsoleError(Diagnosis(code, what, actions=(action,), evidence=evidence))


def parse_hours(text: str) -> tuple[Span, ...]:
    """'08:00-12:00,13:00-17:00' -> ((480, 720), (780, 1020)); '' means closed all day."""
    spans: list[Span] = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", part)
        if not match:
            raise _bad("sla-hours", f"Business hours {part!r} are not HH:MM-HH:MM",
                       "Write hours like 08:00-17:00, several separated by commas", hours=text)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or not 0 <= start < end <= 1440:
            raise _bad("sla-hours", f"Business hours {part!r} do not form a range within a day",
                       "Start before end, between 00:00 and 24:00 (night shifts: two ranges "
                       "on consecutive days)", hours=text)
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise _bad("sla-hours", f"Business hours {text!r} overlap", "Make the ranges disjoint",
                       hours=text)
    return tuple(spans)


def format_hours(spans: Iterable[Span]) -> str:
    return ",".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in spans)


def _closed_day(text: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise _bad("sla-closed-day", f"Closed day {text!r} is not a date YYYY-MM-DD",
                   "Write each extra closed day like 2025-12-24", day=str(text)) from exc


@lru_cache(maxsize=256)
def holiday_dates(country: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError as exc:
        raise _bad("sla-country", f"No public-holiday calendar for country {country!r}",
                   "Use an ISO 3166 code the holidays package knows, e.g. GH for Ghana",
                   country=country) from exc


@dataclass(frozen=True)
class BusinessCalendar:
    """A site's working week, time zone, public holidays and extra closed days."""

    timezone: str = DEFAULT_TIMEZONE
    week: tuple[tuple[Span, ...], ...] = field(
        default_factory=lambda: tuple(parse_hours(DEFAULT_HOURS[d]) for d in WEEKDAYS))
    holiday_country: str = DEFAULT_COUNTRY
    closed_days: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, timezone: str | None = None, hours: Mapping[str, str] | None = None,
                      holiday_country: str | None = None,
                      closed_days: Iterable[str | date] = ()) -> BusinessCalendar:
        """Build from stored values: hours as {'mon': '08:00-17:00', ...}, ISO closed days."""
        merged = {**DEFAULT_HOURS, **(hours or {})}
        unknown = set(merged) - set(WEEKDAYS)
        if unknown:
            raise _bad("sla-hours", f"Unknown weekday(s) {sorted(unknown)} in business hours",
                       "Use mon, tue, wed, thu, fri, sat, sun")
        days = frozenset(d if isinstance(d, date) else _closed_day(d) for d in closed_days)
        calendar = cls(timezone or DEFAULT_TIMEZONE, tuple(parse_hours(merged[d]) for d in WEEKDAYS),
                       DEFAULT_COUNTRY if holiday_country is None else holiday_country, days)
        calendar.zone  # noqa: B018 - fail here, with a diagnosis, on an unknown time zone
        holiday_dates(calendar.holiday_country, 2000)
        return calendar

    def hours_text(self) -> dict[str, str]:
        return {d: format_hours(spans) for d, spans in zip(WEEKDAYS, self.week, strict=True)}

    @cached_property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise _bad("sla-timezone", f"Unknown time zone {self.timezone!r}",
                       "Use an IANA name such as Africa/Accra", timezone=self.timezone) from exc

    def is_closed_day(self, day: date) -> bool:
        return day in self.closed_days or day in holiday_dates(self.holiday_country, day.year)

    def is_open(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        if self.is_closed_day(local.date()):
            return False
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(s <= minute < e for s, e in self.week[local.weekday()])

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC instants whose local wall time falls in ``day``'s hours, exact across DST."""
        if self.is_closed_day(day):
            return []
        spans: list[tuple[datetime, datetime]] = []
        for start, end in self.week[day.weekday()]:
            spans.extend(_utc_spans(self.zone, day, start, end))
        spans.sort()
        return spans


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta(0)


def _utc_spans(zone: ZoneInfo, day: date, start: int, end: int) -> list[tuple[datetime, datetime]]:
    # For each UTC offset in force that day, wall [start, end) maps to one UTC interval; keep the
    # part of it where the zone really has that offset. This handles gaps and repeated hours.
    midnight = datetime.combine(day, time())
    wall_start, wall_end = midnight + timedelta(minutes=start), midnight + timedelta(minutes=end)
    offsets = {w.replace(tzinfo=zone, fold=f).utcoffset() for w in (wall_start, wall_end)
               for f in (0, 1)}
    spans = []
    for offset in offsets:
        a = (wall_start - offset).replace(tzinfo=UTC)
        b = (wall_end - offset).replace(tzinfo=UTC)
        part = _where_offset(zone, a, b, offset)
        if part:
            spans.append(part)
    return spans


def _where_offset(zone: ZoneInfo, a: datetime, b: datetime, offset: timedelta):
    """The sub-interval of [a, b) where the zone's offset is ``offset`` (one change at most)."""
    last = b - timedelta(seconds=1)
    at_a, at_b = _offset(zone, a), _offset(zone, last)
    if at_a == offset and at_b == offset:
        return (a, b)
    if at_a != offset and at_b != offset:
        return None
    lo, hi = a, last  # offset(lo) == at_a, offset(hi) == at_b: find the first second of at_b
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if _offset(zone, mid) == at_a:
            lo = mid
        else:
            hi = mid
    return (a, hi) if at_a == offset else (hi, b)


def _check_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None:
            raise ValueError("SLA arithmetic needs timezone-aware datetimes")


def add_business_time(calendar: BusinessCalendar, start: datetime,
                      duration: timedelta) -> datetime:
    """The earliest instant by which ``duration`` of open time has passed since ``start``."""
    _check_aware(start)
    start = start.astimezone(UTC)
    remaining = duration
    if remaining <= timedelta(0):
        return start
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    for _ in range(MAX_SEARCH_DAYS):
        for a, b in calendar.open_spans(day):
            if b <= start:
                continue
            a = max(a, start)
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
        day += timedelta(days=1)
    raise _bad("sla-closed", f"The business calendar has no open hours within "
               f"{MAX_SEARCH_DAYS} days", "Give the site business hours on at least one weekday",
               timezone=calendar.timezone)


def business_time_between(calendar: BusinessCalendar, start: datetime,
                          end: datetime) -> timedelta:
    """Open time in [start, end); negative when end precedes start."""
    _check_aware(start, end)
    if end < start:
        return -business_time_between(calendar, end, start)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last = end.astimezone(calendar.zone).date() + timedelta(days=1)
    while day <= last:
        for a, b in calendar.open_spans(day):
            a, b = max(a, start), min(b, end)
            if b > a:
                total += b - a
        day += timedelta(days=1)
    return total


def response_due(calendar: BusinessCalendar, severity: str, reported_at: datetime) -> datetime:
    level = severity_level(severity)
    if level.business_hours:
        return add_business_time(calendar, reported_at, level.response)
    _check_aware(reported_at)
    return reported_at.astimezone(UTC) + level.response


def severity_level(severity: str) -> SeverityLevel:
    try:
        return SEVERITY_LEVELS[severity.lower()]
    except KeyError as exc:
        raise _bad("sla-severity", f"Unknown severity {severity!r}",
                   "Use critical, high, medium or low", severity=severity) from exc


@dataclass(frozen=True)
class SlaStatus:
    """The response clock: running, due-soon, breached or met; remaining is negative when late."""

    state: str
    due_at: datetime
    remaining: timedelta
    response: timedelta | None  # reported -> acknowledged (wall clock), once acknowledged

    def countdown(self) -> str:
        seconds = int(abs(self.remaining).total_seconds())
        hours, rest = divmod(seconds, 3600)
        text = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        return f"-{text}" if self.remaining < timedelta(0) else text


def response_status(severity: str, reported_at: datetime, due_at: datetime,
                    acknowledged_at: datetime | None, now: datetime) -> SlaStatus:
    _check_aware(reported_at, due_at, now)
    if acknowledged_at is not None:
        _check_aware(acknowledged_at)
        state = "met" if acknowledged_at <= due_at else "breached"
        return SlaStatus(state, due_at, due_at - acknowledged_at, acknowledged_at - reported_at)
    remaining = due_at - now
    target = severity_level(severity).response
    if remaining < timedelta(0):
        state = "breached"
    elif remaining <= target * DUE_SOON_FRACTION:
        state = "due-soon"
    else:
        state = "running"
    return SlaStatus(state, due_at, remaining, None)
