"""Send and edit rendered replies through the pacer; the only code that posts messages."""

from __future__ import annotations

import logging
from functools import lru_cache, partial
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.telegram.pacing import Pacer
from bot.telegram.render import render_html
from bot.telegram.transport import plain_call
from handlers.reply import Reply
from services.charts.catalog import CHARTS

logger = logging.getLogger(__name__)

REFRESH_PREFIX = "r:"
CHART_PREFIX = "c:"
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes, Bot API limit for callback_data
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _reply_to(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


def _button(text: str, data: str) -> InlineKeyboardButton | None:
    """A callback button, or None when its data exceeds Telegram's 64-byte limit."""
    if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        return None
    return InlineKeyboardButton(text, callback_data=data)


def chart_name(command: str) -> str:
    """The chart drawn for a metric command ('/divergence 90d' -> 'divergence'), or ''."""
    name = command.split(maxsplit=1)[0].removeprefix("/") if command.strip() else ""
    return name if name in CHARTS else ""


def refresh_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """The buttons under a text metric reply: Refresh, and Chart when the command has a
    chart; each only when its command fits in callback_data. A reply with buttons of its
    own (a guided /alert add step) gets those instead."""
    if reply.buttons:
        return _own_markup(reply)
    if reply.error or not reply.sources or not reply.command or reply.chart_png is not None:
        return None
    return _command_markup(reply.command)


def _own_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = [[b for b in (_button(x.label, x.data) for x in row) if b is not None]
            for row in reply.buttons]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


@lru_cache(maxsize=256)
def _command_markup(command: str) -> InlineKeyboardMarkup | None:
    """The buttons for one command (PTB objects are immutable, so one may be shared)."""
    row = [_button("Refresh", REFRESH_PREFIX + command)]
    if chart_name(command):
        row.append(_button("Chart", CHART_PREFIX + command))
    buttons = [b for b in row if b is not None]
    return InlineKeyboardMarkup([buttons]) if buttons else None


@lru_cache(maxsize=256)
def _markup_json(command: str) -> dict[str, Any] | None:
    markup = _command_markup(command)
    return markup.to_dict() if markup is not None else None


def _message_params(chat_id: int | str, text: str, markup: dict[str, Any] | None,
                    reply_to: int | None) -> dict[str, Any]:
    """sendMessage's parameters as JSON values: what send_message would post, built without
    PTB objects (converting those was most of a reply's cost)."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                              "link_preview_options": {"is_disabled": True}}
    if markup is not None:
        params["reply_markup"] = markup
    if reply_to is not None:
        params["reply_parameters"] = {"message_id": reply_to,
                                      "allow_sending_without_reply": True}
    return params


class ReplySender:
    """Posts replies paced at Telegram's limits; a 429 is waited out and retried."""

    def __init__(self, bot: Bot, pacer: Pacer | None = None) -> None:
        self.bot = bot
        self.pacer = pacer or Pacer()

    async def send_reply(self, chat_id: int | str, reply: Reply,
                         reply_to: int | None = None) -> list[int]:
        """A chart goes as a photo captioned with the reply (text follows if too long);
        otherwise the text split into messages, with the Refresh button on the last. Returns
        the ids of the messages sent."""
        sent: list[int] = []
        texts = render_html(reply)
        if reply.chart_png is not None:
            captions = render_html(reply, CAPTION_LIMIT)
            caption = captions[0] if len(captions) == 1 else None  # else the text follows
            photo = partial(self.bot.send_photo, chat_id, photo=reply.chart_png, caption=caption,
                            parse_mode=ParseMode.HTML, reply_parameters=_reply_to(reply_to))
            sent.append((await self.pacer.send(chat_id, photo)).message_id)
            if caption is not None:
                return sent
            reply_to = None
        markup = _markup_json(reply.command) if refresh_markup(reply) is not None else None
        if reply.buttons:
            own = _own_markup(reply)
            markup = own.to_dict() if own is not None else None
        for i, text in enumerate(texts):
            params = _message_params(chat_id, text, markup if i == len(texts) - 1 else None,
                                     reply_to if i == 0 else None)
            message = await self.pacer.send(chat_id, partial(self._post, "sendMessage", params))
            sent.append(int(message["message_id"]))
        logger.debug("telegram sent: chat=%s messages=%d", chat_id, len(sent))
        return sent

    async def _post(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call, errors raised as PTB raises them (RetryAfter, Forbidden, ...)."""
        return await self.bot.request.post(f"{self.bot.base_url}/{method}", plain_call(params))

    async def edit_reply(self, chat_id: int | str, message_id: int, reply: Reply) -> bool:
        """Replace a message with the reply's last part; False when nothing changed."""
        text = render_html(reply)[-1]
        try:
            await self.pacer.send(chat_id, partial(
                self.bot.edit_message_text, text, chat_id=chat_id, message_id=message_id,
                parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                reply_markup=refresh_markup(reply)))
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise
            return False
        return True
