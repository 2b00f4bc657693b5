"""Chat actions ("typing", "sending photo") shown while a command is being answered.

Telegram shows an action for five seconds or until the bot's next message, so it is repeated
every ACTION_EVERY_S while the work lasts. Actions are not messages: they bypass the reply
pacer (a paced action would hold the reply back a second), and a failed one is only logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

logger = logging.getLogger(__name__)

ACTION_EVERY_S = 4.5
TYPING_AFTER_S = 0.3  # a reply from the store takes milliseconds: no "typing" flash for it


async def _send(bot: Bot, chat_id: int, action: str) -> bool:
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramError as exc:
        logger.debug("telegram: sendChatAction %s failed chat=%s: %s", action, chat_id,
                     exc.message)
        return False
    return True


async def _repeat(bot: Bot, chat_id: int, action: str, first_after_s: float,
                  done: asyncio.Event) -> None:
    wait = first_after_s
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), wait)
        if done.is_set() or not await _send(bot, chat_id, action):
            return
        wait = ACTION_EVERY_S


@contextlib.asynccontextmanager
async def chat_action(bot: Bot, chat_id: int, action: str = ChatAction.TYPING,
                      after_s: float = 0.0) -> AsyncIterator[None]:
    """Show `action` in the chat while the body runs: at once when `after_s` is 0, else only
    once the work has taken that long; repeated until the body ends."""
    done = asyncio.Event()
    first = after_s
    if after_s <= 0:
        if not await _send(bot, chat_id, action):
            yield
            return
        first = ACTION_EVERY_S
    task = asyncio.create_task(_repeat(bot, chat_id, action, first, done))
    try:
        yield
    finally:
        done.set()
        await task
