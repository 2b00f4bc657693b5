"""/digest [on [HH:MM] [tz] | off]: the daily /brief with the divergence chart, and its text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from handlers.errors import UserError
from handlers.registry import CommandContext, CommandGroup, Param
from handlers.reply import Reply
from services.alerts.events import destination_id
from services.digest.config import DigestSettings
from services.digest.schedule import (
    TIME_HELP,
    ZONE_HELP,
    ScheduleError,
    parse_time,
    parse_zone,
    zone_info,
)
from services.digest.store import Digest, DigestStore

commands = CommandGroup()
ABOUT = ("Once a day: the /brief numbers with the divergence chart. After downtime only the "
         "latest missed day is sent, once.")
OFF_HINT = "Daily digest: /digest off stops it, /digest shows when."
USAGE = "/digest [on [HH:MM] [tz] | off]"


def _store(ctx: CommandContext) -> DigestStore:
    return ctx.hub.digest


def _bad(message: str) -> UserError:
    return UserError(message, USAGE)


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"


def _schedule(words: tuple[str, ...], current: Digest | None,
              defaults: DigestSettings) -> tuple[time, str]:
    """[HH:MM] [tz] in either order; what is left out keeps the current (or default) value."""
    if len(words) > 2:
        raise _bad(f"expected a time and a time zone after on, got '{_short(words[2])}' "
                        "too")
    times = [w for w in words if w[:1].isdigit()]
    zones = [w for w in words if not w[:1].isdigit()]
    if len(times) > 1 or len(zones) > 1:
        raise _bad(f"give one time and one time zone, not '{_short(' '.join(words))}'")
    try:
        at = parse_time(times[0]) if times else None
        zone = parse_zone(zones[0]) if zones else None
    except ScheduleError as exc:
        raise _bad(str(exc)) from None
    return (at or (current.at if current else defaults.default_at()),
            zone or (current.zone if current else defaults.default_tz))


def _when(digest: Digest, now: datetime) -> str:
    """'next: Tue 2026-06-02 07:30 EDT (11:30 UTC)'."""
    due = digest.next_due(now)
    local = due.astimezone(zone_info(digest.zone))
    utc = "" if digest.zone == "UTC" else f" ({due.astimezone(UTC):%H:%M} UTC)"
    return f"Next: {local:%a %Y-%m-%d %H:%M} {local.tzname()}{utc}."


def _setting(current: Digest | None, now: datetime) -> Reply:
    if current is None:
        return Reply(title="Daily digest: off",
                     notes=("/digest on [HH:MM] [tz] sends it here every day.", ABOUT))
    return Reply(title=f"Daily digest: on, {current.at:%H:%M} {current.zone}",
                 notes=(_when(current, now), ABOUT))


@commands.command(
    Param("action", "on to get it every day, off to stop it; nothing shows the setting",
          choices=("on", "off")),
    Param("time", f"for on: {TIME_HELP} (default 08:00)"),
    Param("tz", f"for on: {ZONE_HELP} (default UTC)"),
    uses_setup=True,
)
async def digest(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Daily brief here.

    Get the daily brief with the divergence chart here (on [HH:MM] [tz], or off).
    """
    store, dest = _store(ctx), destination_id(ctx.chat.platform, ctx.chat.chat_id)
    action = args[0].lower() if args else ""
    if not action:
        return _setting(await store.get(dest), store.clock())
    if action not in ("on", "off"):
        raise _bad(f"expected on or off, got '{_short(args[0])}'")
    if ctx.chat.is_group and not await ctx.chat.is_admin():
        raise _bad("only chat admins can change settings here")
    if action == "off":
        if len(args) > 1:
            raise _bad(f"off takes nothing more, got '{_short(args[1])}'")
        was_on = await store.switch_off(dest)
        return Reply(title="Daily digest off" if was_on else "The daily digest was not on here")
    at, zone = _schedule(args[1:], await store.get(dest), ctx.hub.settings.digest)
    saved = await store.switch_on(dest, at, zone)
    return Reply(title=f"Daily digest on: {at:%H:%M} {zone}",
                 notes=(_when(saved, store.clock()), ABOUT, "/digest off stops it."))


async def digest_reply(ctx: CommandContext, day: date) -> Reply:
    """The digest of local `day`: the /brief reply, titled for the day."""
    spec = ctx.registry.get("brief")
    if spec is None:
        raise RuntimeError("/brief is not registered")
    brief = await spec.handler(ctx, ())
    return replace(brief, title=f"flowwatch daily digest, {day:%a %d %b %Y}",
                   notes=(*brief.notes, OFF_HINT))
