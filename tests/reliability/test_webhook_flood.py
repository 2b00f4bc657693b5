"""2,000 webhook posts with a wrong secret: each refused, one warning line, and the bot
still answers the real updates.

The finding: 2,000 wrong-secret posts logged 2,000 identical warnings in 3 s. A real
`python -m bot run --role web` process in webhook mode (its own config, a free local port),
the Bot API stand-in for its replies, the flood and then one genuine update.
"""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest
import yaml

from services.bundle import default_config
from tests.e2e.telegram_standin import TOKEN, command_update, running_standin
from tests.processes import python_process
from tests.redis_topology import free_port
from tests.waiting import until, until_async

pytestmark = pytest.mark.timeout(180)
SECRET = "right_Secret-17"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
FLOOD = 2000
CHAT = 7100


def webhook_config(tmp_path: Path, port: int) -> Path:
    raw = yaml.safe_load(default_config().read_text(encoding="utf-8"))
    raw["telegram"].update(mode="webhook", webhook_url="https://bot.example.test/telegram",
                           listen_host="127.0.0.1", listen_port=port)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


async def healthy(session: aiohttp.ClientSession, base: str) -> bool:
    try:
        async with session.get(f"{base}/healthz") as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


async def test_a_wrong_secret_flood_logs_one_line_and_the_bot_keeps_answering(
        tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_TOKEN", "_SECRET", "_KEY")) and k != "REDIS_URL"}
    async with running_standin() as standin, aiohttp.ClientSession() as session:
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=standin.base_url,
                   TELEGRAM_WEBHOOK_SECRET=SECRET)
        config = webhook_config(tmp_path, port)
        async with python_process("-m", "bot", "--config", str(config), "run", "--role", "web",
                                  env=env) as bot:
            async def up() -> bool:  # its /healthz answers, or it is gone
                return bot.gone or await healthy(session, base)

            await until_async(up, within=90)
            assert not bot.gone, await bot.printed()
            update = command_update("/btc", 1, chat_id=CHAT)
            statuses = []
            for n in range(FLOOD):
                async with session.post(f"{base}/telegram", json={"update_id": n + 1, **update},
                                        headers={HEADER: f"wrong-{n % 7}"}) as resp:
                    statuses.append(resp.status)
            assert set(statuses) == {403}
            async with session.post(f"{base}/telegram", json={"update_id": FLOOD + 1, **update},
                                    headers={HEADER: SECRET}) as resp:
                assert resp.status == 200
            await until(lambda: standin.sent_to(CHAT), within=60)
            assert len(standin.sent_to(CHAT)) == 1  # the flood ran nothing
            text = await bot.stop()
    assert bot.process.returncode == 0, text
    refused = [line for line in text.splitlines() if "rejected a request" in line]
    assert len(refused) == 1, refused[:5]
    assert SECRET not in text
