"""The Discord front-end end to end: the real discord.py client against a local stand-in."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from bot.app import App, build_app
from bot.discord_app import build_client, run_discord, send_to_channel
from bot.discord_app.commands import CHART_HELP, has_autocomplete
from bot.discord_app.render import clip
from bot.text import render_table
from handlers.catalog import build_registry
from handlers.format import pct, pp, price, rate, usd
from handlers.registry import CommandContext, CommandSpec, Registry
from handlers.reply import Reply, Table
from services.charts.catalog import CHARTS
from services.metrics.aitokens import AiTokensReading
from services.metrics.btc import BtcReading
from services.metrics.capex import CapexReading
from services.metrics.divergence import DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.metrics.yields import YieldsReading
from services.settings import DiscordSettings, Secrets, load_settings
from services.windows import SINCE_2024, YTD

from .discord_standin import APP_ID, EPHEMERAL, DiscordStandin, InteractionLog, message_problems

TOKEN = "TEST.TOKEN.X"
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def running_standin() -> AsyncIterator[DiscordStandin]:
    server = DiscordStandin(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    async with running_standin() as server:
        yield server


@asynccontextmanager
async def replay_app(**discord: Any) -> AsyncIterator[App]:
    settings = load_settings(ROOT / "config.yaml")
    if discord:
        settings = settings.model_copy(update={"discord": DiscordSettings(**discord)})
    app = await build_app(settings, Secrets(), redis=fakeredis.FakeAsyncRedis(
        decode_responses=True))
    try:
        await app.refresh()
        yield app
    finally:
        await app.aclose()


@asynccontextmanager
async def running(app: App, standin: DiscordStandin) -> AsyncIterator[asyncio.Task[None]]:
    """run_discord against the stand-in until the gateway session is identified."""
    stop = asyncio.Event()
    secrets = Secrets(discord_bot_token=TOKEN, discord_api_base_url=standin.api_url)
    task = asyncio.create_task(run_discord(app, secrets, stop))
    try:
        await standin.wait_for(lambda: standin.identifies or task.done())
        if task.done():
            task.result()  # failed to start: raise its error
        yield task
    finally:
        stop.set()
        await asyncio.wait([task], timeout=10)
    assert task.done(), "run_discord did not stop within 10 s"
    task.result()


@asynccontextmanager
async def connected(app: App) -> AsyncIterator[DiscordStandin]:
    """The stand-in with the app's Discord front-end (the real discord.py client) on it."""
    async with running_standin() as server, running(app, server):
        yield server


@pytest.fixture
async def app() -> AsyncIterator[App]:
    async with replay_app() as built:
        yield built


@pytest.fixture
async def bot(app: App, standin: DiscordStandin) -> AsyncIterator[DiscordStandin]:
    async with running(app, standin):
        yield standin


async def answered(standin: DiscordStandin, token: str) -> InteractionLog:
    log = standin.interactions[token]
    await standin.wait_for(lambda: log.visible)
    return log


def text_of(messages: list[dict[str, Any]]) -> str:
    parts = []
    for m in messages:
        parts.append(m["content"])
        for e in m["embeds"]:
            parts += [e.get("title", ""), e.get("description", ""),
                      e.get("footer", {}).get("text", "")]
            parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
    return "\n".join(parts)


# -- command tree sync ----------------------------------------------------------------------


def expected_commands(app: App) -> list[dict[str, Any]]:
    """What Discord must hold: descriptions within 100 characters, required options first;
    a metric command with a chart of its name ends with the optional boolean `chart`.
    /alert is a group of subcommands (its options: tests/e2e/test_discord_alert_options.py)."""
    chart_option = {"name": "chart", "description": CHART_HELP, "type": 5, "required": False,
                    "autocomplete": False}
    return [{"name": s.name, "description": clip(s.help, 100),
             "options": [*({"name": p.name, "description": clip(p.help, 100), "type": 3,
                            "required": p.required, "autocomplete": has_autocomplete(s, p)}
                           for p in sorted(s.params, key=lambda p: not p.required)),
                         *([chart_option] if s.name in CHARTS else [])]}
            for s in app.registry if s.name != "alert"]


def synced_view(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": c["name"], "description": c["description"],
             "options": [{k: o.get(k, False) for k in
                          ("name", "description", "type", "required", "autocomplete")}
                         for o in c.get("options", [])]}
            for c in commands if c["name"] != "alert"]


async def test_global_sync_matches_registry_and_token_is_never_logged(
        app: App, standin: DiscordStandin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(app, standin):
        pass
    assert list(standin.commands) == ["global"]
    assert synced_view(standin.commands["global"]) == expected_commands(app)
    assert standin.identifies[0]["token"] == TOKEN
    assert standin.rest_calls("PUT", "/applications/{app_id}/commands")[0].path.endswith(
        f"/applications/{APP_ID}/commands")
    assert TOKEN not in caplog.text


async def test_guild_sync_when_guild_ids_are_set(standin: DiscordStandin) -> None:
    async with replay_app(guild_ids=[111, 222]) as app, running(app, standin):
        assert sorted(standin.commands) == ["111", "222"]
        for guild in ("111", "222"):
            assert synced_view(standin.commands[guild]) == expected_commands(app)
        token = await standin.invoke("capex", guild_id="111")
        log = await answered(standin, token)
        assert log.visible[0]["embeds"][0]["title"] == "Hyperscaler capex"


# -- commands through the gateway ------------------------------------------------------------


@pytest.mark.parametrize(("window", "label"), [(None, SINCE_2024), ("ytd", YTD)])
async def test_divergence_numbers_come_from_the_service_layer(
        app: App, bot: DiscordStandin, window: str | None, label: Any) -> None:
    token = await bot.invoke("divergence", {"window": window} if window else {})
    log = await answered(bot, token)
    reading = (await app.hub.readings.get("divergence", DivergenceReading, label)).reading
    assert log.callbacks[0]["type"] == 5  # deferred first: commands may take over 3 s
    [message] = log.visible
    assert not message["flags"] & EPHEMERAL
    text = text_of(log.visible)
    nvda = next(a for a in reading.ai if a.key == "NVDA")
    assert re.search(rf"Spread\s+{re.escape(pp(reading.spread_pp))}", text)
    assert re.search(rf"NVDA\s+{re.escape(pct(nvda.pct))}", text)
    assert re.search(rf"AI basket\s+{re.escape(pct(reading.ai_basket_pct))}", text)
    assert message["embeds"][0]["title"] == f"Divergence {reading.window_text}"
    assert "as of" in message["embeds"][-1]["footer"]["text"]


async def _btc(app: App) -> str:
    r = (await app.hub.readings.get("btc", BtcReading)).reading
    return price(r.btc.price.value if r.btc.price else None)


async def _stablecoins(app: App) -> str:
    r = (await app.hub.readings.get("stablecoins", StablecoinReading)).reading
    return usd(r.total.latest.value if r.total.latest else None)


async def _yields(app: App) -> str:
    r = (await app.hub.readings.get("yields", YieldsReading)).reading
    return rate(r.tbill_pct.value if r.tbill_pct else None)


async def _aitokens(app: App) -> str:
    return pct((await app.hub.readings.get("aitokens", AiTokensReading, YTD)).reading
               .index_drawdown_pct)


async def _capex(app: App) -> str:
    r = (await app.hub.readings.get("capex", CapexReading)).reading
    return usd(next(c for c in r.companies if c.ticker == "AMZN").quarter_usd)


async def _brief(app: App) -> str:
    return pp((await app.hub.readings.get("divergence", DivergenceReading, SINCE_2024))
              .reading.spread_pp)


async def _fixed(text: str) -> str:
    return text


COMMANDS: dict[str, tuple[dict[str, str], str, Callable[[App], Awaitable[str]]]] = {
    "btc": ({}, "Bitcoin", _btc),
    "stablecoins": ({}, "Stablecoin supply", _stablecoins),
    "yields": ({}, "Yields", _yields),
    "aitokens": ({"window": "ytd"}, "AI tokens", _aitokens),
    "capex": ({}, "Hyperscaler capex", _capex),
    "brief": ({}, "flowwatch brief", _brief),
    "status": ({}, "flowwatch status", lambda _: _fixed("Mode: replay")),
    "help": ({}, "flowwatch commands", lambda _: _fixed("/divergence — AI stocks vs crypto")),
    "start": ({}, "Welcome to flowwatch", lambda _: _fixed("Try /brief")),
}


OTHERS = sorted({s.name for s in build_registry()} - {*COMMANDS, "divergence"})
REQUIRED_VALUES = {"duration": "1h"}  # Discord never sends a command without its required options


@pytest.mark.parametrize("name", OTHERS)
async def test_every_other_registry_command_is_answered_within_limits(
        app: App, bot: DiscordStandin, name: str) -> None:
    spec = app.registry.get(name)
    assert spec is not None
    options = {p.name: p.choices[0] if p.choices else REQUIRED_VALUES[p.name]
               for p in spec.params if p.required}
    sub = None
    if name == "alert":  # a group: its subcommands carry the options
        options, sub = {}, "metrics"
    log = await answered(bot, await bot.invoke(name, options, subcommand=sub))
    assert [c["type"] for c in log.callbacks] == [5]
    for message in log.visible:
        assert message_problems(message) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_each_command_answers_with_computed_values(
        app: App, bot: DiscordStandin, name: str) -> None:
    options, title, value = COMMANDS[name]
    log = await answered(bot, await bot.invoke(name, options, guild_id=None))  # a DM this time
    assert log.visible[0]["embeds"][0]["title"].startswith(title)
    assert await value(app) in text_of(log.visible)


async def test_bad_window_gets_a_private_one_line_usage(bot: DiscordStandin) -> None:
    log = await answered(bot, await bot.invoke("divergence", {"window": "banana"}))
    [message] = log.visible
    assert message["flags"] & EPHEMERAL
    assert "'banana'" in message["content"]
    assert "(usage: /divergence [window])" in message["content"]
    assert "\n" not in message["content"]
    assert log.original_deleted  # the public "thinking" message is gone


async def test_window_autocomplete_offers_the_registry_choices(bot: DiscordStandin) -> None:
    token = await bot.invoke("divergence", {"window": "3"}, kind=4, focused="window")
    log = bot.interactions[token]
    await bot.wait_for(lambda: log.callbacks)
    assert log.callbacks[0] == {"type": 8, "data": {"choices": [{"name": "30d",
                                                                 "value": "30d"}]}}


async def test_error_hook_apologises_privately(bot: DiscordStandin) -> None:
    log = await answered(bot, await bot.invoke("nosuchcommand"))
    assert log.callbacks[0]["type"] == 4
    assert log.callbacks[0]["data"]["flags"] == EPHEMERAL
    assert log.callbacks[0]["data"]["content"].startswith("Sorry, something went wrong")


async def test_sharded_client_identifies_every_shard(standin: DiscordStandin) -> None:
    async with replay_app(shards=2) as app, running(app, standin):
        # discord.py waits 5 s between shard IDENTIFYs (the gateway's concurrency limit).
        await standin.wait_for(lambda: len(standin.identifies) == 2, within=20)
        assert [i["shard"] for i in standin.identifies] == [[0, 2], [1, 2]]
        on_shard_1 = str(1 << 22)  # the gateway routes a guild to (guild_id >> 22) % shards
        log = await answered(standin, await standin.invoke("capex", guild_id=on_shard_1))
        assert log.visible[0]["embeds"][0]["title"] == "Hyperscaler capex"


async def test_a_process_runs_only_its_shard_ids(standin: DiscordStandin) -> None:
    """discord.shard_ids: shards 0-3 split over processes; this one runs shard 1 alone."""
    async with replay_app(shards=4, shard_ids=[1]) as app, running(app, standin):
        await standin.wait_for(lambda: standin.identifies, within=20)
        assert [i["shard"] for i in standin.identifies] == [[1, 4]]


@pytest.mark.parametrize(("discord", "says"), [
    ({"shard_ids": [0]}, "needs discord.shards"),
    ({"shards": 2, "shard_ids": [2]}, "distinct numbers 0..1"),
    ({"shards": 2, "shard_ids": [0, 0]}, "distinct numbers 0..1"),
])
def test_bad_shard_ids_are_a_config_error(discord: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        DiscordSettings.model_validate(discord)


async def test_bad_token_fails_fast_and_closes(app: App, standin: DiscordStandin) -> None:
    secrets = Secrets(discord_bot_token="WRONG", discord_api_base_url=standin.api_url)
    # discord.LoginFailure; the test leaves importing discord to the adapter (see its __init__)
    with pytest.raises(Exception, match="Improper token"):
        await asyncio.wait_for(run_discord(app, secrets), timeout=10)
    assert standin.identifies == []


def with_commands(app: App, *specs: CommandSpec) -> App:
    """The app with extra registry entries (synthetic commands for the adapter's edge cases)."""
    return dataclasses.replace(app, registry=Registry([*app.registry, *specs]))


async def test_settings_commands_need_manage_server_in_guilds(
        app: App, standin: DiscordStandin) -> None:
    async def mute(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
        return Reply(title=f"muted for chat {ctx.chat.chat_id} by {ctx.chat.user_id}")

    spec = CommandSpec("test_settings", "Change a setting.", mute, changes_settings=True)
    async with running(with_commands(app, spec), standin):
        denied = await answered(standin, await standin.invoke("test_settings", permissions=0))
        allowed = await answered(standin, await standin.invoke("test_settings", channel_id="701",
                                                                user_id="801"))
    assert denied.visible[0]["flags"] & EPHEMERAL
    assert denied.visible[0]["content"].startswith("only chat admins can change settings")
    assert allowed.visible[0]["embeds"][0]["title"] == "muted for chat 701 by 801"


async def test_failed_followup_gets_the_private_apology(bot: DiscordStandin) -> None:
    bot.reject("POST", "/webhooks/{app_id}/{token}", times=1)
    log = await answered(bot, await bot.invoke("capex"))
    [apology] = log.visible
    assert apology["flags"] & EPHEMERAL
    assert apology["content"].startswith("Sorry, something went wrong")
    assert log.original_deleted


async def test_chart_is_attached_to_the_first_embed(app: App, standin: DiscordStandin) -> None:
    async def chart(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
        return Reply(title="A chart", chart_png=b"\x89PNG\r\n\x1a\n" + b"0" * 64)

    async with running(with_commands(app, CommandSpec("test_chart", "A chart.", chart)), standin):
        log = await answered(standin, await standin.invoke("test_chart"))
    [message] = log.visible
    assert message["embeds"][0]["image"]["url"] == "attachment://chart.png"
    assert [a["filename"] for a in message["attachments"]] == ["chart.png"]
    [followup] = standin.rest_calls("POST", "/webhooks/{app_id}/{token}")
    assert followup.files == {"files[0]": "chart.png"}


# -- long replies and channel delivery --------------------------------------------------------

ROWS = tuple((f"row-{i:04d}", f"{i * 1.5:+.1f}%", "d" + "x" * (i % 12))  # fits a phone
             for i in range(450))
LONG = Reply(title="Long synthetic report " + "T" * 300,
             tables=(Table(("item", "change", "detail"), ROWS, "Every row"),),
             notes=("A very long note. " * 400,), sources=("Stand-in",), asof="2026-05-29")


def code_lines(messages: list[dict[str, Any]]) -> list[str]:
    descriptions = "\n".join(e.get("description", "") for m in messages for e in m["embeds"])
    blocks = re.findall(r"```\n(.*?)\n```", descriptions, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines()]


def assert_split_validly(messages: list[dict[str, Any]]) -> None:
    assert len(messages) > 1
    for m in messages:
        assert message_problems(m) == []
    lines = render_table(LONG.tables[0])[2:]  # without the heading and the column header
    assert [x for x in code_lines(messages) if x.startswith("row-")] == lines
    assert messages[-1]["embeds"][-1]["footer"]["text"] == LONG.footer
    assert messages[0]["embeds"][0]["title"].endswith(f"(1/{len(messages)})")


async def test_long_reply_is_split_into_valid_followups(
        app: App, standin: DiscordStandin) -> None:
    async def longreport(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
        return LONG

    spec = CommandSpec("test_long", "A long synthetic report.", longreport)
    async with running(with_commands(app, spec), standin):
        log = await answered(standin, await standin.invoke("test_long"))
        pages = re.search(r"\(1/(\d+)\)$", log.visible[0]["embeds"][0]["title"])
        assert pages is not None
        n = int(pages.group(1))
        await standin.wait_for(lambda: len(log.visible) == n)
    assert_split_validly(log.visible)


async def test_channel_message_429_is_retried_and_arrives_once(
        app: App, standin: DiscordStandin) -> None:
    route = "/channels/{channel_id}/messages"
    standin.rate_limit("POST", route, times=1, retry_after=0.3)
    client = build_client(app, standin.api_url).client
    async with client:
        await client.login(TOKEN)
        await send_to_channel(client, 555, Reply(title="BTC crossed $70,000",
                                                 notes=("alert",)))
        await send_to_channel(client, 556, LONG)
    assert [c.status for c in standin.rest_calls("POST", route)][:2] == [429, 200]
    [delivered] = standin.channel_messages["555"]
    assert delivered["embeds"][0]["title"] == "BTC crossed $70,000"
    assert_split_validly(standin.channel_messages["556"])
