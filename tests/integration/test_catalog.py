"""The one metric catalog: built from the baskets and claims, causal, and a reading at an as-of
date is the metric's series read at that date."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from bot.app import App
from services.baskets import Baskets
from services.engine import build_catalog
from services.metrics.catalog import MetricCatalog
from services.metrics.divergence import DivergenceReading
from services.thesis.config import ThesisConfig
from services.windows import SINCE_2024


def value_at(values: pd.Series, asof: date) -> float | None:
    cut = values.loc[: pd.Timestamp(asof)]
    return None if cut.empty else float(cut.iloc[-1])


def catalog_of(app: App) -> MetricCatalog:
    assert app.hub.alerts is not None
    return app.hub.alerts.catalog


def test_the_catalog_reads_the_configured_baskets() -> None:
    small = build_catalog(Baskets(ai=["NVDA"], crypto=["BTC"]), ThesisConfig())
    assert small["divergence.spread.ytd"].inputs == ("NVDA", "BTC")
    assert build_catalog(Baskets(), ThesisConfig())["ai_basket.ytd"].inputs == tuple(
        Baskets().ai)


@pytest.mark.parametrize("metric_id", ["divergence.spread.ytd", "stablecoins.change_30d",
                                       "aitokens.drawdown", "yields.spread", "btc.ytd",
                                       "thesis.1"])
async def test_series_are_causal(replay_app: App, metric_id: str) -> None:
    """A value at an earlier date is the same whether or not later data exists."""
    catalog = catalog_of(replay_app)
    data = await replay_app.store.load_history(catalog.inputs([metric_id]))
    full = catalog.series(metric_id, data)
    for cut_day in (date(2024, 3, 15), date(2025, 1, 2), date(2025, 7, 31)):
        cut = {k: type(ts)(ts.key, ts.values.loc[: pd.Timestamp(cut_day)], ts.source)
               for k, ts in data.items()}
        early = catalog.series(metric_id, cut, cut_day)
        assert value_at(early, cut_day) == pytest.approx(value_at(full, cut_day), abs=1e-9)


async def test_a_series_has_a_value_on_every_calendar_day(replay_app: App) -> None:
    """Weekends and holidays read like any other day (Good Friday 2024 to Easter Monday)."""
    catalog = catalog_of(replay_app)
    data = await replay_app.store.load_history(catalog.inputs(["divergence.spread.since"]))
    spread = catalog.series("divergence.spread.since", data)
    days = pd.date_range("2024-03-29", "2024-04-01", freq="D")
    assert all(day in spread.index for day in days)


async def test_the_divergence_reading_is_the_series_at_its_asof(replay_app: App) -> None:
    catalog = catalog_of(replay_app)
    asof = replay_app.hub.asof
    assert asof is not None
    since = (await replay_app.hub.readings.get("divergence", DivergenceReading,
                                               SINCE_2024)).reading
    data = await replay_app.store.load_history(catalog.inputs(["divergence.spread.since"]))
    series = catalog.series("divergence.spread.since", data, asof)
    assert since.spread_pp == pytest.approx(value_at(series, asof), abs=1e-9)
