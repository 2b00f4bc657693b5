"""An alert as Telegram shows it: the first line bold (the notification preview), the rest
plain, and the Mute 1d / Unsubscribe / Chart buttons under it."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from services.alerts.buttons import alert_buttons
from services.alerts.events import AlertEvent

TEXT_BUDGET = 3500  # plain characters; escaping may grow them, Telegram allows 4096


def alert_html(text: str) -> str:
    head, _, rest = text[:TEXT_BUDGET].partition("\n")
    body = f"<b>{escape(head, quote=False)}</b>"
    return f"{body}\n{escape(rest, quote=False)}" if rest else body


def alert_markup(event: AlertEvent) -> InlineKeyboardMarkup | None:
    buttons = [InlineKeyboardButton(b.label, callback_data=b.data) for b in alert_buttons(event)]
    return InlineKeyboardMarkup([buttons]) if buttons else None
