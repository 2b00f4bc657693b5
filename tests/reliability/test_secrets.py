"""Secrets never appear in logs or replies: a Telegram bot (polling and webhook), a Discord
bot and a live refresh with both upstream API keys, with every logger at DEBUG (httpx,
httpcore, telegram, discord, aiohttp included), through happy paths and error paths
(429, 403, upstream errors, a token the platform rejects, which PTB quotes in its error).
Every log record as a handler would print it (traceback included) and every message sent
is searched for each secret and its URL-encoded forms.

The secrets are registered the way `python -m bot` does it (bot.cli.protect_logs with the
environment's secrets); the Telegram front-end also registers its own token.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable
from functools import partial
from typing import Any

import fakeredis
import pytest

from bot.app import App, build_app
from bot.cli import protect_logs
from bot.discord_app import run_discord
from bot.runner import FrontendFailures, isolated
from bot.telegram import TelegramFrontend
from bot.telegram.webhook_admin import manage_webhook
from handlers.registry import Chat
from services.redaction import secret_forms
from services.settings import Secrets, Settings
from tests.e2e.discord_standin import DiscordStandin, InteractionLog
from tests.e2e.telegram_standin import (
    BotApiStandIn,
    replay_app,
    replay_settings,
    wait_for,
)
from tests.reliability.test_upstream_faults import HTML, fast_sources
from tests.sources.conftest import Canned, FakeUpstream
from tests.sources.test_live import serve_everything

pytestmark = pytest.mark.timeout(45)

TELEGRAM_TOKEN = "7391846205:AAFw-SecretTelegram_q9ZxP81KmT"
REJECTED_TELEGRAM_TOKEN = "7391846205:AAFw-RejectedTelegram_w7YvN2"
WEBHOOK_SECRET = "FwWebhookSecret_5hJ2kQ"
DISCORD_TOKEN = "MTA5OTk5OTk5OTk5OTk5OTk5.GsEcRt.FwSecretDiscordTokenX7pQ"
REJECTED_DISCORD_TOKEN = "MTA5OTk5OTk5OTk5OTk5OTk5.GrEjEc.FwRejectedDiscordT0k3n"
COINGECKO_KEY = "CG-FwSecretCoinGecko+key/42=="
FRED_KEY = "fredFwSecret0123456789abcdef+/="
LOUD = ("", "httpx", "httpcore", "telegram", "discord", "aiohttp", "asyncio", "bot",
        "handlers", "services")


def everything_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOUD:
        caplog.set_level(logging.DEBUG, logger=name or None)


def leaks(texts: Iterable[str], secrets: Iterable[str]) -> list[str]:
    found = []
    for text in texts:
        for secret in secrets:
            for form in secret_forms(secret):
                if form in text:
                    found.append(f"{form!r} in: {text[:300]!r}")
    return found


def shown(log: InteractionLog) -> list[dict[str, Any]]:
    return log.visible


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Each record as a handler prints it, traceback included."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return [formatter.format(record) for record in caplog.records]


async def first_failure_logged(name: str, start: object) -> None:
    """Run a front-end the way the runner does (bot.runner.isolated), until it has failed
    (and logged it) once; then stop it (isolated would retry after a backoff)."""
    failures = FrontendFailures()
    task = asyncio.create_task(isolated(name, start, failures))  # type: ignore[arg-type]
    try:
        await wait_for(lambda: failures.counts[name] or task.done(), within=15,
                       what=f"{name} to fail on the rejected token")
        assert failures.counts[name] == 1, f"{name} did not fail: {task!r}"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_telegram_token_and_webhook_secret_stay_secret(
        caplog: pytest.LogCaptureFixture) -> None:
    everything_at_debug(caplog)
    secrets = [TELEGRAM_TOKEN, REJECTED_TELEGRAM_TOKEN, WEBHOOK_SECRET]
    protect_logs(Secrets(telegram_bot_token=TELEGRAM_TOKEN,
                         telegram_webhook_secret=WEBHOOK_SECRET))
    standin = BotApiStandIn(TELEGRAM_TOKEN)
    await standin.start()
    try:
        secrets_polling = Secrets(telegram_bot_token=TELEGRAM_TOKEN,
                                  telegram_api_base_url=standin.base_url)
        async with replay_app() as app, TelegramFrontend(app, secrets_polling) as polling:
            everything_at_debug(caplog)  # the front-end quietened httpx: make it loud again
            standin.fail_next("sendMessage", "429")
            for chat, text in ((6001, "/btc"), (6002, "/divergence banana"),
                               (6003, "/status")):
                await standin.push_command(text, chat_id=chat)
                await wait_for(partial(standin.sent_to, chat), what=f"reply to {text}")
            standin.fail_next("sendMessage", "403")
            await standin.push_command("/capex", chat_id=6004)
            await wait_for(lambda: polling.adapter.blocked["6004"], what="the 403 handled")

        webhook = replay_settings(mode="webhook", webhook_url="https://bot.example.test/tg",
                                  listen_port=0)
        hook_secrets = Secrets(telegram_bot_token=TELEGRAM_TOKEN,
                               telegram_api_base_url=standin.base_url,
                               telegram_webhook_secret=WEBHOOK_SECRET)
        await manage_webhook("set", webhook.telegram, hook_secrets)  # `python -m bot webhook set`
        async with replay_app(webhook) as app, TelegramFrontend(app, hook_secrets):
            assert standin.webhook["secret_token"] == WEBHOOK_SECRET  # it was sent

        rejected = Secrets(telegram_bot_token=REJECTED_TELEGRAM_TOKEN,
                           telegram_api_base_url=standin.base_url)
        async with replay_app() as app:
            frontend = TelegramFrontend(app, rejected)  # what run_telegram enters

            async def start() -> None:
                async with frontend:
                    pass

            await first_failure_logged("telegram", start)
            # PTB leaves the HTTP client of a failed start open (see test_platform_faults.
            # test_a_rejected_telegram_token_leaves_no_connection_open): close it here.
            await frontend.application.bot.shutdown()
    finally:
        await standin.stop()

    sent = [json.dumps(m) for m in standin.messages.values()]
    assert leaks(log_lines(caplog) + sent, secrets) == []
    assert "getMe" in caplog.text and "HTTP Request" in caplog.text  # httpx did log URLs
    assert "rejected by the server" in caplog.text  # PTB's message, token redacted


async def test_discord_token_stays_secret(caplog: pytest.LogCaptureFixture) -> None:
    everything_at_debug(caplog)
    protect_logs(Secrets(discord_bot_token=DISCORD_TOKEN))
    standin = DiscordStandin(DISCORD_TOKEN)
    await standin.start()
    try:
        async with replay_app() as app:
            stop = asyncio.Event()
            task = asyncio.create_task(run_discord(app, Secrets(
                discord_bot_token=DISCORD_TOKEN, discord_api_base_url=standin.api_url), stop))
            await standin.wait_for(lambda: standin.identifies or task.done())
            for name, options in (("capex", {}), ("divergence", {"window": "banana"}),
                                  ("status", {})):
                log = standin.interactions[await standin.invoke(name, options)]
                await standin.wait_for(partial(shown, log))
            stop.set()
            await asyncio.wait_for(task, 10)

            protect_logs(Secrets(discord_bot_token=REJECTED_DISCORD_TOKEN))
            rejected = Secrets(discord_bot_token=REJECTED_DISCORD_TOKEN,
                               discord_api_base_url=standin.api_url)
            await first_failure_logged("discord", lambda: run_discord(app, rejected))
    finally:
        await standin.close()

    assert standin.identifies[0]["token"] == DISCORD_TOKEN  # it was used
    sent = [json.dumps(log.visible) for log in standin.interactions.values()]
    secrets = [DISCORD_TOKEN, REJECTED_DISCORD_TOKEN]
    assert leaks(log_lines(caplog) + sent, secrets) == []


@pytest.fixture
async def keyed_live_app(settings: Settings, upstream: FakeUpstream) -> AsyncIterator[App]:
    keys = Secrets(coingecko_api_key=COINGECKO_KEY, fred_api_key=FRED_KEY)
    protect_logs(keys)
    live = settings.model_copy(update={"mode": "live", "sources": fast_sources(upstream.url)})
    app = await build_app(live, keys, redis=fakeredis.FakeAsyncRedis(decode_responses=True))
    yield app
    await app.aclose()


async def answers(app: App) -> list[str]:
    ctx = app.context(Chat("telegram", "1"))
    replies = [await app.registry.run_text(ctx, c) for c in
               ("/status", "/yields", "/aitokens", "/btc", "/brief", "/usage", "/capex")]
    return [json.dumps(r.__dict__, default=str) for r in replies]


async def test_upstream_api_keys_stay_secret(keyed_live_app: App, upstream: FakeUpstream,
                                             caplog: pytest.LogCaptureFixture) -> None:
    everything_at_debug(caplog)
    serve_everything(upstream)
    await keyed_live_app.refresh(force=True)
    fred = [h for h in upstream.hits if h.path == "/fred/series/observations"]
    coingecko = [h for h in upstream.hits if h.path.startswith("/api/v3/")]
    assert fred and fred[0].query["api_key"] == FRED_KEY  # the keys were really sent
    assert coingecko and coingecko[0].headers["x-cg-demo-api-key"] == COINGECKO_KEY
    replies = await answers(keyed_live_app)

    upstream.serve("/fred/series/observations", Canned(json.dumps({
        "error_code": 400, "error_message": "Bad Request.  The value for variable api_key is "
        "not registered."}).encode(), 400))
    for path, _ in list(upstream.routes):
        if path.startswith("/api/v3/"):
            upstream.serve(path, Canned(HTML, 401, content_type="text/html"))
    upstream.serve("/v8/finance/chart/NVDA", Canned(b"", 200, delay=0.6))  # a timeout
    result = await keyed_live_app.refresh(force=True)
    assert {"fred", "coingecko"} <= set(result.failed_providers)
    replies += await answers(keyed_live_app)
    assert leaks(log_lines(caplog) + replies, [COINGECKO_KEY, FRED_KEY]) == []


async def test_an_upstream_that_echoes_the_key_does_not_leak_it(
        keyed_live_app: App, upstream: FakeUpstream) -> None:
    serve_everything(upstream)
    await keyed_live_app.refresh(force=True)
    echo = f"Bad Request: api_key={FRED_KEY} is not registered".encode()
    upstream.serve("/fred/series/observations", Canned(echo, 400, content_type="text/plain"))
    await keyed_live_app.refresh(force=True)
    assert leaks(await answers(keyed_live_app), [FRED_KEY]) == []
