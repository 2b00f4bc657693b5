"""Every command of flowwatch, in the order /help lists them."""

from __future__ import annotations

from handlers import alerts, charts, general, market, money, sector
from handlers.registry import Registry


def build_registry() -> Registry:
    return Registry([
        *general.commands.specs,
        *market.commands.specs,
        *money.commands.specs,
        *sector.commands.specs,
        *charts.commands.specs,
        *alerts.commands.specs,
    ])
