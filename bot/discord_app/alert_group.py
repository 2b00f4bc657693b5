"""/alert on Discord: subcommands with structured options instead of one free-text rule.

    /alert add metric condition value [for] [cooldown] [repeat]   metric autocompletes
    /alert rule text        the free-text rule, as /alert add takes it on Telegram
    /alert rm rule | /alert chart rule | /alert metrics [family]

Each is the registry's /alert with its words (add builds the rule text from its options),
so the handler stays the one place rules are parsed, checked and stored.
"""

from __future__ import annotations

import asyncio
from typing import Any

from discord import app_commands

from bot.app import App
from bot.discord_app.commands import answer, suggest_from, track
from bot.discord_app.render import clip
from handlers import suggest
from handlers.registry import CommandSpec

ALERT = "alert"
# Condition choices: the rule grammar's threshold conditions (services/alerts/rules.py).
CONDITIONS = [app_commands.Choice(name=name, value=value) for name, value in (
    ("above", "above"), ("below", "below"),
    ("crosses above", "crosses_above"), ("crosses below", "crosses_below"))]
DURATION = "like 30m, 6h, 1d"


def rule_text(metric: str, condition: str, value: str, **options: str | None) -> str:
    """The rule the options spell, in the words /alert add takes: 'btc.price above 100k
    for=1h'. An option typed with its name ('for=1h') is taken as it is."""
    parts = [metric.strip(), condition.strip(), value.strip()]
    for name, raw in options.items():
        if raw and raw.strip():
            parts.append(f"{name}={raw.strip().removeprefix(name + '=')}")
    return " ".join(p for p in parts if p)


def alert_group(app: App, spec: CommandSpec, in_flight: set[asyncio.Task[Any]]
                ) -> app_commands.Group:
    group = app_commands.Group(name=ALERT, description=clip(spec.help, 100))

    async def run(interaction: Any, *words: str) -> None:
        track(in_flight)
        await answer(app, ALERT, interaction, tuple(w for w in words if w))

    @group.command(name="add", description="Add a rule: a metric, a condition and a value.")
    @app_commands.describe(
        metric="what to watch, like btc.price or btc.drawdown (type to search)",
        condition="when it fires", value="the threshold, like 100k, 1.5m, -30 or 4.5%",
        for_=f"only after it has held this long, {DURATION}",
        cooldown=f"at most one alert per this long, {DURATION}",
        repeat=f"re-send while it keeps firing, every {DURATION}")
    @app_commands.rename(for_="for")
    @app_commands.choices(condition=CONDITIONS)
    @app_commands.autocomplete(metric=suggest_from(app, suggest.metrics))
    async def add(interaction: Any, metric: str, condition: str, value: str,
                  for_: str | None = None, cooldown: str | None = None,
                  repeat: str | None = None) -> None:
        text = rule_text(metric, condition, value, **{"for": for_, "cooldown": cooldown,
                                                      "repeat": repeat})
        await run(interaction, "add", *text.split())

    @group.command(name="rule", description="Add a rule written out, like btc below 60k.")
    @app_commands.describe(text="a rule, like: btc below 60k, btc drawdown < -30 for=1d")
    async def rule(interaction: Any, text: str) -> None:
        await run(interaction, "add", *text.split())

    @group.command(name="rm", description="Remove a rule this chat added.")
    @app_commands.describe(rule="a rule id from /alerts")
    @app_commands.autocomplete(rule=suggest_from(app, suggest.own_rules))
    async def rm(interaction: Any, rule: str) -> None:
        await run(interaction, "rm", rule.strip())

    @group.command(name="chart", description="A rule's chart: its threshold and crossing.")
    @app_commands.describe(rule="a rule id from /alerts")
    @app_commands.autocomplete(rule=suggest_from(app, suggest.visible_rules))
    async def chart(interaction: Any, rule: str) -> None:
        await run(interaction, "chart", rule.strip())

    @group.command(name="metrics", description="The metrics rules can watch.")
    @app_commands.describe(family="a family, like btc or yields, for units and meanings")
    @app_commands.autocomplete(family=suggest_from(app, suggest.metric_families))
    async def metrics(interaction: Any, family: str | None = None) -> None:
        await run(interaction, "metrics", (family or "").strip())

    return group
