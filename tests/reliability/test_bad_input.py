"""Hostile input to every command: no unhandled exception, every reply within both platforms'
limits, every error one line with the usage (see limits.py for the exact contract).

Each command gets its own Hypothesis run over its parameters' near-valid values, grammar-
shaped rules, junk and too many arguments, from private chats, Discord channels and groups
where the user is not an admin; whole chat lines go through `run_text` as well. Nothing may
be logged at ERROR (the registry logs every unhandled exception there).
"""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from bot.app import App
from handlers.catalog import build_registry
from handlers.registry import MAX_INPUT_CHARS, Chat
from tests.reliability.conftest import FUZZ
from tests.reliability.limits import no_errors_logged, reply_problems
from tests.reliability.strategies import command_args, command_line

# Thousands of generated examples: fixed work, CPU-bound. Under a loaded machine (a fresh
# clone's suite beside two CPU hogs) one of them passed the suite's 60 s; this limit only
# guards against a hang.
pytestmark = pytest.mark.timeout(300)
SPECS = {spec.name: spec for spec in build_registry()}
EXAMPLES_PER_COMMAND = 450
# /chart renders a PNG for each new (chart, window) pair (~0.1 s); /thesis computes every
# claim's verdict per call (~20 ms). They get fewer examples to keep the suite fast.
SLOW = {"chart", "thesis"}
SLOW_EXAMPLES = 150
LINE_EXAMPLES = 1250  # per platform


async def _not_admin() -> bool:
    return False


CHATS = st.one_of(
    st.integers(1, 40).map(lambda n: Chat("telegram", str(n), "7")),
    st.integers(1, 40).map(lambda n: Chat("discord", str(9000 + n), "8")),
    st.integers(1, 5).map(lambda n: Chat("telegram", str(-100 - n), "9", is_group=True,
                                         is_admin=_not_admin)),
)


async def check_command(app: App, name: str, args: tuple[str, ...], chat: Chat,
                        caplog: pytest.LogCaptureFixture) -> None:
    note(f"/{name} {args!r} from {chat.platform}:{chat.chat_id}")
    reply = await app.registry.call(app.context(chat), name, args)
    problems = reply_problems(reply, name)
    assert not problems, f"/{name} {args!r}: {problems}\n{reply.title!r}"
    no_errors_logged(caplog)


@pytest.mark.parametrize("name", sorted(set(SPECS) - SLOW))
@settings(FUZZ, max_examples=EXAMPLES_PER_COMMAND)
@given(data=st.data(), chat=CHATS)
async def test_every_command_survives_generated_arguments(
        replay_app: App, name: str, caplog: pytest.LogCaptureFixture, data: st.DataObject,
        chat: Chat) -> None:
    args = data.draw(command_args(SPECS[name]), label="args")
    await check_command(replay_app, name, args, chat, caplog)


@pytest.mark.parametrize("name", sorted(SLOW & set(SPECS)))
@settings(FUZZ, max_examples=SLOW_EXAMPLES)
@given(data=st.data(), chat=CHATS)
async def test_slow_commands_survive_generated_arguments(
        replay_app: App, name: str, caplog: pytest.LogCaptureFixture, data: st.DataObject,
        chat: Chat) -> None:
    args = data.draw(command_args(SPECS[name]), label="args")
    await check_command(replay_app, name, args, chat, caplog)


@pytest.mark.parametrize("platform", ["telegram", "discord"])
@settings(FUZZ, max_examples=LINE_EXAMPLES)
@given(text=command_line(sorted(SPECS)))
async def test_whole_chat_lines_survive(replay_app: App, platform: str,
                                        caplog: pytest.LogCaptureFixture, text: str) -> None:
    reply = await replay_app.registry.run_text(replay_app.context(Chat(platform, "4242")), text)
    first = text.split(maxsplit=1)[0] if text.split() else ""
    spec = SPECS.get(first[1:].split("@")[0].lower()) if first.startswith("/") else None
    too_long = len(text) > MAX_INPUT_CHARS  # answered before any command is looked at
    problems = reply_problems(reply, spec.name if spec is not None and not too_long else "help")
    assert not problems, f"{text!r}: {problems}\n{reply.title!r}"
    no_errors_logged(caplog)


async def test_help_echo_is_one_line(replay_app: App) -> None:
    reply = await replay_app.registry.call(replay_app.context(Chat("discord", "1")), "help",
                                           ("a\nb\tc",))
    assert reply.title == " ".join(reply.title.split())
