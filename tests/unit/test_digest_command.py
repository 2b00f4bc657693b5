"""/digest through the command registry (replay app, embedded store, a fixed clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.app import App
from bot.text import render_text
from handlers.digest import digest_reply
from handlers.registry import Chat
from services.digest.store import DigestStore

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday
GROUP_ADMIN = Chat("telegram", "-100500", "7", is_group=True)


async def _not_admin() -> bool:
    return False


MEMBER = Chat("telegram", "-100500", "8", is_group=True, is_admin=_not_admin)


@pytest.fixture
def app(replay_app: App) -> App:
    assert replay_app.hub.digest is not None
    store = DigestStore(replay_app.redis, replay_app.hub.digest.keys, clock=lambda: NOW)
    replay_app.hub = replace(replay_app.hub, digest=store)
    return replay_app


async def ask(app: App, text: str, chat: Chat = GROUP_ADMIN) -> tuple[str, bool]:
    reply = await app.registry.run_text(app.context(chat), text)
    return render_text(reply), reply.error


async def test_digest_is_off_until_switched_on(app: App) -> None:
    text, error = await ask(app, "/digest")
    assert not error and text.startswith("Daily digest: off")
    assert "/digest on [HH:MM] [tz]" in text


async def test_on_with_time_and_zone_shows_the_next_time(app: App) -> None:
    text, error = await ask(app, "/digest on 07:30 America/New_York")
    assert not error
    assert text.startswith("Daily digest on: 07:30 America/New_York")
    # 09:00 UTC is 05:00 in New York: today's 07:30 EDT is still ahead.
    assert "Next: Mon 2026-06-01 07:30 EDT (11:30 UTC)." in text
    assert "only the latest missed day is sent" in text
    shown, _ = await ask(app, "/digest")
    assert shown.startswith("Daily digest: on, 07:30 America/New_York")
    assert "Next: Mon 2026-06-01 07:30 EDT" in shown


async def test_on_alone_uses_08_00_utc_and_a_past_time_waits_for_tomorrow(app: App) -> None:
    text, _ = await ask(app, "/digest on")
    assert text.startswith("Daily digest on: 08:00 UTC")
    assert "Next: Tue 2026-06-02 08:00 UTC." in text
    assert app.hub.digest is not None
    saved = await app.hub.digest.get("telegram:-100500")
    assert saved is not None and saved.since == NOW and saved.due_day(NOW) is None


async def test_left_out_parts_keep_the_current_setting(app: App) -> None:
    await ask(app, "/digest on 06:15 europe/berlin")
    text, _ = await ask(app, "/digest on 07:00")
    assert text.startswith("Daily digest on: 07:00 Europe/Berlin")
    text, _ = await ask(app, "/digest on +02:00")
    assert text.startswith("Daily digest on: 07:00 +02:00")
    assert "Next: Tue 2026-06-02 07:00 UTC+02:00 (05:00 UTC)." in text


async def test_off_stops_it(app: App) -> None:
    await ask(app, "/digest on 07:30")
    assert (await ask(app, "/digest off"))[0] == "Daily digest off"
    assert (await ask(app, "/digest"))[0].startswith("Daily digest: off")
    assert (await ask(app, "/digest off"))[0] == "The daily digest was not on here"


@pytest.mark.parametrize(("command", "message"), [
    ("/digest on 25:00", "bad time '25:00'; use HH:MM, 24-hour, like 07:30"),
    ("/digest on 7.30", "bad time '7.30'; use HH:MM"),
    ("/digest on 07:30 Mars/Olympus", "unknown time zone 'Mars/Olympus'; use an IANA"),
    ("/digest on Europe/Berlin +15:00", "give one time and one time zone"),
    ("/digest on 07:30 UTC extra", "expected a time and a time zone after on, got 'extra'"),
    ("/digest sometimes", "expected on or off, got 'sometimes'"),
    ("/digest off 07:30", "off takes nothing more, got '07:30'"),
])
async def test_bad_input_is_one_line_naming_the_token(app: App, command: str,
                                                      message: str) -> None:
    text, error = await ask(app, command)
    assert error and "\n" not in text
    assert text.startswith(message)
    assert text.endswith("(usage: /digest [on [HH:MM] [tz] | off])")
    assert (await ask(app, "/digest"))[0].startswith("Daily digest: off")


async def test_only_group_admins_change_it_but_anyone_sees_it(app: App) -> None:
    for command in ("/digest on 07:30", "/digest off"):
        text, error = await ask(app, command, MEMBER)
        assert error and text.startswith("only chat admins can change settings here")
    text, error = await ask(app, "/digest", MEMBER)
    assert not error and text.startswith("Daily digest: off")


async def test_help_lists_it(app: App) -> None:
    text, _ = await ask(app, "/help")
    assert "/digest — Daily brief here" in text
    text, _ = await ask(app, "/help digest")
    assert text.startswith("/digest [action] [time] [tz]")
    assert "tz: for on: an IANA time zone like Europe/Berlin" in text


async def test_digest_text_is_the_brief_titled_for_the_day(app: App) -> None:
    brief = await app.registry.run_text(app.context(GROUP_ADMIN), "/brief")
    digest = await digest_reply(app.context(GROUP_ADMIN), date(2026, 6, 1))
    assert digest.title == "flowwatch daily digest, Mon 01 Jun 2026"
    assert digest.tables == brief.tables and digest.footer == brief.footer
    assert "/digest off stops it" in render_text(digest)
