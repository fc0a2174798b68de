"""SLA arithmetic: property tests against a minute-stepping reference, plus worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacs_console.core.errors import ConsoleError
from pacs_console.core.incidents.sla import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    parse_hours,
    response_due,
    response_status,
)

ZONES = ["Africa/Accra", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
MINUTE = timedelta(minutes=1)


@cache
def _public_holidays(country: str, year: int) -> set:
    return set(holidays.country_holidays(country, years=year)) if country else set()


def reference_open(cal: BusinessCalendar, t: datetime) -> bool:
    """Independent of the code under test: the wall clock at t, the weekday's hours, holidays."""
    local = t.astimezone(ZoneInfo(cal.timezone))
    day = local.date()
    if day in cal.closed_days or day in _public_holidays(cal.holiday_country, day.year):
        return False
    minute = local.hour * 60 + local.minute
    return any(s <= minute < e for s, e in cal.week[local.weekday()])


def reference_add(cal, start, minutes):
    t, counted = start, 0
    while counted < minutes:
        if reference_open(cal, t):
            counted += 1
        t += MINUTE
    return t


def reference_between(cal, start, end):
    t, counted = start, 0
    while t < end:
        counted += reference_open(cal, t)
        t += MINUTE
    return timedelta(minutes=counted)


@st.composite
def calendars(draw):
    def day_hours():
        start = draw(st.integers(0, 44)) * 30  # at least two open hours a day keeps the
        return ((start, draw(st.integers(start + 120, 1440))),)  # reference walk short

    open_days = draw(st.sets(st.integers(0, 6), min_size=3, max_size=7))
    week = tuple(day_hours() if d in open_days else () for d in range(7))
    first = datetime(2024, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    closed = draw(st.lists(st.integers(0, 20), max_size=3))
    closed_days = frozenset((first + timedelta(days=n)).date() for n in closed)
    return BusinessCalendar(draw(st.sampled_from(ZONES)), week,
                            draw(st.sampled_from(["GH", "GB", "US", ""])), closed_days)


def _instant(draw, cal):
    day = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 3 * 365)))
    return day + timedelta(minutes=draw(st.integers(0, 1439)))


# Checked against the minute-by-minute references, which are slow: no deadline, no too-slow check.
against_minute_stepping = settings(max_examples=200, deadline=None, database=None,
                                   suppress_health_check=[HealthCheck.too_slow])


@against_minute_stepping
@given(data=st.data())
def test_add_business_time_matches_minute_stepping(data):
    cal = data.draw(calendars())
    start = _instant(data.draw, cal)
    minutes = data.draw(st.integers(0, 8 * 60))
    assert add_business_time(cal, start, timedelta(minutes=minutes)) == \
        reference_add(cal, start, minutes)


@against_minute_stepping
@given(data=st.data())
def test_business_time_between_matches_minute_stepping(data):
    cal = data.draw(calendars())
    start = _instant(data.draw, cal)
    end = start + timedelta(minutes=data.draw(st.integers(0, 4 * 24 * 60)))
    assert business_time_between(cal, start, end) == reference_between(cal, start, end)
    assert business_time_between(cal, end, start) == -business_time_between(cal, start, end)


@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_adding_then_measuring_round_trips(data):
    cal = data.draw(calendars())
    start = _instant(data.draw, cal)
    duration = timedelta(minutes=data.draw(st.integers(1, 16 * 60)))
    due = add_business_time(cal, start, duration)
    assert business_time_between(cal, start, due) == duration
    assert business_time_between(cal, start, due - MINUTE) < duration


ACCRA = BusinessCalendar()  # Mon-Fri 08:00-17:00, Ghana holidays, UTC+0


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_medium_reported_friday_afternoon_is_due_monday_morning():
    # 2025-06-13 is a Friday; 2 business hours remain that day, 2 more on Monday 08:00-10:00.
    assert response_due(ACCRA, "medium", utc(2025, 6, 13, 15, 0)) == utc(2025, 6, 16, 10, 0)


def test_low_spans_a_night():
    assert response_due(ACCRA, "low", utc(2025, 6, 10, 13, 0)) == utc(2025, 6, 11, 12, 0)


def test_ghana_holidays_are_skipped():
    # Thu 2025-12-25 and Fri 12-26 are Christmas and Boxing Day: Wednesday 16:00 + 4 h -> Mon 11:00.
    assert response_due(ACCRA, "medium", utc(2025, 12, 24, 16, 0)) == utc(2025, 12, 29, 11, 0)
    # Independence Day, Thu 2025-03-06.
    assert response_due(ACCRA, "medium", utc(2025, 3, 5, 16, 30)) == utc(2025, 3, 7, 11, 30)


def test_extra_closed_days_and_custom_hours():
    cal = BusinessCalendar.from_settings(hours={"sat": "09:00-13:00"}, closed_days=["2025-06-16"])
    # Friday 16:00 + 8 h: 1 h Friday, 4 h Saturday, Monday closed, 3 h Tuesday.
    assert response_due(cal, "low", utc(2025, 6, 13, 16, 0)) == utc(2025, 6, 17, 11, 0)


def test_reported_outside_hours_starts_the_clock_at_opening():
    assert response_due(ACCRA, "medium", utc(2025, 6, 14, 3, 0)) == utc(2025, 6, 16, 12, 0)


def test_site_in_another_time_zone_uses_its_local_hours():
    nairobi = BusinessCalendar.from_settings(timezone="Africa/Nairobi", holiday_country="KE")
    # 05:00 UTC is 08:00 in Nairobi (UTC+3): 4 h -> 12:00 local = 09:00 UTC.
    assert response_due(nairobi, "medium", utc(2025, 6, 10, 5, 0)) == utc(2025, 6, 10, 9, 0)


def test_wall_clock_targets_ignore_the_calendar():
    sunday_night = utc(2025, 6, 15, 23, 50)
    assert response_due(ACCRA, "critical", sunday_night) == sunday_night + timedelta(minutes=15)
    assert response_due(ACCRA, "High", sunday_night) == sunday_night + timedelta(hours=1)


def test_response_states():
    reported = utc(2025, 6, 10, 9, 0)
    due = response_due(ACCRA, "high", reported)
    assert response_status("high", reported, due, None, reported).state == "running"
    soon = response_status("high", reported, due, None, reported + timedelta(minutes=50))
    assert soon.state == "due-soon" and soon.countdown() == "0:10:00"
    late = response_status("high", reported, due, None, reported + timedelta(minutes=70))
    assert late.state == "breached" and late.countdown() == "-0:10:00"
    met = response_status("high", reported, due, reported + timedelta(minutes=20), reported)
    assert met.state == "met" and met.response == timedelta(minutes=20)
    assert response_status("high", reported, due, due + MINUTE, due).state == "breached"


def test_bad_inputs_get_a_diagnosis():
    for make in (lambda: parse_hours("8-5"), lambda: parse_hours("17:00-08:00"),
                 lambda: BusinessCalendar.from_settings(timezone="Mars/Olympus"),
                 lambda: BusinessCalendar.from_settings(holiday_country="XX"),
                 lambda: response_due(ACCRA, "urgent", utc(2025, 1, 1))):
        with pytest.raises(ConsoleError) as info:
            make()
        assert info.value.diagnosis.actions
    closed = BusinessCalendar.from_settings(hours={d: "" for d in ("mon", "tue", "wed", "thu", "fri")})
    with pytest.raises(ConsoleError):
        response_due(closed, "low", utc(2025, 1, 1))


def test_dst_repeated_and_skipped_hours_count_real_time():
    london = BusinessCalendar("Europe/London", tuple(((0, 1440),) for _ in range(7)), "", frozenset())
    # 2025-03-30 has 23 hours in London, 2025-10-26 has 25.
    day = lambda d: (datetime(2025, *d, tzinfo=ZoneInfo("Europe/London")),  # noqa: E731
                     datetime(2025, *d, tzinfo=ZoneInfo("Europe/London")) + timedelta(days=1))
    spring, autumn = day((3, 30)), day((10, 26))
    assert business_time_between(london, *spring) == timedelta(hours=23)
    assert business_time_between(london, *autumn) == timedelta(hours=25)
    assert date(2025, 3, 30) == spring[0].date()
