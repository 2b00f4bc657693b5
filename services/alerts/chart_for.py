"""Which chart goes with an alert: a rule's metric ids mapped to a /chart name.

Pure and import-light (no matplotlib): the evaluator calls it for every event. The names are
keys of services.charts.catalog.CHARTS (a unit test holds them to it); "" means no chart.

ETH has no chart of its own (the btc chart draws Bitcoin only), so eth.* alerts get the
divergence chart, which draws ETH's crypto basket against the AI basket and the S&P 500.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.catalog import ASSETS

# A metric id's first dotted part -> its chart; checked before the per-asset ids.
CHART_BY_PREFIX: dict[str, str] = {
    "btc": "btc",
    "spx": "divergence",
    "divergence": "divergence",
    "ai_basket": "divergence",
    "crypto_basket": "divergence",
    "stablecoins": "stablecoins",
    "yields": "yields",
    "aitokens": "aitokens",
    "capex": "capex",
}
# `<asset>.price|drawdown` by the asset's kind (services.catalog.ASSETS).
CHART_BY_ASSET_KIND: dict[str, str] = {
    "equity": "divergence",  # the AI chip and memory names (SK Hynix included)
    "etf": "divergence",
    "index": "divergence",
    "crypto": "divergence",  # ETH; BTC is caught by its prefix above
    "token": "aitokens",
}
ASSET_SERIES = ("price", "drawdown")
IMAGE_PLATFORMS = frozenset({"telegram", "discord"})
COMPARISON_CHART = "divergence"  # draws baskets, crypto and the S&P 500 side by side


def chart_for_metric(metric_id: str) -> str:
    """The chart name for one alert metric id; "" for ids it does not know (thesis.*)."""
    metric_id = metric_id.strip().lower()
    prefix = metric_id.split(".", 1)[0]
    if prefix in CHART_BY_PREFIX:
        return CHART_BY_PREFIX[prefix]
    key, _, series = metric_id.rpartition(".")  # asset keys may hold dots: 000660.ks.price
    asset = ASSETS.get(key.upper())
    if asset is None or series not in ASSET_SERIES:
        return ""
    return CHART_BY_ASSET_KIND.get(asset.kind, "")


def chart_for_metrics(metric_ids: Iterable[str]) -> str:
    """One chart for a rule: the one its metrics share; for a spread across families the
    comparison chart when one side maps to it, else the first side's chart."""
    charts = [c for c in map(chart_for_metric, metric_ids) if c]
    if not charts:
        return ""
    if len(set(charts)) > 1 and COMPARISON_CHART in charts:
        return COMPARISON_CHART
    return charts[0]


def alert_chart(metric_ids: Iterable[str], destination: str) -> str:
    """The chart to attach for a destination ('telegram:42'); "" where images cannot go."""
    platform = destination.partition(":")[0]
    return chart_for_metrics(metric_ids) if platform in IMAGE_PLATFORMS else ""
