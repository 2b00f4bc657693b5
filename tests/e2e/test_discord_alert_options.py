"""Discord's /alert with structured options, and autocomplete of rule ids, claim numbers and
time zones: the real discord.py client against the local Discord stand-in, real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import App
from services.settings import Settings
from tests.conftest import collected_app

from .discord_standin import EPHEMERAL, DiscordStandin
from .test_discord import answered, connected, text_of

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
CHANNEL = "750"


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix) as built:
        yield built


@pytest.fixture
async def bot(app: App) -> AsyncIterator[DiscordStandin]:
    async with connected(app) as server:
        yield server


async def alert(bot: DiscordStandin, sub: str, options: dict[str, str], **how: Any) -> str:
    """Run /alert <sub> in CHANNEL; the text the user sees (private or public)."""
    log = await answered(bot, await bot.invoke("alert", options, subcommand=sub,
                                               channel_id=CHANNEL, **how))
    return text_of(log.visible)


async def suggested(bot: DiscordStandin, name: str, options: dict[str, str], focused: str,
                    sub: str | None = None) -> list[dict[str, str]]:
    token = await bot.invoke(name, options, subcommand=sub, kind=4, focused=focused,
                             channel_id=CHANNEL)
    log = bot.interactions[token]
    await bot.wait_for(lambda: log.callbacks)
    [callback] = log.callbacks
    assert callback["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    choices: list[dict[str, str]] = callback["data"]["choices"]
    assert len(choices) <= 25
    assert all(len(c["name"]) <= 100 for c in choices)
    return choices


def values(choices: list[dict[str, str]]) -> list[str]:
    return [c["value"] for c in choices]


async def test_alert_syncs_as_subcommands_with_structured_add_options(
        bot: DiscordStandin) -> None:
    [synced] = [c for c in bot.commands["global"] if c["name"] == "alert"]
    subs = {o["name"]: o for o in synced["options"]}
    assert sorted(subs) == ["add", "chart", "metrics", "rm", "rule"]
    assert {o["type"] for o in subs.values()} == {1}  # SUB_COMMAND
    add = {o["name"]: o for o in subs["add"]["options"]}
    assert [o["name"] for o in subs["add"]["options"]] == [
        "metric", "condition", "value", "for", "cooldown", "repeat"]
    assert add["metric"]["autocomplete"] and add["metric"]["required"]
    assert [c["value"] for c in add["condition"]["choices"]] == [
        "above", "below", "crosses_above", "crosses_below"]
    assert add["value"]["required"] and not add["value"].get("autocomplete")
    assert not any(add[n].get("required") for n in ("for", "cooldown", "repeat"))
    assert [o["name"] for o in subs["rule"]["options"]] == ["text"]
    assert subs["rm"]["options"][0]["autocomplete"]


async def test_metric_autocomplete_offers_the_catalogue(bot: DiscordStandin) -> None:
    choices = await suggested(bot, "alert", {"metric": "btc.d"}, "metric", sub="add")
    assert values(choices)[0] == "btc.drawdown"
    assert choices[0]["name"].startswith("btc.drawdown (")
    everything = await suggested(bot, "alert", {"metric": ""}, "metric", sub="add")
    assert len(everything) == 25


async def test_add_with_options_builds_the_rule_and_adds_it(app: App,
                                                           bot: DiscordStandin) -> None:
    text = await alert(bot, "add", {"metric": "btc.price", "condition": "crosses_above",
                                    "value": "150k", "for": "1h", "repeat": "repeat=1d"})
    assert "Added rule c1: btc.price crosses_above 150000 for=1h repeat=1d" in text
    rules = await app.hub.alerts.subscriptions.visible_rules(f"discord:{CHANNEL}")
    [mine] = [r for r in rules if r.owner]
    assert mine.rule.describe() == "btc.price crosses_above 150000 for=1h repeat=1d"
    assert "btc.price" in text.split("\n", 2)[1]  # evaluated at once: where it stands now


async def test_free_text_rule_takes_the_chat_grammar(bot: DiscordStandin) -> None:
    text = await alert(bot, "rule", {"text": "btc > 100,000 cooldown=6h"})
    assert "Added rule c1: btc.price above 100000 cooldown=6h" in text


async def test_bad_value_gets_a_private_one_line_error(bot: DiscordStandin) -> None:
    log = await answered(bot, await bot.invoke(
        "alert", {"metric": "btc.price", "condition": "above", "value": "lots"},
        subcommand="add", channel_id=CHANNEL))
    [message] = log.visible
    assert message["flags"] & EPHEMERAL
    assert "bad number 'lots'" in message["content"]
    assert "\n" not in message["content"]


async def test_members_without_manage_server_cannot_add(app: App,
                                                        bot: DiscordStandin) -> None:
    text = await alert(bot, "add", {"metric": "btc.price", "condition": "above",
                                    "value": "1m"}, permissions=0)
    assert text.startswith("only chat admins can change settings")
    rules = await app.hub.alerts.subscriptions.visible_rules(f"discord:{CHANNEL}")
    assert not [r for r in rules if r.owner]


async def test_rule_ids_autocomplete_for_rm_chart_and_subscriptions(
        app: App, bot: DiscordStandin) -> None:
    await alert(bot, "add", {"metric": "eth.price", "condition": "below", "value": "2k"})
    assert values(await suggested(bot, "alert", {"rule": ""}, "rule", sub="rm")) == ["c1"]
    defaults = [r.id for r in app.hub.alerts.subscriptions.defaults]
    charted = values(await suggested(bot, "alert", {"rule": ""}, "rule", sub="chart"))
    assert charted == [*defaults, "c1"]
    btc = [d for d in defaults if d.startswith("btc")]
    assert values(await suggested(bot, "subscribe", {"rule": "btc"}, "rule")) == btc
    assert values(await suggested(bot, "subscribe", {"rule": ""}, "rule"))[0] == "all"
    # /unsubscribe offers what this chat gets: the rule it added, and all
    assert values(await suggested(bot, "unsubscribe", {"rule": ""}, "rule")) == ["all", "c1"]


async def test_claim_numbers_autocomplete(app: App, bot: DiscordStandin) -> None:
    claims = app.hub.thesis.claims()
    choices = await suggested(bot, "thesis", {"claim": ""}, "claim")
    assert values(choices) == [str(c.n) for c in claims][:25]
    assert choices[0]["name"].startswith(f"{claims[0].n}. {claims[0].title[:20]}")


@pytest.mark.parametrize(("typed", "first"), [("Europe/Ber", "Europe/Berlin"),
                                              ("berlin", "Europe/Berlin"),
                                              ("new_y", "America/New_York"),
                                              ("utc", "UTC")])
async def test_time_zones_autocomplete_by_prefix(bot: DiscordStandin, typed: str,
                                                 first: str) -> None:
    choices = await suggested(bot, "digest", {"action": "on", "tz": typed}, "tz")
    assert values(choices)[0] == first


async def test_many_time_zones_are_capped_at_25(bot: DiscordStandin) -> None:
    choices = await suggested(bot, "digest", {"tz": "America/"}, "tz")
    assert len(choices) == 25
    assert all(v.startswith("America/") for v in values(choices))


async def test_mute_suggests_spans(bot: DiscordStandin) -> None:
    assert values(await suggested(bot, "mute", {"duration": "1"}, "duration")) == ["1h", "1d"]


async def test_help_alert_names_the_discord_and_the_telegram_forms(bot: DiscordStandin) -> None:
    log = await answered(bot, await bot.invoke("help", {"command": "alert"}, channel_id=CHANNEL))
    shown = " ".join(text_of(log.visible).split())
    assert "In Discord, /alert add metric: condition: value: asks for each" in shown
    assert "/alert rule text: takes a rule written out" in shown
    assert "In Telegram, /alert add alone walks through metric, condition and value" in shown
