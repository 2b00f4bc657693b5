"""The discord.py client: built from the app, run inside the bot's own event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.app import App
from bot.discord_app.api_base import ApiBaseHTTPClient, webhooks_on
from bot.discord_app.buttons import on_alert_button
from bot.discord_app.commands import build_commands, message_kwargs, on_tree_error
from bot.discord_app.render import render_messages
from handlers.reply import Reply
from services.settings import DiscordSettings, Secrets

logger = logging.getLogger(__name__)

AnyClient = discord.Client | discord.AutoShardedClient
AnyTree = app_commands.CommandTree[Any]
DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class DiscordBot:
    client: AnyClient
    tree: AnyTree
    in_flight: set[asyncio.Task[Any]]  # command invocations still answering

    async def finish_in_flight(self) -> None:
        """Let commands being answered finish (bounded) before the client closes."""
        if self.in_flight:
            logger.info("discord: finishing %d in-flight commands", len(self.in_flight))
            await asyncio.wait(set(self.in_flight), timeout=DRAIN_SECONDS)


def build_client(app: App, api_base: str | None = None) -> DiscordBot:
    """A Client (or AutoShardedClient when shards are set) with the registry's commands;
    its REST calls and gateway on `api_base` when given (this client only)."""
    intents = discord.Intents.none()
    intents.guilds = True  # slash commands need no privileged or message intents
    shards, shard_ids = app.settings.discord.shards, app.settings.discord.shard_ids
    client: AnyClient
    if shards and shard_ids:  # this process runs only these of the shards
        client = discord.AutoShardedClient(intents=intents, shard_count=shards,
                                           shard_ids=shard_ids)
    elif shards:
        client = discord.AutoShardedClient(intents=intents, shard_count=shards)
    else:
        client = discord.Client(intents=intents)
    if api_base:
        ApiBaseHTTPClient.adopt(client.http, api_base)
    tree: AnyTree = app_commands.CommandTree(client)
    tree.error(on_tree_error)
    in_flight: set[asyncio.Task[Any]] = set()
    for command in build_commands(app, in_flight):
        tree.add_command(command)

    async def on_interaction(interaction: discord.Interaction[Any]) -> None:
        await on_alert_button(app, interaction)  # app commands go through the tree

    client.event(on_interaction)
    return DiscordBot(client, tree, in_flight)


async def sync_commands(tree: AnyTree, settings: DiscordSettings) -> None:
    """Global sync by default; per guild (instant) when guild ids are configured."""
    if not settings.guild_ids:
        synced = await tree.sync()
        logger.info("discord commands synced: scope=global count=%d", len(synced))
        return
    for guild_id in settings.guild_ids:
        guild = discord.Object(id=guild_id)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
        logger.info("discord commands synced: scope=guild guild=%s count=%d", guild_id,
                    len(synced))


async def run_discord(app: App, secrets: Secrets, stop: asyncio.Event | None = None,
                      on_ready: Callable[[AnyClient | None], None] | None = None) -> None:
    """Run the Discord front-end until cancelled or `stop` is set, then close cleanly.
    `on_ready` gets the client once logged in (it can post alerts), and None at the end."""
    token = secrets.discord_bot_token
    if not token:
        raise ValueError("DISCORD_BOT_TOKEN is not set")
    bot = build_client(app, secrets.discord_api_base_url)
    with webhooks_on(secrets.discord_api_base_url):  # interaction responses, this task's
        async with bot.client:
            await bot.client.login(token)
            if isinstance(bot.client.http, ApiBaseHTTPClient):
                url = await bot.client.http.use_gateway_of_api()
                logger.info("discord gateway from API base: %s", url)
            await sync_commands(bot.tree, app.settings.discord)
            if on_ready is not None:
                on_ready(bot.client)
            try:
                await _connect_until(bot, stop)
            finally:
                if on_ready is not None:
                    on_ready(None)
    logger.info("discord front-end stopped")


async def _connect_until(bot: DiscordBot, stop: asyncio.Event | None) -> None:
    connection = asyncio.create_task(bot.client.connect(reconnect=True), name="discord-gateway")
    waiters: set[asyncio.Task[Any]] = {connection}
    if stop is not None:
        waiters.add(asyncio.create_task(stop.wait(), name="discord-stop"))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.wait(waiters)
        await bot.finish_in_flight()
    if not connection.cancelled():
        connection.result()  # a fatal gateway error (bad token, intents) propagates


async def send_to_channel(client: AnyClient, channel_id: int, reply: Reply) -> None:
    """Post a reply to a channel (alerts); discord.py waits out 429s and retries."""
    channel = client.get_partial_messageable(channel_id)
    for message in render_messages(reply):
        await channel.send(**message_kwargs(message))
