"""The port from the notifier to chat platforms: a `Sender` answers with a `DeliveryResult`.

Exactly-once delivery to an external API needs the receiver's help: a sender that can,
passes `idempotency_key` ("<event_id>:<destination>") on to the receiver (the tests' HTTP
sender sends it as an `Idempotency-Key` header). The Telegram Bot API and Discord have no
such key, so a worker killed between a platform accepting a message and the notifier
recording it may, on reclaim, send that one message again (see services/alerts/notifier.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

if TYPE_CHECKING:
    from services.alerts.events import AlertEvent

Outcome = Literal["ok", "retry_after", "gone", "migrated", "failed"]
# Telegram descriptions (403 or 400) and Discord error codes that prove the chat is gone for
# the bot: blocked, kicked, deactivated, not found. Nothing else ends a destination.
GONE_MESSAGES = ("bot was blocked by the user", "bot was kicked", "user is deactivated",
                 "chat not found", "group chat was deactivated", "group chat was deleted",
                 "bot is not a member", "chat was deleted")
DISCORD_GONE_CODES = {10003: "Unknown Channel", 10004: "Unknown Guild", 50001: "Missing Access"}
# Sent, but without the chart: told once to a chat (see services/alerts/notices.py).
PHOTO_RIGHTS_NOTICE = ("Alerts here come without their chart: the bot lacks the right to "
                       "send photos in this chat. An admin can allow \"Send photos\" for it.")
ATTACH_FILES_NOTICE = ("Alerts here come without their chart: the bot lacks the \"Attach "
                       "Files\" permission in this channel.")


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    retry_after: float = 0.0  # seconds to wait, for "retry_after"
    global_limit: bool = False  # the 429 applies to the whole platform, not one chat
    new_chat_id: str = ""  # for "migrated"
    retryable: bool = False  # for "failed": 5xx and timeouts are, a bad request is not
    error: str = ""
    notice: str = ""  # for "ok": sent, but tell the chat this once (a missing right)

    @classmethod
    def ok(cls, notice: str = "") -> DeliveryResult:
        return cls("ok", notice=notice)

    @classmethod
    def rate_limited(cls, seconds: float, global_limit: bool = False) -> DeliveryResult:
        return cls("retry_after", retry_after=max(0.0, seconds), global_limit=global_limit)

    @classmethod
    def gone(cls, error: str) -> DeliveryResult:
        """Proof the chat is gone for the bot (blocked, kicked, deactivated, not found): its
        set-up is parked, not deleted (services/alerts/dormant.py)."""
        return cls("gone", error=error)

    @classmethod
    def migrated(cls, new_chat_id: str) -> DeliveryResult:
        return cls("migrated", new_chat_id=new_chat_id)

    @classmethod
    def failed(cls, error: str, retryable: bool = True) -> DeliveryResult:
        return cls("failed", retryable=retryable, error=error)


class Sender(Protocol):
    platform: str

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult: ...


class ConsoleSender:
    """Prints alerts to a text stream: the terminal has no limits and never fails."""

    platform = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult:
        stream = self.stream or sys.stdout
        suffix = " [chart attached]" if image else ""
        print(f"[alert → {chat_id}] {text}{suffix}", file=stream, flush=True)
        return DeliveryResult.ok()


def proves_gone(description: str) -> bool:
    """A Telegram error description that says the chat is gone for the bot."""
    return any(text in description.lower() for text in GONE_MESSAGES)
