"""Alert metric ids -> the chart attached to their alerts (services/alerts/chart_for.py)."""

from __future__ import annotations

import pytest

from services.alerts.chart_for import alert_chart, chart_for_metric, chart_for_metrics
from services.alerts.rules import parse_rule
from services.baskets import Baskets
from services.catalog import ASSETS
from services.charts.catalog import CHARTS
from services.engine import build_catalog
from services.settings import Settings
from services.thesis.config import ThesisConfig

NAMED = {
    "btc.ytd": "btc",
    "spx.ytd": "divergence",
    "divergence.spread.ytd": "divergence",
    "divergence.spread.since": "divergence",
    "ai_basket.ytd": "divergence",
    "crypto_basket.ytd": "divergence",
    "stablecoins.supply": "stablecoins",
    "stablecoins.change_30d": "stablecoins",
    "yields.tbill_3m": "yields",
    "yields.spread": "yields",
    "aitokens.index": "aitokens",
    "aitokens.drawdown": "aitokens",
}
BY_ASSET = {"BTC": "btc", "ETH": "divergence", "SPX": "divergence", "NVDA": "divergence",
            "AMD": "divergence", "MU": "divergence", "DELL": "divergence", "SMH": "divergence",
            "SOXX": "divergence", "000660.KS": "divergence", "TAO": "aitokens",
            "NEAR": "aitokens", "ICP": "aitokens", "RENDER": "aitokens", "FET": "aitokens",
            "WLD": "aitokens", "VIRTUAL": "aitokens", "VVV": "aitokens"}
METRICS = build_catalog(Baskets(), ThesisConfig())
EXPECTED = NAMED | {f"{key.lower()}.{series}": chart for key, chart in BY_ASSET.items()
                    for series in ("price", "drawdown")}


def test_every_known_metric_id_is_covered_here() -> None:
    assert set(BY_ASSET) == set(ASSETS)
    assert set(EXPECTED) <= set(METRICS)


@pytest.mark.parametrize("metric_id", sorted(EXPECTED))
def test_metric_maps_to_its_chart_family(metric_id: str) -> None:
    assert chart_for_metric(metric_id) == EXPECTED[metric_id]


@pytest.mark.parametrize("metric_id", sorted(METRICS))
def test_every_metric_id_maps_to_a_chart_or_none(metric_id: str) -> None:
    """Metric ids added later (thesis.<n>, ...) map to a real chart or to no chart."""
    assert chart_for_metric(metric_id) in {"", *CHARTS}


@pytest.mark.parametrize("metric_id", ["thesis.1", "thesis.12", "banana", "", ".", "nvda.ytd",
                                       "nosuch.price", "000660.price"])
def test_unknown_ids_have_no_chart(metric_id: str) -> None:
    assert chart_for_metric(metric_id) == ""


@pytest.mark.parametrize(("rule", "chart"), [
    ("spread(ai_basket.ytd, crypto_basket.ytd) crosses_above 100", "divergence"),
    ("spread(btc.ytd, spx.ytd) above 10", "divergence"),  # across families: the comparison
    ("spread(tao.drawdown, near.drawdown) below -5", "aitokens"),
    ("btc.drawdown crosses_below -30", "btc"),
    ("eth.price below 1000", "divergence"),
    ("yields.spread crosses_below 0 for=7d", "yields"),
])
def test_a_rule_gets_one_chart_for_its_metrics(rule: str, chart: str) -> None:
    assert chart_for_metrics(parse_rule(rule).metrics) == chart


def test_a_rule_over_unknown_metrics_gets_none_and_known_ones_win() -> None:
    assert chart_for_metrics(["thesis.1"]) == ""
    assert chart_for_metrics(["thesis.1", "stablecoins.supply"]) == "stablecoins"
    assert chart_for_metrics([]) == ""


@pytest.mark.parametrize(("destination", "chart"), [
    ("telegram:-100123", "btc"), ("discord:987", "btc"), ("console:console", ""),
    ("webhook:1", ""), ("bogus", ""),
])
def test_only_platforms_that_show_images_get_a_chart(destination: str, chart: str) -> None:
    assert alert_chart(("btc.drawdown",), destination) == chart


def test_each_default_rule_has_its_thesis_chart(settings: Settings) -> None:
    charts = {d.id: chart_for_metrics(d.parsed().metrics) for d in settings.alerts.defaults}
    assert {k: v for k, v in charts.items() if k in {
        "divergence", "btc-drawdown", "stablecoins-ath", "defi-vs-tbill", "aitokens-drawdown"}
    } == {"divergence": "divergence", "btc-drawdown": "btc", "stablecoins-ath": "stablecoins",
          "defi-vs-tbill": "yields", "aitokens-drawdown": "aitokens"}
