"""The digest's schedule arithmetic: parsing, the due local day, DST, and the config block."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.digest.schedule import (
    ScheduleError,
    due_day,
    next_due,
    parse_time,
    parse_zone,
    scheduled_at,
    zone_info,
)
from services.settings import ConfigError, settings_from_dict

NY = zone_info("America/New_York")
BERLIN = zone_info("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("07:30", time(7, 30)), ("7:05", time(7, 5)), ("00:00", time(0)), ("23:59", time(23, 59))])
def test_parse_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "7:60", "0730", "7", "7:5", "noon", "-1:00", ""])
def test_bad_time_names_the_token(text: str) -> None:
    with pytest.raises(ScheduleError, match=f"bad time '{text}'; use HH:MM"):
        parse_time(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("UTC", "UTC"), ("utc", "UTC"), ("Z", "UTC"), ("GMT", "UTC"), ("+00:00", "UTC"),
    ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
    ("AMERICA/NEW_YORK", "America/New_York"), ("+02:00", "+02:00"), ("-0530", "-05:30"),
    ("+2", "+02:00"), ("UTC+5:45", "+05:45"), ("utc-3", "-03:00"), ("+14:00", "+14:00")])
def test_parse_zone_gives_a_canonical_name(text: str, expected: str) -> None:
    assert parse_zone(text) == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("Mars/Olympus", "unknown time zone 'Mars/Olympus'"), ("America", "unknown time zone"),
    ("../etc/passwd", "unknown time zone"), ("+15:00", "bad UTC offset '+15:00'"),
    ("+02:75", "bad UTC offset"), ("x" * 300, "unknown time zone 'xxxx")])
def test_bad_zone_names_the_token(text: str, problem: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(problem)):
        parse_zone(text)


def test_fixed_offsets_are_real_offsets() -> None:
    assert scheduled_at(date(2026, 6, 1), time(8), zone_info("+02:00")) == utc(2026, 6, 1, 6)
    assert scheduled_at(date(2026, 6, 1), time(8), zone_info("-05:30")) == utc(
        2026, 6, 1, 13, 30)


def test_due_day_before_and_after_the_time() -> None:
    at = time(8)
    assert due_day(utc(2026, 6, 1, 7, 59), at, UTC) == date(2026, 5, 31)
    assert due_day(utc(2026, 6, 1, 8, 0), at, UTC) == date(2026, 6, 1)
    assert due_day(utc(2026, 6, 1, 23, 59), at, UTC) == date(2026, 6, 1)


def test_due_day_is_the_local_day_of_the_zone() -> None:
    # 07:30 in New York (EDT, UTC-4) is 11:30 UTC; 02:00 UTC is 22:00 the day before there.
    assert due_day(utc(2026, 6, 2, 11, 29), time(7, 30), NY) == date(2026, 6, 1)
    assert due_day(utc(2026, 6, 2, 11, 30), time(7, 30), NY) == date(2026, 6, 2)
    assert due_day(utc(2026, 6, 2, 2, 0), time(21, 0), NY) == date(2026, 6, 1)
    assert due_day(utc(2026, 6, 2, 2, 0), time(23, 0), NY) == date(2026, 5, 31)
    # 07:00 in Berlin (CEST, UTC+2) is 05:00 UTC of the same day.
    assert due_day(utc(2026, 6, 2, 5, 0), time(7), BERLIN) == date(2026, 6, 2)
    assert due_day(utc(2026, 6, 2, 4, 59), time(7), BERLIN) == date(2026, 6, 1)


def test_after_days_of_downtime_only_the_latest_day_is_due() -> None:
    assert due_day(utc(2026, 6, 5, 9), time(8), UTC, since=utc(2026, 6, 1)) == date(2026, 6, 5)


def test_switched_on_after_todays_time_waits_for_tomorrow() -> None:
    since = utc(2026, 6, 1, 9)
    assert due_day(utc(2026, 6, 1, 9, 0, 30), time(8), UTC, since) is None
    assert due_day(utc(2026, 6, 2, 7, 59), time(8), UTC, since) is None
    assert due_day(utc(2026, 6, 2, 8), time(8), UTC, since) == date(2026, 6, 2)
    # Switched on before today's time: today counts.
    assert due_day(utc(2026, 6, 1, 8), time(8), UTC, utc(2026, 6, 1, 7)) == date(2026, 6, 1)


def test_spring_forward_gap_fires_once_that_much_later() -> None:
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    at, day = time(2, 30), date(2026, 3, 8)
    assert scheduled_at(day, at, NY) == utc(2026, 3, 8, 7, 30)  # 03:30 EDT
    assert due_day(utc(2026, 3, 8, 7, 29), at, NY) == date(2026, 3, 7)
    assert due_day(utc(2026, 3, 8, 7, 30), at, NY) == day
    assert scheduled_at(date(2026, 3, 9), at, NY) == utc(2026, 3, 9, 6, 30)  # EDT again


def test_fall_back_repeat_fires_at_the_first_occurrence_only() -> None:
    # New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    at, day = time(1, 30), date(2026, 11, 1)
    first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)
    assert scheduled_at(day, at, NY) == first
    assert due_day(first - timedelta(seconds=1), at, NY) == date(2026, 10, 31)
    assert due_day(first, at, NY) == day
    assert due_day(second, at, NY) == day  # the repeat is the same local day: not due again
    assert next_due(second, at, NY) == utc(2026, 11, 2, 6, 30)


def test_days_around_dst_are_23_and_25_hours_apart() -> None:
    assert (scheduled_at(date(2026, 3, 29), time(8), BERLIN)
            - scheduled_at(date(2026, 3, 28), time(8), BERLIN)) == timedelta(hours=23)
    assert (scheduled_at(date(2026, 10, 25), time(8), BERLIN)
            - scheduled_at(date(2026, 10, 24), time(8), BERLIN)) == timedelta(hours=25)


ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                         "Pacific/Kiritimati", "Pacific/Pago_Pago", "+05:45", "America/Santiago"])


# hypothesis takes naive bounds and attaches the time zone itself
@given(now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1),  # noqa: DTZ001
                        timezones=st.just(UTC)),
       at=st.times(), zone=ZONES)
def test_due_day_brackets_now(now: datetime, at: time, zone: str) -> None:
    """The due day's moment is at or before now, the next one after it, and they are at
    most 25 hours apart (one day, plus a DST hour)."""
    tz = zone_info(zone)
    day = due_day(now, at, tz)
    assert day is not None
    due, following = scheduled_at(day, at, tz), next_due(now, at, tz)
    assert due <= now < following
    assert timedelta(hours=22) <= following - due <= timedelta(hours=26)


def test_config_block_is_validated_naming_the_key() -> None:
    settings = settings_from_dict({"digest": {"default_time": "7:30", "default_tz": "utc"}},
                                  root=Path())
    assert (settings.digest.default_time, settings.digest.default_tz) == ("07:30", "UTC")
    with pytest.raises(ConfigError, match=r"digest\.default_tz: .*unknown time zone 'Mars'"):
        settings_from_dict({"digest": {"default_tz": "Mars"}}, root=Path())
    with pytest.raises(ConfigError, match=r"digest\.tick_seconds"):
        settings_from_dict({"digest": {"tick_seconds": 0}}, root=Path())


@pytest.mark.parametrize(("text", "suggestion"), [
    ("CET", "Europe/Berlin"), ("cest", "Europe/Berlin"), ("EST", "America/New_York"),
    ("EST5EDT", "America/New_York"), ("PST", "America/Los_Angeles"),
    ("MST", "America/Denver or America/Phoenix"), ("IST", "Asia/Kolkata"),
    ("EET", "Europe/Athens"), ("HST", "Pacific/Honolulu")])
def test_zone_abbreviations_are_refused_with_a_suggestion(text: str, suggestion: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_zone(text)
    message = str(caught.value)
    assert message.startswith(f"'{text}' is an abbreviation, not a time zone; try ")
    assert suggestion in message


def test_full_zone_names_and_offsets_still_work() -> None:
    assert parse_zone("europe/berlin") == "Europe/Berlin"
    assert parse_zone("+01:00") == "+01:00"
    assert parse_zone("Japan") == "Japan"  # a link to Asia/Tokyo: unambiguous
