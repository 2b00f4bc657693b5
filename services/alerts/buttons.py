"""The buttons under an alert and the command each one runs, shared by every platform.

A button's data is short ("a:m", "a:u:c12", "a:c:c12", "a:s:c12": well inside Telegram's
64 bytes and Discord's 100-character custom ids) and maps back to an ordinary command, so a
click is checked (admins only in groups) and answered like the command typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.alerts.events import AlertEvent

PREFIX = "a:"
WITH_BUTTONS = ("firing", "resolved", "muted-summary")
MAX_SEND_NOW = 5  # "Send it now" rows under one /subscribe answer


@dataclass(frozen=True)
class AlertButton:
    label: str
    data: str


def alert_buttons(event: AlertEvent) -> list[AlertButton]:
    """Mute 1d, Unsubscribe (from this rule) and Chart (this rule's chart)."""
    if event.kind not in WITH_BUTTONS or not event.rule_id:
        return []
    rule = event.rule_id
    return [AlertButton("Mute 1d", f"{PREFIX}m"), AlertButton("Unsubscribe", f"{PREFIX}u:{rule}"),
            AlertButton("Chart", f"{PREFIX}c:{rule}")]


def send_now_buttons(rule_ids: list[str]) -> list[AlertButton]:
    """Under a /subscribe or /alert add answer, for rules already past their threshold: send
    that rule's alert here now (once)."""
    if len(rule_ids) == 1:
        return [AlertButton("Send it now", f"{PREFIX}s:{rule_ids[0]}")]
    return [AlertButton(f"Send {r} now", f"{PREFIX}s:{r}") for r in rule_ids[:MAX_SEND_NOW]]


def button_command(data: str) -> str:
    """The command a button runs ('' for data that is not an alert button's)."""
    if not data.startswith(PREFIX):
        return ""
    action, _, rule = data.removeprefix(PREFIX).partition(":")
    rule = rule.strip()[:40]
    if action == "m":
        return "/mute 1d"
    if action == "u" and rule:
        return f"/unsubscribe {rule}"
    if action == "c" and rule:
        return f"/alert chart {rule}"
    if action == "s" and rule:
        return f"/alert now {rule}"
    return ""
