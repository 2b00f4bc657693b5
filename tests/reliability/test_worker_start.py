"""`--role worker` against a Bot API that fails at start: it stays up, retries, and never
prints the token.

The finding: one 502 from getMe ended the worker at once, and a 401 or 404 (a valid token
behind a wrong base URL) printed the token in a plain traceback. Now each platform's sender
is connected in its own task with backoff, one redacted line per failure. A real
`python -m bot run --role worker` process, its own redis-server, the Bot API stand-in.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.alerts.events import AlertEvent
from services.alerts.outbox import RedisOutbox
from services.keys import Keys
from services.settings import Settings
from tests.e2e.telegram_standin import TOKEN, running_standin
from tests.reliability.redis_server import running_server
from tests.waiting import until

pytestmark = [pytest.mark.redis, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[2]
CHAT = 4242


@pytest.mark.parametrize("fault", ["502", "401", "404"])
async def test_a_worker_survives_a_failing_get_me_and_never_prints_the_token(
        tmp_path: Path, settings: Settings, fault: str) -> None:
    async with running_server(tmp_path, "none") as server, running_standin() as standin:
        token, base = TOKEN, standin.base_url
        if fault == "502":
            standin.fail_next("getMe", "502", times=2)
        elif fault == "401":
            token = "999999:REJECTED-TOKEN-VALUE"  # the stand-in answers 401 Unauthorized
        else:
            base = standin.base_url.removesuffix("/bot") + "/nothing/bot"  # 404 everywhere
        env = {k: v for k, v in os.environ.items()
               if not k.endswith(("_TOKEN", "_SECRET", "_KEY"))}
        env.update(REDIS_URL=server.url, TELEGRAM_BOT_TOKEN=token,
                   TELEGRAM_API_BASE_URL=base)
        redis = Redis.from_url(server.url, decode_responses=True)
        outbox = RedisOutbox(redis, Keys(settings.store.prefix))
        await outbox.ensure_group()
        await outbox.append(AlertEvent("e1", "r", "firing", f"telegram:{CHAT}", "hello",
                                       "2026-05-29T00:00:00+00:00"))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "-v", "run", "--role", "worker", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        assert process.stdout is not None
        reading = asyncio.create_task(process.stdout.read())  # all it prints, until it exits
        # Each getMe failure is logged (one line) before the retry after its backoff: two
        # getMe requests (refused ones included) mean the first failure was handled.
        await until(lambda: tried_twice(standin.paths) or process.returncode is not None,
                    within=60)
        assert process.returncode is None, f"the worker exited: rc={process.returncode}"
        if fault == "502":  # the platform comes back: the queued alert goes out
            await until(lambda: standin.sent_to(CHAT), within=60)
        assert process.returncode is None  # still running
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
        output = await asyncio.wait_for(reading, 10)
        await redis.aclose()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert token not in text and token.split(":")[1] not in text  # tracebacks included
    assert "Traceback" not in text.replace(_PTB_JSON_TRACEBACK, "")
    assert "could not connect" in text  # its failures, one line each


def tried_twice(paths: list[str]) -> bool:
    return sum(path.endswith("/getMe") for path in paths) >= 2


# PTB itself logs the 404 page it cannot parse with a traceback (no token in it).
_PTB_JSON_TRACEBACK = 'Can not load invalid JSON data: "404: Not Found"\nTraceback'
