"""How flowwatch's PTB bot talks HTTP: JSON bodies, multipart for files, PTB's errors, and a
small connection pool that queues sends instead of failing them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut

from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.frontend import build_application
from bot.telegram.pacing import Pacer, PacingLimits
from bot.telegram.render import render_html
from bot.telegram.send import ReplySender
from bot.telegram.transport import JsonRequest, plain_call
from handlers.reply import Reply
from tests.e2e.telegram_standin import TOKEN, BotApiStandIn, command_update, wait_for
from tests.helpers import serve_on_loopback

pytestmark = pytest.mark.timeout(30)
UNPACED = PacingLimits(overall=(10**6, 1.0), per_chat=(10**6, 1.0), per_group=(10**6, 1.0))


async def test_a_command_reply_is_posted_as_json_with_its_objects_nested(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    await standin.push_update(command_update("/btc", 77, chat_id=4001))
    await wait_for(lambda: standin.sent_to(4001), what="the /btc reply")
    call = standin.calls_of("sendMessage")[-1]
    assert call.content_type == "application/json"
    params = call.params
    assert params["chat_id"] == 4001 and params["parse_mode"] == "HTML"
    assert params["reply_parameters"] == {"message_id": 77, "allow_sending_without_reply": True}
    assert params["link_preview_options"] == {"is_disabled": True}
    buttons = params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["r:/btc", "c:/btc"]
    assert "·" in params["text"]  # sent escaped (\u00b7), the same text once decoded


async def test_a_chart_still_goes_as_multipart_with_its_png(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    await standin.push_command("/chart btc", chat_id=4002)
    await wait_for(lambda: standin.calls_of("sendPhoto"), within=20, what="the chart")
    call = standin.calls_of("sendPhoto")[-1]
    assert call.content_type == "multipart/form-data"
    assert call.files["photo"].startswith(b"\x89PNG")


async def test_replies_beyond_the_pool_wait_for_a_connection(
        app: App, standin: BotApiStandIn) -> None:
    application = build_application(TOKEN, standin.base_url, webhook=False, connections=1)
    async with application:
        sender = ReplySender(application.bot, Pacer(UNPACED))
        reply = Reply(title="Queued", sources=("Stand-in",), asof="2026-05-29")
        sent = await asyncio.gather(*(sender.send_reply(4100 + i, reply) for i in range(12)))
    assert [len(ids) for ids in sent] == [1] * 12
    assert [m["text"] for i in range(12) for m in standin.sent_to(4100 + i)] == \
        render_html(reply) * 12


async def test_a_lone_surrogate_in_a_command_gets_the_one_line_error(
        frontend: TelegramFrontend, standin: BotApiStandIn) -> None:
    """A lone surrogate (a client bug; JSON can carry it escaped) cannot be encoded as UTF-8:
    it is shown as '?' instead of failing the reply with the generic apology."""
    await standin.push_update(command_update("/divergence x\ud800y", 78, chat_id=4200))
    sent = await wait_for(lambda: standin.sent_to(4200), what="the reply")
    assert sent[0]["text"].startswith("unknown window 'x?y'; try ytd")


@pytest.fixture
async def slow_api() -> AsyncIterator[str]:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": True})

    server = web.Application()
    server.router.add_post("/{tail:.*}", slow)
    runner, port = await serve_on_loopback(server)
    try:
        yield f"http://127.0.0.1:{port}/bot{TOKEN}"
    finally:
        await runner.cleanup()


async def test_a_json_call_that_times_out_raises_timed_out(slow_api: str) -> None:
    request = JsonRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{slow_api}/sendMessage", plain_call({"chat_id": 1, "text": "x"}))
    finally:
        await request.shutdown()


async def test_a_json_call_to_a_closed_port_raises_network_error() -> None:
    request = JsonRequest()
    await request.initialize()
    # A loopback port that refuses: bound, never listening, held so no other server takes it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        try:
            with pytest.raises(NetworkError) as caught:
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", plain_call({}))
            assert not isinstance(caught.value, TimedOut)
        finally:
            await request.shutdown()
