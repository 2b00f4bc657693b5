"""Lifecycle of the Telegram front-end inside the bot's own event loop: polling or webhook."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from types import TracebackType

from telegram import (
    Bot,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import App
from bot.telegram.adapter import TelegramAdapter, TelegramApp, bot_commands
from bot.telegram.pacing import Pacer
from bot.telegram.send import ReplySender
from bot.telegram.sender import TelegramAlertSender
from bot.telegram.transport import bot_request
from bot.telegram.webhook import ALLOWED_UPDATES, WebhookServer, warn_if_unregistered
from handlers.general import DESCRIPTION, SHORT_DESCRIPTION
from services.alerts.budget import SharedSchedule
from services.alerts.delivery import Sender
from services.keys import Keys
from services.redaction import protect_token
from services.settings import Secrets, TelegramSettings

logger = logging.getLogger(__name__)

SenderHook = Callable[[Sender | None], None]
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Bot API rule for secret_token
DEFAULTS = TelegramSettings()


class TelegramConfigError(Exception):
    """Telegram cannot start with these settings; the message says what to set."""


def check_config(settings: TelegramSettings, secrets: Secrets) -> None:
    """Fail at start, in one line, on what would only fail later."""
    if not secrets.telegram_bot_token:
        raise TelegramConfigError("telegram: TELEGRAM_BOT_TOKEN is not set")
    if settings.mode != "webhook":
        return
    secret = secrets.telegram_webhook_secret
    if not secret:
        raise TelegramConfigError("telegram webhook mode needs TELEGRAM_WEBHOOK_SECRET "
                                  "(1-256 characters A-Z a-z 0-9 _ -)")
    if not WEBHOOK_SECRET.match(secret):
        raise TelegramConfigError("telegram: TELEGRAM_WEBHOOK_SECRET may only contain "
                                  "A-Z a-z 0-9 _ - (1-256 characters)")
    if not settings.webhook_url:
        raise TelegramConfigError("telegram webhook mode needs telegram.webhook_url in config")


def build_application(token: str, base_url: str | None, webhook: bool,
                      concurrent_updates: int = DEFAULTS.concurrent_updates,
                      connections: int = DEFAULTS.connections) -> TelegramApp:
    """The PTB Application, pointed at a local Bot API server when base_url is set, handling
    at most `concurrent_updates` updates at once over at most `connections` HTTP connections,
    its calls sent as JSON."""
    protect_token(token)
    request = bot_request(connections)
    builder = (Application.builder().token(token).concurrent_updates(concurrent_updates)
               .request(request))
    if base_url:
        base = base_url.rstrip("/")
        file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
        builder = builder.base_url(base).base_file_url(file_base)
    if webhook:
        builder = builder.updater(None)
    return builder.build()


class TelegramFrontend:
    """`async with` starts the bot (commands, then polling or webhook); exit stops it cleanly."""

    def __init__(self, app: App, secrets: Secrets, pacer: Pacer | None = None) -> None:
        self.settings = app.settings.telegram
        check_config(self.settings, secrets)
        self.app = app
        self._secret = secrets.telegram_webhook_secret or ""
        self.webhook_mode = self.settings.mode == "webhook"
        self.application = build_application(
            secrets.telegram_bot_token or "", secrets.telegram_api_base_url, self.webhook_mode,
            self.settings.concurrent_updates, self.settings.connections)
        # Replies draw on the bot's one send budget in Redis, with the alert notifier and
        # every other process (the alert keys' prefix: the same in live and replay).
        pacer = pacer or Pacer()
        pacer.share(SharedSchedule(app.redis, Keys(app.settings.store.prefix)))
        self.sender = ReplySender(self.application.bot, pacer)
        self.adapter = TelegramAdapter(app, self.sender)
        self.adapter.install(self.application)
        self.webhook: WebhookServer | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> TelegramFrontend:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            # A failed initialize (getMe refused: a rejected token) leaves the Application
            # uninitialized, so its shutdown skips the bot's HTTP clients; close them here or
            # each restart of the front-end leaks a connection pool.
            await self.application.bot.shutdown()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._stack.aclose()
        logger.info("telegram: stopped")

    async def _start(self) -> None:
        application, bot = self.application, self.application.bot
        await self._stack.enter_async_context(application)  # initialize (getMe) .. shutdown
        await self._describe(bot)
        # Queued replies go out after PTB stopped taking updates, before its HTTP client goes.
        self._stack.push_async_callback(self.adapter.replies.drain)
        await application.start()
        self._stack.push_async_callback(application.stop)
        if self.webhook_mode:
            await self._start_webhook()
        elif application.updater is not None:
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            self._stack.push_async_callback(application.updater.stop)
        logger.info("telegram: running as @%s mode=%s", bot.username, self.settings.mode)

    async def _describe(self, bot: Bot) -> None:
        """The command menus per kind of chat (group members do not see admin-only
        commands), the description an empty chat shows and the profile's short one. A
        failure is logged: the bot answers without them."""
        everything, members = bot_commands(self.app), bot_commands(self.app, members_only=True)
        calls: list[tuple[str, Callable[[], Awaitable[bool]]]] = [
            ("setMyCommands", lambda: bot.set_my_commands(everything)),
            ("setMyCommands private", lambda: bot.set_my_commands(
                everything, scope=BotCommandScopeAllPrivateChats())),
            ("setMyCommands groups", lambda: bot.set_my_commands(
                members, scope=BotCommandScopeAllGroupChats())),
            ("setMyCommands admins", lambda: bot.set_my_commands(
                everything, scope=BotCommandScopeAllChatAdministrators())),
            ("setMyDescription", lambda: bot.set_my_description(DESCRIPTION)),
            ("setMyShortDescription", lambda: bot.set_my_short_description(SHORT_DESCRIPTION)),
        ]
        for name, call in calls:
            try:
                await call()
            except TelegramError as exc:
                logger.warning("telegram: %s failed: %s", name, exc.message)

    async def _start_webhook(self) -> None:
        s = self.settings
        self.webhook = WebhookServer(self.application, s.webhook_path, self._secret)
        await self.webhook.start(s.listen_host, s.listen_port)
        self._stack.push_async_callback(self.webhook.stop)
        # The webhook itself is registered only by `python -m bot webhook set` (and removed by
        # `... delete`): a replica that starts or stops must not change it for the others.
        await warn_if_unregistered(self.application.bot, s)


async def run_telegram(app: App, secrets: Secrets, stop: asyncio.Event | None = None,
                       on_ready: SenderHook | None = None) -> None:
    """Run the Telegram front-end until cancelled or until `stop` is set. `on_ready` gets
    the alert sender once the bot is up, and None when it stops."""
    async with TelegramFrontend(app, secrets) as frontend:
        if on_ready is not None:
            # Alerts are paced by the notifier on the same budget: no second charge here.
            on_ready(TelegramAlertSender(frontend.application.bot))
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            if on_ready is not None:
                on_ready(None)
