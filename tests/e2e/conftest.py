"""Fixtures of the Telegram end-to-end tests: the Bot API stand-in, a replay app and the real
PTB front-end between them. Discord tests define their own `standin` and `app`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.telegram import TelegramFrontend

from .telegram_standin import BotApiStandIn, replay_app, running_standin, telegram_secrets


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    async with running_standin() as api:
        yield api


@pytest.fixture
async def app() -> AsyncIterator[App]:
    async with replay_app() as built:
        yield built


@pytest.fixture
async def frontend(app: App, standin: BotApiStandIn) -> AsyncIterator[TelegramFrontend]:
    async with TelegramFrontend(app, telegram_secrets(standin)) as running:
        yield running
