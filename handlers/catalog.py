"""Every command of flowwatch, in the order /help lists them."""

from __future__ import annotations

from handlers import alerts, charts, digest, general, market, money, sector, thesis
from handlers.registry import Registry


def build_registry() -> Registry:
    return Registry([
        *general.commands.specs,
        *market.commands.specs,
        *money.commands.specs,
        *sector.commands.specs,
        *thesis.commands.specs,
        *charts.commands.specs,
        *alerts.commands.specs,
        *digest.commands.specs,
    ])
