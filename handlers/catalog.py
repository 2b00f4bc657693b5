"""Every command of flowwatch, in the order /help lists them."""

from __future__ import annotations

from handlers import general, market, money, sector
from handlers.registry import Registry


def build_registry() -> Registry:
    return Registry([
        *general.commands.specs,
        *market.commands.specs,
        *money.commands.specs,
        *sector.commands.specs,
    ])
