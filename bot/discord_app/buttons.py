"""Clicks on the buttons under an alert (Mute 1d, Unsubscribe, Chart): each runs its
command (services/alerts/buttons.py) for the user who clicked, answered like a slash
command, so the same admin rule applies."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.app import App
from bot.discord_app.commands import answer
from handlers.registry import parse_command
from services.alerts.buttons import button_command

logger = logging.getLogger(__name__)


async def on_alert_button(app: App, interaction: discord.Interaction[Any]) -> None:
    if interaction.type is not discord.InteractionType.component:
        return
    data: Any = interaction.data or {}
    command = button_command(str(data.get("custom_id", "")))
    if not command:
        return
    name, args = parse_command(command)
    logger.info("discord alert button: %s chat=%s", command, interaction.channel_id)
    await answer(app, name, interaction, args)
