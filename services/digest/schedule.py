"""Pure schedule arithmetic: parse HH:MM and time zones, and which local day is due.

A digest is scheduled at a wall-clock time in a zone, once per local day. The day "due" at
`now` is the latest local day whose scheduled instant is at or before `now`: after downtime
spanning several days only the most recent one is due. Around DST changes the wall-clock
time is read as Python does with fold=0: a time skipped by a spring-forward gap fires that
much later (02:30 in a 02:00->03:00 gap fires at 03:30), a time repeated by a fall-back fires
at its first occurrence only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

TIME_HELP = "HH:MM, 24-hour, like 07:30"
ZONE_HELP = "an IANA time zone like Europe/Berlin or America/New_York, UTC, or +02:00"
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_UTC_NAMES = {"utc", "gmt", "z", "etc/utc", "etc/gmt"}
MAX_OFFSET = timedelta(hours=14)


class ScheduleError(ValueError):
    """A time or time zone that cannot be used; the message names the bad token."""


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def parse_time(text: str) -> time:
    """'07:30' or '7:30' -> time(7, 30)."""
    match = _TIME.match(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"bad time '{_short(text)}'; use {TIME_HELP}")
    return time(int(match[1]), int(match[2]))


# Abbreviations people type for a zone. The tz database has a few of them (CET, EST, ...) as
# fixed-rule or fixed-offset zones that are not what anyone means (EST never has summer
# time, CET follows no country's rules), and the rest are ambiguous (CST, IST): refused,
# with the zone most people mean.
ABBREVIATIONS = {
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "met": "Europe/Berlin",
    "mest": "Europe/Berlin", "eet": "Europe/Athens", "eest": "Europe/Athens",
    "wet": "Europe/Lisbon", "west": "Europe/Lisbon", "bst": "Europe/London",
    "est": "America/New_York", "edt": "America/New_York", "est5edt": "America/New_York",
    "cst": "America/Chicago or Asia/Shanghai", "cdt": "America/Chicago",
    "cst6cdt": "America/Chicago", "mst": "America/Denver or America/Phoenix",
    "mdt": "America/Denver", "mst7mdt": "America/Denver", "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles", "pst8pdt": "America/Los_Angeles", "hst": "Pacific/Honolulu",
    "akst": "America/Anchorage", "ist": "Asia/Kolkata, Europe/Dublin or Asia/Jerusalem",
    "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "hkt": "Asia/Hong_Kong", "sgt": "Asia/Singapore",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "acst": "Australia/Adelaide",
    "awst": "Australia/Perth", "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland",
    "msk": "Europe/Moscow", "brt": "America/Sao_Paulo", "art": "America/Argentina/Buenos_Aires",
}


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> str:
    """The canonical name of a zone: 'europe/berlin' -> 'Europe/Berlin', 'utc+2' -> '+02:00'."""
    word = text.strip()
    if word.lower() in _UTC_NAMES:
        return "UTC"
    match = _OFFSET.match(word)
    if match:
        hours, minutes = int(match[2]), int(match[3] or 0)
        offset = timedelta(hours=hours, minutes=minutes)
        if minutes > 59 or offset > MAX_OFFSET:
            raise ScheduleError(f"bad UTC offset '{_short(text)}'; at most ±14:00")
        if not offset:
            return "UTC"
        return f"{match[1]}{hours:02d}:{minutes:02d}"
    if word.lower() in ABBREVIATIONS:
        raise ScheduleError(f"'{_short(text)}' is an abbreviation, not a time zone; try "
                            f"{ABBREVIATIONS[word.lower()]}")
    name = _zone_names().get(word.lower())
    if name is None:
        raise ScheduleError(f"unknown time zone '{_short(text)}'; use {ZONE_HELP}")
    return name


@cache
def zone_info(name: str) -> tzinfo:
    """The tzinfo of a canonical zone name from `parse_zone`."""
    if name == "UTC":
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign = 1 if match[1] == "+" else -1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3] or 0)))
    return ZoneInfo(name)


def scheduled_at(day: date, at: time, zone: tzinfo) -> datetime:
    """The instant (UTC) the digest of local `day` is scheduled for."""
    return datetime.combine(day, at, zone).astimezone(UTC)


def due_day(now: datetime, at: time, zone: tzinfo, since: datetime | None = None
            ) -> date | None:
    """The latest local day scheduled at or before `now`; None when that moment was before
    `since` (a digest switched on after today's time waits for tomorrow)."""
    day = now.astimezone(zone).date()
    while scheduled_at(day, at, zone) > now:  # compare in UTC: same-tzinfo compares are naive
        day -= timedelta(days=1)
    if since is not None and scheduled_at(day, at, zone) < since:
        return None
    return day


def next_due(now: datetime, at: time, zone: tzinfo) -> datetime:
    """The first scheduled instant after `now` (UTC)."""
    day = now.astimezone(zone).date()
    while scheduled_at(day, at, zone) <= now:
        day += timedelta(days=1)
    return scheduled_at(day, at, zone)
