"""Webhook mode: the aiohttp server checks Telegram's secret header before anything runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.telegram import TelegramConfigError, TelegramFrontend, run_telegram
from bot.telegram.webhook_admin import manage_webhook
from tests.e2e.telegram_standin import (
    BotApiStandIn,
    command_update,
    replay_app,
    replay_settings,
    telegram_secrets,
    wait_for,
)

pytestmark = pytest.mark.timeout(30)
SECRET = "s3cret_Token-42"
PUBLIC_URL = "https://bot.example.test/telegram"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def webhook_bot(standin: BotApiStandIn) -> AsyncIterator[TelegramFrontend]:
    settings = replay_settings(mode="webhook", webhook_url=PUBLIC_URL, listen_port=0)
    await manage_webhook("set", settings.telegram, telegram_secrets(standin, SECRET))
    async with replay_app(settings) as app, \
            TelegramFrontend(app, telegram_secrets(standin, SECRET)) as running:
        yield running


def url(bot: TelegramFrontend, path: str) -> str:
    assert bot.webhook is not None
    return f"http://127.0.0.1:{bot.webhook.port}{path}"


async def test_wrong_or_missing_secret_is_refused_and_the_right_one_answered(
        webhook_bot: TelegramFrontend, standin: BotApiStandIn) -> None:
    assert standin.webhook == {"url": PUBLIC_URL, "secret_token": SECRET,
                               "allowed_updates": ["message", "callback_query", "my_chat_member"]}
    endpoint = url(webhook_bot, "/telegram")
    async with aiohttp.ClientSession() as http:
        for chat, headers in ((4001, {}), (4002, {HEADER: "not-the-secret"})):
            body = {"update_id": chat, **command_update("/btc", 10, chat_id=chat)}
            async with http.post(endpoint, json=body, headers=headers) as resp:
                assert resp.status == 403
        body = {"update_id": 4003, **command_update("/btc", 11, chat_id=4003)}
        async with http.post(endpoint, json=body, headers={HEADER: SECRET}) as resp:
            assert resp.status == 200
        for junk in (b"not json", b"[1, 2]", b'{"no": "update_id"}'):
            async with http.post(endpoint, data=junk, headers={HEADER: SECRET}) as resp:
                assert resp.status == 400, junk
        async with http.get(url(webhook_bot, "/healthz")) as resp:
            assert resp.status == 200
            assert await resp.json() == {"ok": True}
    await wait_for(lambda: standin.sent_to(4003), what="the answer to the verified update")
    assert "<b>Bitcoin</b>" in standin.sent_to(4003)[0]["text"]
    assert [c.params["chat_id"] for c in standin.calls_of("sendMessage")] == [4003]
    assert standin.calls_of("getUpdates") == []  # no polling in webhook mode


async def test_only_the_webhook_command_changes_the_webhook(
        standin: BotApiStandIn) -> None:
    """Two replicas start and one stops: the registration stays; `webhook set|delete` (the
    CLI's `python -m bot webhook ...`) are the only calls that change it."""
    settings = replay_settings(mode="webhook", webhook_url=PUBLIC_URL, listen_port=0)
    secrets = telegram_secrets(standin, SECRET)
    async with replay_app(settings) as app:
        stop_a, stop_b = asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(run_telegram(app, secrets, stop_a))
        # Replica a checked the registration at start (and warned: it is not set yet).
        await wait_for(lambda: standin.calls_of("getWebhookInfo"), what="replica a's check")
        assert await manage_webhook("set", settings.telegram, secrets) == (
            f"webhook set: {PUBLIC_URL} (secret token set)")
        b = asyncio.create_task(run_telegram(app, secrets, stop_b))
        await wait_for(lambda: len(standin.calls_of("getWebhookInfo")) == 2, what="replica b")
        stop_a.set()
        await asyncio.wait_for(a, 10)
        assert standin.webhook["url"] == PUBLIC_URL  # replica b still gets its updates
        stop_b.set()
        await asyncio.wait_for(b, 10)
    assert standin.webhook == {"url": PUBLIC_URL, "secret_token": SECRET,
                               "allowed_updates": ["message", "callback_query", "my_chat_member"]}
    assert len(standin.calls_of("setWebhook")) == 1  # the command's, none by a replica
    assert standin.calls_of("deleteWebhook") == []
    assert (await manage_webhook("info", settings.telegram, secrets)).startswith(
        f"webhook: {PUBLIC_URL} pending_updates=0")
    assert await manage_webhook("delete", settings.telegram, secrets) == (
        "webhook deleted: updates now wait for polling")
    assert standin.webhook == {}


async def test_webhook_set_without_a_url_or_secret_is_one_line(standin: BotApiStandIn) -> None:
    settings = replay_settings(mode="polling", webhook_url=None)
    with pytest.raises(TelegramConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        await manage_webhook("set", settings.telegram, telegram_secrets(standin))
    with pytest.raises(TelegramConfigError, match="webhook_url"):
        await manage_webhook("set", settings.telegram, telegram_secrets(standin, SECRET))
    assert standin.calls == []


async def test_cancelling_run_telegram_shuts_polling_down_cleanly(
        standin: BotApiStandIn) -> None:
    async with replay_app() as app:
        task = asyncio.create_task(run_telegram(app, telegram_secrets(standin)))
        await wait_for(lambda: standin.calls_of("getUpdates"), what="polling")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert standin.calls[-1].params.get("timeout") == 0  # PTB's final, non-blocking fetch


async def test_webhook_mode_without_a_secret_fails_at_start_in_one_line(
        standin: BotApiStandIn) -> None:
    settings = replay_settings(mode="webhook", webhook_url=PUBLIC_URL, listen_port=0)
    async with replay_app(settings) as app:
        with pytest.raises(TelegramConfigError) as failure:
            TelegramFrontend(app, telegram_secrets(standin))
    assert "TELEGRAM_WEBHOOK_SECRET" in str(failure.value)
    assert "\n" not in str(failure.value)
    assert standin.calls == []  # failed before talking to Telegram
