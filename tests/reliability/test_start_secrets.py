"""A failed or crashed start never prints the token, and SIGTERM still stops the process.

The findings: a start that fails on the token must not show it anywhere, tracebacks
included (issue 17). Trying it with a real `--role web` process found more: a front-end
that failed at start was restarted with backoff for ever, SIGTERM or not, so a web process
with a rejected token could not be stopped by its process manager. And a crash before the
app was built went to Python's own traceback printer, which no log redaction sees.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.telegram_standin import running_standin
from tests.processes import python_process
from tests.waiting import until

pytestmark = pytest.mark.timeout(180)
REJECTED = "999999:REJECTED-TOKEN-VALUE"  # the stand-in answers 401 Unauthorized
CRASH = """
import os, sys
import bot.cli as cli

async def crash(*args, **kwargs):
    raise RuntimeError("cannot start: token " + os.environ["TELEGRAM_BOT_TOKEN"])

cli.build_app = crash  # a bug while the app is built, before anything else runs
sys.exit(cli.main(["-v", "run"]))
"""


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_TOKEN", "_SECRET", "_KEY")) and k != "REDIS_URL"}
    env.update(extra)
    return env


def assert_no_token(text: str, token: str) -> None:
    assert token not in text and token.split(":")[1] not in text, text


async def test_a_web_process_with_a_rejected_token_stops_on_sigterm_and_never_prints_it(
        ) -> None:
    async with running_standin() as standin, python_process(
            "-m", "bot", "-v", "run", "--role", "web", env=environment(
                TELEGRAM_BOT_TOKEN=REJECTED, TELEGRAM_API_BASE_URL=standin.base_url)) as bot:
        # rejected, then tried again after the backoff: the process stays up
        await until(lambda: standin.rejected.count("getMe") >= 2 or bot.gone, within=90)
        assert not bot.gone, await bot.printed()
        text = await bot.stop()
    assert bot.process.returncode == 0, text
    assert "rejected by the server" in text  # PTB's message, with the token redacted
    assert_no_token(text, REJECTED)


async def test_a_crash_at_start_is_logged_with_the_token_redacted() -> None:
    token = "123456:CRASH-AT-START-SECRET"
    async with python_process("-c", CRASH, env=environment(TELEGRAM_BOT_TOKEN=token)) as crash:
        text = await crash.printed()
    assert crash.process.returncode == 1, text
    assert "flowwatch stopped on an unexpected error" in text
    assert "RuntimeError: cannot start: token <redacted>" in text  # the traceback, redacted
    assert_no_token(text, token)
