"""The guided `/alert add` in Telegram: its buttons edit the walk's message in place, and a
typed value is taken from the user's next text.

A typed value is a plain message in a private chat, or in a group a reply to the bot's
message: with privacy mode on (the default) that is all a bot receives of a group's
text besides commands, and it keeps the bot from taking unrelated chatter for a value.
`/alert value 95k` works everywhere. A press that is refused (expired, someone else's, not
an admin) is answered on the button only, leaving the message as it is.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from handlers.reply import Reply
from services.alerts.events import destination_id
from services.alerts.guided import PREFIX

if TYPE_CHECKING:
    from bot.telegram.adapter import Context, TelegramAdapter, TelegramApp

logger = logging.getLogger(__name__)
ANSWER_LIMIT = 200  # characters of a callback query's answer


class GuidedAdd:
    def __init__(self, adapter: TelegramAdapter) -> None:
        self.adapter = adapter

    def install(self, application: TelegramApp) -> None:
        application.add_handler(
            CallbackQueryHandler(self.on_button, pattern=f"^{re.escape(PREFIX)}"))
        application.add_handler(MessageHandler(
            filters.TEXT & ~filters.COMMAND & (filters.ChatType.PRIVATE | filters.REPLY),
            self.on_text))

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if not isinstance(message, Message):
            await query.answer()
            return
        app = self.adapter.app
        ctx = self.adapter.chat_context(context, message.chat, query.from_user.id)
        reply = await app.registry.run_text(ctx, f"/alert step {query.data or ''}")
        logger.info("telegram guided add: chat=%s user=%s error=%s", message.chat.id,
                    query.from_user.id, reply.error)
        if reply.error:
            await query.answer(reply.title[:ANSWER_LIMIT], show_alert=True)
            return
        if not self.adapter.replies.submit(message.chat.id,
                                           lambda: self._edit(query, message, reply)):
            await query.answer()

    async def _edit(self, query: CallbackQuery, message: Message, reply: Reply) -> None:
        try:
            await self.adapter.sender.edit_reply(message.chat.id, message.message_id, reply)
        finally:
            await query.answer()

    async def on_text(self, update: Update, context: Context) -> None:
        """A value for a walk waiting here; else, in a private chat, the plain-text hint."""
        message, tg_chat, user = (update.effective_message, update.effective_chat,
                                  update.effective_user)
        if message is None or tg_chat is None or user is None or not message.text:
            return
        private = tg_chat.type == ChatType.PRIVATE
        to_bot = (message.reply_to_message is not None
                  and message.reply_to_message.from_user is not None
                  and message.reply_to_message.from_user.id == context.bot.id)
        alerts = self.adapter.app.hub.alerts
        sender_chat = message.sender_chat.id if message.sender_chat is not None else None
        ctx = self.adapter.chat_context(context, tg_chat, user.id, sender_chat)
        if (private or to_bot) and alerts is not None and await alerts.guide().waiting(
                destination_id("telegram", str(tg_chat.id)), ctx.chat.user_id):
            reply = await self.adapter.app.registry.run_text(
                ctx, f"/alert value {message.text}")
            await self.adapter.send(tg_chat.id, reply, message.message_id)
        elif private:
            await self.adapter.on_plain_text(update, context)
