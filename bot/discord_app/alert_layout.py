"""An alert as Discord shows it: an embed titled with the first line, the rest as its
description, and Mute 1d / Unsubscribe / Chart buttons (components) under it."""

from __future__ import annotations

import discord

from services.alerts.buttons import alert_buttons
from services.alerts.events import AlertEvent

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIRING_COLOUR = 0xD9480F
RESOLVED_COLOUR = 0x2F9E44


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
