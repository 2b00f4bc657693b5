"""The buttons under an alert and the command each one runs, shared by every platform.

A button's data is short ("a:m", "a:u:c12", "a:c:c12": well inside Telegram's 64 bytes and
Discord's 100-character custom ids) and maps back to an ordinary command, so a click is
checked (admins only in groups) and answered like the command typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.alerts.events import AlertEvent

PREFIX = "a:"
WITH_BUTTONS = ("firing", "resolved", "muted-summary")


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
    return ""
