"""/chart: the metric families as phone-sized PNG charts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from handlers.args import WINDOW, window_arg
from handlers.errors import UserError
from handlers.format import stamp_reply
from handlers.registry import CommandContext, CommandGroup, Param
from handlers.reply import Reply
from services.charts.catalog import CHARTS
from services.families import FAMILY_BY_NAME
from services.readings import Stamped

commands = CommandGroup()
TITLES = {"divergence": "Divergence", "btc": "BTC", "stablecoins": "Stablecoins",
          "yields": "Yields", "aitokens": "AI tokens", "capex": "Capex"}
CHART = Param("chart", "which chart to draw", choices=tuple(CHARTS), required=True)
CAPTIONS = {
    "divergence": "Cumulative return of the equal-weight AI and crypto baskets and the S&P 500; "
                  "shaded: the spread.",
    "btc": "Bitcoin daily close, with its drawdown from the all-time high underneath.",
    "stablecoins": "Total stablecoin supply with its all-time highs, and the USDT/USDC split.",
    "yields": "DeFi USDC lending APY (Aave v3) against the 3-month T-bill.",
    "aitokens": "Equal-weight AI-token index, and each token's drawdown from its peak.",
    "capex": "Hyperscaler capex per quarter, with the AI-token sector market cap where known.",
}


@commands.command(CHART, WINDOW)
async def chart(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Draw a chart.

    Draw a chart: divergence, btc, stablecoins, yields, aitokens or capex.
    """
    if not args or args[0].lower() not in CHARTS:
        shown = f"unknown chart '{args[0][:30]}'" if args else "name a chart"
        raise UserError(f"{shown}; try {', '.join(CHARTS)}")
    spec = CHARTS[args[0].lower()]
    window = window_arg(args[1:], spec.default_window)
    family = FAMILY_BY_NAME[spec.family]
    family_window = window if family.windowed else None
    got: Stamped[Any] = await ctx.hub.readings.get(family.name, family.reading_type,
                                                   family_window)
    asof = date.fromisoformat(got.snapshot.asof)
    if window.start is not None and window.start > asof:
        raise UserError(f"window start {window.start} is after the as-of date {asof}")
    drawn = await ctx.hub.charts.drawn(spec.name, window, asof)
    span = f", data from {drawn.data_from}" if drawn.data_from else " " + window.describe(asof)
    reply = stamp_reply(TITLES[spec.name] + span, [], [drawn.headline, CAPTIONS[spec.name]],
                        got.snapshot, got.reading.sources, ctx.hub.mode)
    return replace(reply, chart_png=drawn.png)
