"""The send helper against the stand-in: long replies split, pacing, charts."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator

import pytest

from bot.telegram import TelegramFrontend
from bot.telegram.pacing import Pacer, PacingLimits
from bot.text import render_table
from handlers.reply import Reply, Table
from services.alerts.pacing import HEADROOM
from tests.clock import ManualClock, drive
from tests.e2e.telegram_standin import (
    TEXT_LIMIT,
    BotApiStandIn,
    parse_entities,
    replay_app,
    running_standin,
    telegram_secrets,
    tg_len,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def frontend() -> AsyncIterator[tuple[TelegramFrontend, BotApiStandIn]]:
    async with running_standin() as standin, replay_app() as app, \
            TelegramFrontend(app, telegram_secrets(standin)) as running:
        yield running, standin


def long_reply(rows: int = 500) -> Reply:
    table = Table(("#", "asset", "note", "value"), tuple(
        (f"row-{i:03d}", f"A&B<{i}>", "x" * (i % 7), f"+{i * 1.5:.1f}%") for i in range(rows)))
    return Reply(title="Five hundred rows & more", tables=(table,),
                 notes=("A note after the table.",), sources=("Stand-in",), asof="2026-05-29",
                 command="/long")


async def test_long_reply_is_split_on_whole_rows_into_valid_messages(
        frontend: tuple[TelegramFrontend, BotApiStandIn]) -> None:
    bot, standin = frontend
    reply = long_reply()
    sent = await bot.sender.send_reply(3000, reply)
    texts = [m["text"] for m in standin.sent_to(3000)]
    assert len(sent) == len(texts) >= 3
    for text in texts:
        assert tg_len(text) <= TEXT_LIMIT  # raw HTML, so the parsed text is shorter still
        parse_entities(text, "HTML")  # balanced tags, entities escaped: raises otherwise
        assert text.count("<pre>") == text.count("</pre>") >= 1
    table_lines = render_table(reply.tables[0])
    header, rows = table_lines[0], table_lines[1:]
    shown = [line for text in texts for line in parse_entities(text, "HTML").splitlines()]
    assert [line for line in shown if line.startswith("row-")] == rows  # intact, in order
    assert shown.count(header) == len(texts)  # the column header repeats on each part
    assert texts[0].startswith("<b>Five hundred rows &amp; more</b>\n\n<pre>")
    assert texts[-1].endswith("<i>Source: Stand-in · as of 2026-05-29</i>")
    markups = [m.get("reply_markup") for m in standin.sent_to(3000)]
    assert markups[:-1] == [None] * (len(texts) - 1)  # the Refresh button only on the last
    assert markups[-1]["inline_keyboard"][0][0]["callback_data"] == "r:/long"


async def test_one_chat_is_paced_at_one_message_per_second(
        frontend: tuple[TelegramFrontend, BotApiStandIn]) -> None:
    bot, standin = frontend
    await bot.sender.send_reply(3001, long_reply(200))
    times = [c.at for c in standin.calls_of("sendMessage")]
    assert len(times) >= 2
    # >= 1 s between acquisitions; allow for request latency jitter on a busy machine
    assert all(b - a >= 0.7 for a, b in itertools.pairwise(times))


async def test_group_window_and_other_chats_do_not_wait() -> None:
    limits = PacingLimits(overall=(100, 1.0), per_chat=(5, 0.3), per_group=(2, 0.6))
    clock = ManualClock()
    pacer = Pacer(limits, clock=clock)

    async def acquire(*chats: int) -> None:
        for chat in chats:
            await pacer.acquire(chat)

    _, waits = await drive(clock, acquire(*range(10, 20)))
    overall = 1.0 / 100 / HEADROOM
    assert waits == pytest.approx([overall] * 9)  # distinct chats: only the bot's own rate
    _, waits = await drive(clock, acquire(-42, -42, -42))
    group = 0.6 / 2 / HEADROOM  # each group message waits for the group window
    assert waits == pytest.approx([overall, group, group])


async def test_chart_reply_is_one_captioned_photo_or_a_photo_then_text(
        frontend: tuple[TelegramFrontend, BotApiStandIn]) -> None:
    bot, standin = frontend
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    chart = Reply(title="BTC <since> 2024", notes=("Daily close.",), sources=("Coinbase",),
                  asof="2026-05-29", chart_png=png, command="/chart btc")
    await bot.sender.send_reply(3002, chart)
    [photo] = standin.sent_to(3002)
    assert photo["caption"] == ("<b>BTC &lt;since&gt; 2024</b>\n\nDaily close.\n\n"
                                "<i>Source: Coinbase · as of 2026-05-29</i>")
    assert re.fullmatch(r"<file \d+ bytes>", standin.calls_of("sendPhoto")[0].params["photo"])
    assert "reply_markup" not in photo  # a chart is not refreshed by editing text
    long_caption = Reply(title="Chart", notes=("n" * 1500,), chart_png=png)
    await bot.sender.send_reply(3003, long_caption)
    photo, text = standin.sent_to(3003)
    assert not photo["caption"]
    assert text["text"] == "<b>Chart</b>\n\n" + "n" * 1500
