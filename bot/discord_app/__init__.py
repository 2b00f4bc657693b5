"""Discord front-end: slash commands built from the registry, replies rendered as embeds."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # discord.py imports the stdlib audioop (deprecated in 3.11) for voice, which we never use;
    # without this, importing the adapter fails under `-W error` (pytest filterwarnings=error).
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from bot.discord_app.client import DiscordBot, build_client, run_discord, send_to_channel

__all__ = ["DiscordBot", "build_client", "run_discord", "send_to_channel"]
