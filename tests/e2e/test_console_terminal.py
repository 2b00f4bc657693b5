"""The terminal chat in a pseudo-terminal (pexpect): line editing and history with the
arrow keys, and Ctrl-C leaving at once, at the prompt and while a command runs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_WITHIN = 90.0  # seconds: the first collection on a busy, shared machine
ANSWER_WITHIN = 60.0
UP, LEFT = "\x1b[A", "\x1b[D"
PROMPT = "flowwatch>"  # prompt_toolkit draws the space after it separately

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[pexpect.spawn]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(FLOWWATCH_HISTORY=str(tmp_path / "history"), TERM="xterm",
               PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="100", LINES="40")
    child = pexpect.spawn(sys.executable, ["-m", "bot", "console"], cwd=str(tmp_path),
                          env=env, encoding="utf-8", dimensions=(40, 100),
                          timeout=ANSWER_WITHIN)
    try:
        child.expect("Type /help, or /quit to leave.", timeout=START_WITHIN)
        child.expect_exact(PROMPT, timeout=START_WITHIN)
        yield child
    finally:
        child.close(force=True)


def answer(child: pexpect.spawn, keys: str, expected: str) -> None:
    child.send(keys + "\r")
    child.expect_exact(expected)
    child.expect_exact(PROMPT)


def test_up_recalls_earlier_commands_and_the_line_can_be_edited(
        console: pexpect.spawn, tmp_path: Path) -> None:
    answer(console, "/btc", "Source: Coinbase")
    answer(console, "/yields", "T-bill")
    answer(console, UP + UP, "Source: Coinbase")  # /btc again, not '^[[A'
    # Up brings back /btc; Left three times and typing edits it into /btcx -> /bxtc
    answer(console, UP + LEFT * 2 + "x", "unknown command /bxtc")
    assert "^[[A" not in (console.before or "")
    console.sendcontrol("d")
    console.expect(pexpect.EOF)
    history = (tmp_path / "history").read_text(encoding="utf-8")
    assert "+/btc" in history and "+/bxtc" in history  # kept for the next session


def test_ctrl_c_at_the_prompt_leaves_at_once(console: pexpect.spawn) -> None:
    console.sendcontrol("c")
    console.expect(pexpect.EOF, timeout=20)  # no Enter needed
    console.close()
    assert console.exitstatus == 0


def test_ctrl_c_while_a_chart_renders_leaves_at_once(console: pexpect.spawn) -> None:
    console.send("/chart divergence 1y\r")
    console.sendcontrol("c")
    console.expect(pexpect.EOF, timeout=30)
    console.close()
    assert console.exitstatus in (0, 130) or console.signalstatus is not None
