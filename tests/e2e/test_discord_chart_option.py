"""The `chart` option of Discord metric slash commands: the real discord.py client against the
local Discord stand-in; with chart=True the reply's embed shows the chart PNG it attaches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import App
from services.charts.catalog import CHARTS
from services.windows import parse_window
from tests.e2e.chart_png import assert_chart_png

from .discord_standin import DiscordStandin
from .test_discord import answered, connected, replay_app

pytestmark = pytest.mark.timeout(60)
FOLLOWUP = "/webhooks/{app_id}/{token}"


@pytest.fixture
async def app() -> AsyncIterator[App]:
    async with replay_app() as built:
        yield built


@pytest.fixture
async def bot(app: App) -> AsyncIterator[DiscordStandin]:
    async with connected(app) as server:
        yield server


def followups_of(standin: DiscordStandin, token: str) -> list[Any]:
    return [c for c in standin.rest_calls("POST", FOLLOWUP) if c.path.endswith(f"/{token}")]


async def test_charted_metric_commands_sync_an_optional_boolean_chart_option(
        app: App, bot: DiscordStandin) -> None:
    synced = {c["name"]: c.get("options", []) for c in bot.commands["global"]}
    charted = {name for name, options in synced.items()
               if {"name": "chart", "type": 5} in [{k: o[k] for k in ("name", "type")}
                                                   for o in options]}
    assert charted == set(CHARTS)
    for name in CHARTS:
        [chart] = [o for o in synced[name] if o["name"] == "chart"]
        assert not chart.get("required", False)
        assert synced[name][-1] is chart  # optional options after every other option


async def test_chart_true_attaches_the_png_inside_the_metric_embed(
        app: App, bot: DiscordStandin) -> None:
    token = await bot.invoke("divergence", {"window": "90d", "chart": True})
    log = await answered(bot, token)
    [message] = log.visible
    [embed, *_] = message["embeds"]
    assert embed["title"] == "Divergence last 90d"  # the metric's own embed, numbers and all
    assert "Spread" in "".join(e.get("description", "") for e in message["embeds"])
    assert embed["image"]["url"] == "attachment://chart.png"
    assert [a["filename"] for a in message["attachments"]] == ["chart.png"]
    [followup] = followups_of(bot, token)
    assert followup.files == {"files[0]": "chart.png"}
    png = followup.file_bytes["files[0]"]
    assert_chart_png(png)
    # The chart /chart divergence 90d draws at the app's as-of date (cached under that key).
    assert app.hub.charts is not None and app.hub.asof is not None
    assert png == await app.hub.charts.chart("divergence", parse_window("90d"), app.hub.asof)


@pytest.mark.parametrize("options", [{}, {"chart": False}])
async def test_without_chart_there_is_no_attachment(
        bot: DiscordStandin, options: dict[str, bool]) -> None:
    token = await bot.invoke("btc", options)
    [message] = (await answered(bot, token)).visible
    assert message["embeds"][0]["title"] == "Bitcoin"
    assert message["attachments"] == []
    assert all("image" not in e for e in message["embeds"])
    assert [c.files for c in followups_of(bot, token)] == [{}]


async def test_a_bad_window_with_chart_is_one_private_line_and_no_chart(
        bot: DiscordStandin) -> None:
    token = await bot.invoke("divergence", {"window": "banana", "chart": True})
    [message] = (await answered(bot, token)).visible
    assert "'banana'" in message["content"] and "\n" not in message["content"]
    assert message["attachments"] == []
