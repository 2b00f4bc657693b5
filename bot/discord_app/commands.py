"""Slash commands built from the registry: one generic callback, no per-command logic.

A metric command that has a chart of the same name (services.charts.catalog.CHARTS) also
takes an optional boolean `chart`: the reply then carries that chart, drawn by /chart.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from bot.app import App
from bot.discord_app.alert_layout import reply_view
from bot.discord_app.render import CHART_NAME, OutgoingMessage, clip, one_line, render_messages
from handlers.registry import APOLOGY, Chat, CommandSpec, Param
from handlers.reply import Reply
from handlers.suggest import SUGGESTERS, Suggester
from services.charts.catalog import CHARTS

logger = logging.getLogger(__name__)

DESCRIPTION_MAX = 100  # slash command and option descriptions
CHOICES_MAX = 25
CHART_OPTION = "chart"
CHART_HELP = "attach this metric's chart (as /chart draws it)"

AnyInteraction = discord.Interaction[Any]
SlashCommand = app_commands.Command[Any, ..., None]


def build_commands(app: App, in_flight: set[asyncio.Task[Any]]
                   ) -> list[SlashCommand | app_commands.Group]:
    """One slash command per registry entry, described by the spec's help and params;
    /alert is a group of subcommands (alert_group.py).

    Each invocation's task joins `in_flight` until it ends, so shutdown can let it finish.
    """
    from bot.discord_app.alert_group import ALERT, alert_group  # noqa: PLC0415 (a cycle)

    return [alert_group(app, spec, in_flight) if spec.name == ALERT
            else _slash_command(app, spec, in_flight) for spec in app.registry]


def track(in_flight: set[asyncio.Task[Any]]) -> None:
    """The current task joins `in_flight` until it ends."""
    if task := asyncio.current_task():
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)


def has_autocomplete(spec: CommandSpec, param: Param) -> bool:
    return bool(param.choices) or (spec.name, param.name) in SUGGESTERS


def has_chart_option(spec: CommandSpec) -> bool:
    """Metric commands with a chart of their name get the boolean `chart` option."""
    return spec.name in CHARTS and all(p.name != CHART_OPTION for p in spec.params)


def _slash_command(app: App, spec: CommandSpec, in_flight: set[asyncio.Task[Any]]) -> SlashCommand:
    with_chart_option = has_chart_option(spec)

    async def callback(interaction: AnyInteraction, **values: str | bool | None) -> None:
        track(in_flight)
        with_chart = with_chart_option and values.pop(CHART_OPTION, None) is True
        args = tuple(v.strip() for p in spec.params
                     if isinstance(v := values.get(p.name), str) and v.strip())
        await answer(app, spec.name, interaction, args, with_chart)

    options = [_option(p) for p in spec.params]
    descriptions = {p.name: clip(p.help, DESCRIPTION_MAX) for p in spec.params}
    if with_chart_option:
        options.append(inspect.Parameter(CHART_OPTION, inspect.Parameter.KEYWORD_ONLY,
                                         default=False, annotation=bool))
        descriptions[CHART_OPTION] = CHART_HELP
    callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                           annotation=discord.Interaction), *options]
    )
    callback.__qualname__ = callback.__name__ = f"slash_{spec.name}"
    described = app_commands.describe(**descriptions)(callback)
    # Choices are suggestions, not a closed set (a window may be any since:YYYY-MM-DD), so
    # they are offered through autocomplete and the handler stays the one validator; so are
    # the chat's rule ids, claim numbers and time zones (handlers/suggest.py).
    suggested = app_commands.autocomplete(**{
        p.name: suggest_from(app, SUGGESTERS[spec.name, p.name])
        if (spec.name, p.name) in SUGGESTERS else _suggest(p.choices)
        for p in spec.params if has_autocomplete(spec, p)})(described)
    command: SlashCommand = app_commands.Command(
        name=spec.name, description=clip(spec.help, DESCRIPTION_MAX), callback=suggested)
    if spec.changes_settings:  # admin-only: hidden from members unless a server allows them
        command.default_permissions = discord.Permissions(manage_guild=True)
    return command


def _option(param: Param) -> inspect.Parameter:
    return inspect.Parameter(
        param.name, inspect.Parameter.KEYWORD_ONLY,
        default=inspect.Parameter.empty if param.required else None,
        annotation=str if param.required else str | None,
    )


def _suggest(choices: tuple[str, ...]) -> Any:
    async def suggest(_: AnyInteraction, current: str) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        hits = [c for c in choices if c.lower().startswith(typed)] or list(choices)
        return [app_commands.Choice(name=c, value=c) for c in hits[:CHOICES_MAX]]

    return suggest


def suggest_from(app: App, suggester: Suggester) -> Any:
    """An autocomplete callback asking `suggester` for this chat; nothing on a failure (an
    outage): the user can still type the value."""

    async def suggest(interaction: AnyInteraction, current: str
                      ) -> list[app_commands.Choice[str]]:
        try:
            found = await suggester(app.context(chat_of(interaction)), current or "")
        except Exception as exc:
            logger.warning("discord autocomplete failed: command=%s: %s",
                           interaction.command.name if interaction.command else "?", exc)
            return []
        return [app_commands.Choice(name=label, value=value)
                for label, value in found[:CHOICES_MAX]]

    return suggest


def chat_of(interaction: AnyInteraction) -> Chat:
    async def is_admin() -> bool:
        return interaction.permissions.manage_guild

    return Chat(platform="discord", chat_id=str(interaction.channel_id),
                user_id=str(interaction.user.id), is_group=interaction.guild_id is not None,
                is_admin=is_admin)


async def answer(app: App, name: str, interaction: AnyInteraction, args: tuple[str, ...],
                 with_chart: bool = False) -> None:
    """Defer (commands may take over 3 s), run the command, send the rendered reply; with
    `with_chart`, the chart (run as /chart <name> <args>) goes inside the reply's embed."""
    await interaction.response.defer(thinking=True)
    chat = chat_of(interaction)
    ctx = app.context(chat)
    reply = await app.registry.call(ctx, name, args)
    chart: Reply | None = None
    if with_chart and not reply.error:
        chart = await app.registry.call(ctx, "chart", (name, *args))
        if not chart.error:
            reply = replace(reply, chart_png=chart.chart_png)
    logger.info("discord command /%s chat=%s user=%s error=%s chart=%s", name, chat.chat_id,
                chat.user_id, reply.error, "-" if chart is None else not chart.error)
    await send_reply(interaction, reply)
    if chart is not None and chart.error:  # the numbers went out; say why the chart did not
        await interaction.followup.send(one_line(chart.title), ephemeral=True)


async def send_reply(interaction: AnyInteraction, reply: Reply) -> None:
    """Send a reply as follow-ups of a deferred interaction; user errors only to the user."""
    if reply.error:
        await send_private(interaction, one_line(reply.title))
        return
    messages, view = render_messages(reply), reply_view(reply)
    for number, message in enumerate(messages, 1):
        kwargs = message_kwargs(message)
        if view is not None and number == len(messages):  # under the reply's last message
            kwargs["view"] = view
        await interaction.followup.send(**kwargs)


def message_kwargs(message: OutgoingMessage) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"embeds": list(message.embeds)}
    if message.content is not None:
        kwargs["content"] = message.content
    if message.chart_png is not None:
        kwargs["file"] = discord.File(io.BytesIO(message.chart_png), filename=CHART_NAME)
    return kwargs


async def send_private(interaction: AnyInteraction, text: str) -> None:
    """Answer only the user who asked (flags 64), whatever state the interaction is in.

    The first follow-up after a defer replaces the "thinking" message and keeps the defer's
    visibility, so a public defer is deleted first; the follow-up is then a new ephemeral
    message.
    """
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
        return
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        try:
            await interaction.delete_original_response()
        except discord.NotFound:
            logger.debug("deferred response already gone: interaction=%s", interaction.id)
    await interaction.followup.send(text, ephemeral=True)


async def on_tree_error(interaction: AnyInteraction, error: app_commands.AppCommandError) -> None:
    """Log any failure in the adapter and answer the user with a short private apology."""
    name = interaction.command.name if interaction.command else "?"
    logger.error("discord interaction failed: command=%s chat=%s user=%s", name,
                 interaction.channel_id, interaction.user.id, exc_info=error)
    try:
        await send_private(interaction, APOLOGY)
    except discord.HTTPException:
        logger.exception("discord apology failed: interaction=%s", interaction.id)
