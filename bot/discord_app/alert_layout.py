"""An alert as Discord shows it: an embed titled with the first line, the rest as its
description, and Mute 1d / Unsubscribe / Chart buttons (components) under it; and a reply's
own buttons (Send it now under /subscribe and /alert add) as components."""

from __future__ import annotations

import discord

from handlers.reply import Reply
from services.alerts.buttons import alert_buttons, button_command
from services.alerts.events import AlertEvent

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIRING_COLOUR = 0xD9480F
RESOLVED_COLOUR = 0x2F9E44
# Discord's limits on message components.
ROWS_MAX, PER_ROW_MAX, LABEL_MAX, CUSTOM_ID_MAX = 5, 5, 80, 100


def alert_embed(text: str, image: str = "", kind: str = "firing") -> discord.Embed:
    head, _, rest = text.partition("\n")
    colour = RESOLVED_COLOUR if kind == "resolved" else FIRING_COLOUR
    embed = discord.Embed(title=head[:TITLE_LIMIT], description=rest[:DESCRIPTION_LIMIT] or None,
                          colour=colour)
    if image:
        embed.set_image(url=f"attachment://{image}")
    return embed


def alert_view(event: AlertEvent | None) -> discord.ui.View:
    """The buttons (none for a notice or a digest: an empty row list)."""
    buttons = alert_buttons(event) if event is not None else []
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(discord.ui.Button(label=button.label, custom_id=button.data,
                                        style=discord.ButtonStyle.secondary))
    return view


def reply_view(reply: Reply) -> discord.ui.View | None:
    """A reply's buttons, one component row per row, or None without any. Only buttons the
    Discord front-end answers (alert buttons: services/alerts/buttons.py) are drawn, so no
    click goes unanswered; a click runs its command like a typed one (bot/discord_app/
    buttons.py). The view is stopped: on_interaction answers by custom id, which outlives
    a restart, so discord.py need not keep each reply's view in memory."""
    if reply.error or not reply.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(reply.buttons[:ROWS_MAX]):
        drawn = [b for b in row if button_command(b.data) and len(b.data) <= CUSTOM_ID_MAX]
        for button in drawn[:PER_ROW_MAX]:
            view.add_item(discord.ui.Button(label=button.label[:LABEL_MAX], row=number,
                                            custom_id=button.data,
                                            style=discord.ButtonStyle.primary))
    if not view.children:
        return None
    view.stop()
    return view
