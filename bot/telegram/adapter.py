"""The PTB Application: one CommandHandler per registry entry, Refresh and Chart buttons,
the error hook."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from datetime import UTC
from typing import Any

from telegram import BotCommand, CallbackQuery, Message, Update
from telegram import Chat as TgChat
from telegram.constants import ChatAction, ChatMemberStatus, ChatType
from telegram.error import Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import App
from bot.telegram.actions import TYPING_AFTER_S, chat_action
from bot.telegram.guided_add import GuidedAdd
from bot.telegram.replies import ChatQueues
from bot.telegram.send import CHART_PREFIX, REFRESH_PREFIX, ReplySender, chart_name
from handlers.general import PLAIN_TEXT_HINT
from handlers.registry import APOLOGY, MAX_INPUT_CHARS, Chat, CommandContext, CommandSpec
from handlers.reply import Reply, error_reply
from services.alerts.buttons import PREFIX as ALERT_BUTTON_PREFIX
from services.alerts.buttons import button_command
from services.alerts.guided import GROUP_ADMINS

logger = logging.getLogger(__name__)

COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")  # Bot API rule for command names
DESCRIPTION_LIMIT = 256
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
PRESENT_STATUSES = (*ADMIN_STATUSES, ChatMemberStatus.MEMBER, ChatMemberStatus.RESTRICTED)
Context = ContextTypes.DEFAULT_TYPE
TelegramApp = Application[Any, Context, Any, Any, Any, Any]
CommandCallback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def telegram_specs(app: App) -> list[CommandSpec]:
    """Registry commands whose names Telegram accepts; others are logged and skipped."""
    specs = []
    for spec in app.registry:
        if COMMAND_NAME.match(spec.name):
            specs.append(spec)
        else:
            logger.warning("telegram: skipping command /%s (not a valid Telegram name)",
                           spec.name)
    return specs


def bot_commands(app: App, members_only: bool = False) -> list[BotCommand]:
    """The setMyCommands list: each name with its help line, within Telegram's limits;
    `members_only` leaves out the commands only chat admins may use in a group."""
    commands = []
    for spec in telegram_specs(app):
        if members_only and spec.changes_settings:
            continue
        text = spec.help.strip() or spec.name
        if len(text) > DESCRIPTION_LIMIT:
            text = text[: DESCRIPTION_LIMIT - 1] + "…"
        commands.append(BotCommand(spec.name, text))
    return commands


def no_change_since(message: Message) -> str:
    """The Refresh answer when nothing changed: since the message was last written."""
    written = message.edit_date or message.date
    return f"No change since {written.astimezone(UTC):%H:%M} UTC"


def chat_for(context: Context, chat: TgChat, user_id: int | None,
             sender_chat_id: int | None = None) -> Chat:
    """The neutral Chat; is_admin asks getChatMember only when a command needs it. A message
    sent as the group itself (`sender_chat` is the chat: an anonymous admin) is an admin's,
    and its user is the group's admins (a guided add any admin may carry on)."""

    async def is_admin() -> bool:
        if sender_chat_id is not None and sender_chat_id == chat.id:
            return True
        if user_id is None:
            return False
        member = await context.bot.get_chat_member(chat.id, user_id)
        return member.status in ADMIN_STATUSES

    as_group = sender_chat_id is not None and sender_chat_id == chat.id
    return Chat(platform="telegram", chat_id=str(chat.id),
                user_id=GROUP_ADMINS if as_group else "" if user_id is None else str(user_id),
                is_group=chat.type in (ChatType.GROUP, ChatType.SUPERGROUP), is_admin=is_admin)


class TelegramAdapter:
    """Turns updates into registry calls and replies into messages. A handler computes the
    reply and queues its send in the chat's own queue (replies.py), so waiting for the
    chat's pacing never holds one of PTB's update slots."""

    def __init__(self, app: App, sender: ReplySender,
                 typing_after_s: float = TYPING_AFTER_S) -> None:
        self.app = app
        self.sender = sender
        self.typing_after_s = typing_after_s
        self.replies = ChatQueues(self._reply_failed)
        # Chats that refused a reply (blocked the bot, 403), counted once each is logged.
        self.blocked: Counter[str] = Counter()
        self.failed_updates: Counter[str] = Counter()  # by exception type, once logged

    def install(self, application: TelegramApp) -> None:
        for spec in telegram_specs(self.app):
            application.add_handler(CommandHandler(spec.name, self._command(spec)))
        application.add_handler(
            CallbackQueryHandler(self.on_refresh, pattern=f"^{re.escape(REFRESH_PREFIX)}"))
        application.add_handler(
            CallbackQueryHandler(self.on_chart, pattern=f"^{re.escape(CHART_PREFIX)}"))
        application.add_handler(CallbackQueryHandler(
            self.on_alert_button, pattern=f"^{re.escape(ALERT_BUTTON_PREFIX)}"))
        application.add_handler(ChatMemberHandler(
            self.on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        # In private chats an unknown /command gets "try /help"; in groups it may be another bot's.
        application.add_handler(MessageHandler(
            filters.COMMAND & filters.ChatType.PRIVATE, self.on_unknown_command))
        # A guided /alert add's buttons and typed value; other plain text in a private chat
        # is someone trying to talk to the bot: one line of help (GuidedAdd.on_text).
        GuidedAdd(self).install(application)
        application.add_error_handler(self.on_error)

    def _command(self, spec: CommandSpec) -> CommandCallback:
        async def handle(update: Update, context: Context) -> None:
            message, tg_chat = update.effective_message, update.effective_chat
            if message is None or tg_chat is None:
                return
            ctx = self._context(update, context, tg_chat)
            async with self._working(tg_chat.id, spec.name):
                if len(message.text or "") > MAX_INPUT_CHARS:
                    reply = await self.app.registry.run_text(ctx, message.text or "")
                else:
                    reply = await self.app.registry.call(ctx, spec.name,
                                                         tuple(context.args or ()))
            logger.info("telegram command: /%s chat=%s error=%s", spec.name, tg_chat.id,
                        reply.error)
            await self.send(tg_chat.id, reply, message.message_id)

        return handle

    def _working(self, chat_id: int, command: str) -> AbstractAsyncContextManager[None]:
        """'sending photo' at once for a chart; 'typing' for anything slower than a read."""
        if command == "chart":
            return chat_action(self.sender.bot, chat_id, ChatAction.UPLOAD_PHOTO)
        return chat_action(self.sender.bot, chat_id, ChatAction.TYPING, self.typing_after_s)

    async def on_plain_text(self, update: Update, context: Context) -> None:
        message, tg_chat = update.effective_message, update.effective_chat
        if message is None or tg_chat is None:
            return
        await self.send(tg_chat.id, error_reply(PLAIN_TEXT_HINT), message.message_id)

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        message, tg_chat = update.effective_message, update.effective_chat
        if message is None or tg_chat is None or not message.text:
            return
        reply = await self.app.registry.run_text(self._context(update, context, tg_chat),
                                                 message.text)
        await self.send(tg_chat.id, reply, message.message_id)

    def _context(self, update: Update, context: Context, tg_chat: TgChat) -> CommandContext:
        user, message = update.effective_user, update.effective_message
        sender_chat = message.sender_chat if message is not None else None
        return self.app.context(chat_for(context, tg_chat, user.id if user else None,
                                         sender_chat.id if sender_chat else None))

    def chat_context(self, context: Context, tg_chat: TgChat, user_id: int,
                     sender_chat_id: int | None = None) -> CommandContext:
        """The command context of a button press or a message (its user, its chat)."""
        return self.app.context(chat_for(context, tg_chat, user_id, sender_chat_id))

    async def send(self, chat_id: int, reply: Reply, reply_to: int | None = None) -> None:
        """Queue the reply in the chat's own queue (paced)."""
        self.replies.submit(chat_id, lambda: self.sender.send_reply(chat_id, reply, reply_to))

    async def _reply_failed(self, chat_id: str, exc: BaseException) -> None:
        """A queued send failed: a chat that blocked the bot is logged; anything else is
        logged with its traceback and apologised for, as the error hook does."""
        if isinstance(exc, Forbidden):  # its other queued replies would fail alike
            logger.warning("telegram: cannot reply in chat=%s: %s (%d queued replies dropped)",
                           chat_id, exc.message, self.replies.discard(chat_id))
            self.blocked[str(chat_id)] += 1
            return
        logger.error("telegram update failed: %s", type(exc).__name__, exc_info=exc)
        self.failed_updates[type(exc).__name__] += 1
        await self.sender.send_reply(chat_id, error_reply(APOLOGY))

    async def on_refresh(self, update: Update, context: Context) -> None:
        """Re-run the command behind a Refresh button and edit its message in place."""
        query = update.callback_query
        if query is None:
            return
        queued = False
        try:
            message = query.message
            command = (query.data or "").removeprefix(REFRESH_PREFIX).strip()
            if not isinstance(message, Message) or not command:
                return
            ctx = self.app.context(chat_for(context, message.chat, query.from_user.id))
            reply = await self.app.registry.run_text(ctx, command)
            # The edit waits in the chat's reply queue (paced), then answers the button.
            queued = self.replies.submit(message.chat.id, lambda: self._refresh(
                query, message, command, reply))
        finally:
            if not queued:
                await query.answer()

    async def _refresh(self, query: CallbackQuery, message: Message, command: str,
                       reply: Reply) -> None:
        answer: str | None = None
        try:
            changed = await self.sender.edit_reply(message.chat.id, message.message_id, reply)
            answer = "Updated" if changed else no_change_since(message)
            logger.info("telegram refresh: %s chat=%s changed=%s", command.split(maxsplit=1)[0],
                        message.chat.id, changed)
        finally:
            await query.answer(answer)

    async def on_chart(self, update: Update, context: Context) -> None:
        """Send the chart behind a Chart button as a photo replying to its message.

        The query is answered first: drawing may take seconds and the button should not
        spin meanwhile. The chart runs as the /chart command, so a problem is a one-line
        reply like any other.
        """
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        message = query.message
        command = (query.data or "").removeprefix(CHART_PREFIX).strip()
        name = chart_name(command)
        if message is None or not name:
            return
        ctx = self.app.context(chat_for(context, message.chat, query.from_user.id))
        args = command.split()[1:]
        async with self._working(message.chat.id, "chart"):
            reply = await self.app.registry.run_text(ctx, " ".join(("/chart", name, *args)))
        logger.info("telegram chart button: %s chat=%s error=%s", name, message.chat.id,
                    reply.error)
        await self.send(message.chat.id, reply, message.message_id)

    async def on_alert_button(self, update: Update, context: Context) -> None:
        """Mute 1d, Unsubscribe or Chart under an alert: run that command for the user who
        clicked (admins only in groups, like the typed command) and reply to the alert."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        message, command = query.message, button_command(query.data or "")
        if message is None or not command:
            return
        ctx = self.app.context(chat_for(context, message.chat, query.from_user.id))
        reply = await self.app.registry.run_text(ctx, command)
        logger.info("telegram alert button: %s chat=%s error=%s", command, message.chat.id,
                    reply.error)
        await self.send(message.chat.id, reply, message.message_id)

    async def on_my_membership(self, update: Update, context: Context) -> None:
        """The bot added back to a chat gets that chat's parked alerts back; removed or
        blocked, the chat is parked at once (its set-up kept for 30 days)."""
        change, alerts = update.my_chat_member, self.app.hub.alerts
        if change is None or alerts is None:
            return
        dest = f"telegram:{change.chat.id}"
        status = change.new_chat_member.status
        if status in PRESENT_STATUSES:
            restored = await alerts.restore_destination(dest)
            logger.info("telegram: bot is in chat=%s status=%s restored=%s", change.chat.id,
                        status, restored is not None)
        elif status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            await alerts.park_destination(dest)
            logger.info("telegram: bot left chat=%s status=%s: parked", change.chat.id, status)

    async def on_error(self, update: object, context: Context) -> None:
        """Log any failure with its traceback; apologise where there is a chat."""
        logger.error("telegram update failed: %s", type(context.error).__name__,
                     exc_info=context.error)
        self.failed_updates[type(context.error).__name__] += 1
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await self.sender.send_reply(update.effective_chat.id, error_reply(APOLOGY))
            except Exception:
                logger.exception("telegram: apology failed in chat=%s", update.effective_chat.id)
