"""`python -m bot run --replay` as a user starts it, with both platform tokens set: one
process answers commands on Telegram and on Discord (each a local stand-in)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .discord_standin import DiscordStandin
from .telegram_standin import TOKEN as TELEGRAM_TOKEN
from .telegram_standin import BotApiStandIn, wait_for

pytestmark = pytest.mark.timeout(180)  # real processes; 27 s seen on a loaded machine
ROOT = Path(__file__).resolve().parents[2]
DISCORD_TOKEN = "TEST.TOKEN.RUN"


@pytest.fixture
async def platforms() -> AsyncIterator[tuple[BotApiStandIn, DiscordStandin]]:
    telegram, discord = BotApiStandIn(), DiscordStandin(DISCORD_TOKEN)
    await telegram.start()
    await discord.start()
    yield telegram, discord
    await discord.close()
    await telegram.stop()


async def test_run_serves_telegram_and_discord_in_one_process(
    platforms: tuple[BotApiStandIn, DiscordStandin], tmp_path: Path
) -> None:
    telegram, discord = platforms
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url,
            "DISCORD_BOT_TOKEN": DISCORD_TOKEN, "DISCORD_API_BASE_URL": discord.api_url}
    log = (tmp_path / "run.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "-v", "run", "--replay", cwd=ROOT, env=env,
        stdout=log, stderr=log)
    try:
        await wait_for(lambda: telegram.calls_of("setMyCommands") and discord.identifies, 30)
        await telegram.push_command("/divergence ytd", chat_id=4242)
        await wait_for(lambda: telegram.sent_to(4242), 30)
        assert "Divergence year to date" in telegram.sent_to(4242)[0]["text"]
        token = await discord.invoke("btc")
        await wait_for(lambda: discord.interactions[token].visible, 30)
        shown = str(discord.interactions[token].visible)
        assert "Bitcoin" in shown
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()
    text = (tmp_path / "run.log").read_text()
    assert TELEGRAM_TOKEN not in text and DISCORD_TOKEN not in text
    assert "Traceback" not in text, text[-3000:]
