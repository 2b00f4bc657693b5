"""Each discord.py client on its own API base: two front-ends in one process, each on its own
stand-in (REST, gateway, interaction responses), and discord.py's class-wide defaults
(`Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`) never changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.discord_app import build_client, run_discord, send_to_channel
from bot.discord_app.api_base import DiscordWebSocket, Route  # discord.py's, imported there
from handlers.reply import Reply
from services.settings import Secrets

from .discord_standin import DiscordStandin
from .test_discord import TOKEN, running_standin

DEFAULTS = ("https://discord.com/api/v10", "wss://gateway.discord.gg/")


@pytest.fixture
async def discord_api() -> AsyncIterator[DiscordStandin]:
    async with running_standin() as server:
        yield server


def defaults() -> tuple[str, str]:
    return Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY)


async def test_two_front_ends_in_one_process_each_use_their_own_base(app: App) -> None:
    first, second = DiscordStandin(TOKEN), DiscordStandin(TOKEN)
    await first.start()
    await second.start()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_discord(app, Secrets(
        discord_bot_token=TOKEN, discord_api_base_url=s.api_url), stop)) for s in (first, second)]
    try:
        for standin in (first, second):
            await standin.wait_for(lambda s=standin: s.identifies or any(t.done() for t in tasks))
        assert defaults() == DEFAULTS  # nothing class-wide was set while both run
        logs = [s.interactions[await s.invoke("capex")] for s in (first, second)]
        for standin, log in zip((first, second), logs, strict=True):
            await standin.wait_for(lambda log=log: log.visible)
            assert log.visible[0]["embeds"][0]["title"] == "Hyperscaler capex"
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        await first.close()
        await second.close()
    for task in tasks:
        task.result()
    assert [len(s.identifies) for s in (first, second)] == [1, 1]  # one gateway session each
    assert len(first.interactions) == len(second.interactions) == 1
    assert defaults() == DEFAULTS


async def test_a_based_client_and_a_plain_one_side_by_side(
        app: App, discord_api: DiscordStandin) -> None:
    based = build_client(app, discord_api.api_url).client
    plain = build_client(app).client
    assert plain.http is not based.http and type(plain.http).__name__ == "HTTPClient"
    async with based:
        await based.login(TOKEN)
        await send_to_channel(based, 555, Reply(title="to the stand-in"))
    [message] = discord_api.channel_messages["555"]
    assert message["embeds"][0]["title"] == "to the stand-in"
    assert defaults() == DEFAULTS
