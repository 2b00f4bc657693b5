"""Every command's Telegram reply, at three as-of dates: valid HTML in Telegram's subset and
no monospace line wider than a phone shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from html.parser import HTMLParser

import fakeredis
import pytest

from bot.app import App, build_app
from bot.telegram.render import PHONE_WIDTH, render_html
from bot.telegram.send import CAPTION_LIMIT
from handlers.catalog import build_registry
from handlers.registry import Chat
from services.settings import Secrets
from tests.e2e.telegram_standin import parse_entities, replay_settings

ASOF_DATES = [date(2026, 5, 29), date(2025, 3, 14), date(2024, 6, 28)]
MONOSPACE = {"pre", "code"}
COMMANDS = [
    "/start", "/help", "/help divergence", "/help alert", "/brief", "/status",
    "/divergence", "/divergence ytd", "/divergence 30d", "/btc", "/stablecoins", "/yields",
    "/aitokens", "/aitokens 90d", "/capex", "/usage", "/thesis", "/thesis 2", "/thesis 5",
    "/chart divergence", "/chart capex 30d", "/alerts", "/subscribe all", "/alerts",
    "/unsubscribe", "/unsubscribe all", "/alert metrics", "/alert add btc.ytd below -50",
    "/alerts", "/mute 1d", "/unmute", "/digest", "/digest on 07:30 Europe/Berlin", "/digest",
    "/digest off", "/divergence banana", "/nosuchcommand",
]


class _Monospace(HTMLParser):
    """The text inside <pre> and <code> elements, one string per element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.blocks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in MONOSPACE:
            self.depth += 1
            if self.depth == 1:
                self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in MONOSPACE:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.blocks[-1] += data


def monospace_lines(html: str) -> list[str]:
    parser = _Monospace()
    parser.feed(html)
    parser.close()
    return [line for block in parser.blocks for line in block.splitlines()]


@pytest.fixture(params=ASOF_DATES, ids=str)
async def app(request: pytest.FixtureRequest) -> AsyncIterator[App]:
    redis = fakeredis.FakeAsyncRedis(decode_responses=True)
    built = await build_app(replay_settings(), Secrets(), asof=request.param, redis=redis)
    try:
        await built.refresh()
        yield built
    finally:
        await built.aclose()


def test_the_list_covers_every_command() -> None:
    asked = {line.split()[0].removeprefix("/") for line in COMMANDS}
    assert {spec.name for spec in build_registry()} <= asked


@pytest.mark.parametrize("chat_type", ["private", "group"])
async def test_every_reply_fits_a_phone_and_is_valid_html(app: App, chat_type: str) -> None:
    chat = Chat("telegram", "-100777" if chat_type == "group" else "777", "501",
                is_group=chat_type == "group")
    ctx = app.context(chat)
    for command in COMMANDS:
        reply = await app.registry.run_text(ctx, command)
        parts = render_html(reply)
        if reply.chart_png is not None:
            parts += render_html(reply, CAPTION_LIMIT)
        assert parts, command
        for html in parts:
            parse_entities(html, "HTML")  # raises on anything Telegram would refuse
            wide = [line for line in monospace_lines(html) if len(line) > PHONE_WIDTH]
            assert not wide, f"{command} at {app.hub.asof}: {wide}"


async def test_a_narrow_table_stays_aligned_and_a_wide_one_becomes_cards(app: App) -> None:
    ctx = app.context(Chat("telegram", "778"))
    [brief] = render_html(await app.registry.run_text(ctx, "/brief"))
    assert "<pre>" not in brief
    assert "AI minus crypto since 2024: " in parse_entities(brief, "HTML")
    [yields] = render_html(await app.registry.run_text(ctx, "/divergence"))
    assert "<pre>" in yields or "<b>" in yields
