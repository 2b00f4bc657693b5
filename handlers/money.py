"""/stablecoins and /yields: where the parked dollars sit and what they earn."""

from __future__ import annotations

from handlers.args import no_args
from handlers.format import bp, pct, rate, stale_notes, stamp_reply, usd
from handlers.registry import CommandContext, CommandGroup
from handlers.reply import Reply, Table
from services.metrics.stablecoins import StablecoinReading, SupplyReading
from services.metrics.yields import YieldsReading

commands = CommandGroup()
LABELS = {"stablecoins.total": "Total", "stablecoins.usdt": "USDT", "stablecoins.usdc": "USDC"}


def _supply_row(s: SupplyReading) -> tuple[str, ...]:
    changes = {c.days: c for c in s.changes}
    cells = [LABELS[s.key], usd(s.latest.value if s.latest else None)]
    for days in (7, 30, 90):
        c = changes.get(days)
        cells.append(f"{usd(c.abs_usd, signed=True)} ({pct(c.pct)})" if c else "n/a")
    return tuple(cells)


@commands.command()
async def stablecoins(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Stablecoin supply.

    Stablecoin supply: total, USDT, USDC, 7/30/90-day change and all-time high.
    """
    no_args(args)
    got = await ctx.hub.readings.get("stablecoins", StablecoinReading)
    r = got.reading
    supplies = (r.total, r.usdt, r.usdc)
    table = Table(("", "supply", "7d", "30d", "90d"), tuple(_supply_row(s) for s in supplies))
    t = r.total
    if t.at_ath:
        ath_line = "Total supply is at a new all-time high."
    else:
        ath_line = (f"Total supply is {pct(t.from_ath_pct)} from its high of {usd(t.ath_usd)} "
                    f"on {t.ath_date}.")
    notes = [ath_line, f"Net issuance on the last day: {usd(t.net_issuance_usd, signed=True)}."]
    if r.tbills is not None:
        share = "n/a" if r.tbill_share_pct is None else f"{r.tbill_share_pct:.1f}%"
        notes.append(f"Tokenized T-bills (BUIDL, USDY, ...): {usd(r.tbills.value)}, "
                     f"{share} of stablecoin supply (as of {r.tbills.day}).")
    else:
        notes.append("No source for tokenized T-bill supply at this date.")
    notes += stale_notes([(LABELS[s.key], s.latest.day if s.latest else None,
                           bool(s.latest and s.latest.stale)) for s in supplies])
    return stamp_reply("Stablecoin supply", [table], notes, got.snapshot, r.sources, ctx.hub.mode)


@commands.command()
async def yields(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """DeFi yield vs T-bill.

    3-month T-bill vs DeFi USDC lending APY, and the spread in basis points.
    """
    no_args(args)
    got = await ctx.hub.readings.get("yields", YieldsReading)
    r = got.reading
    tb, defi = r.tbill_pct, r.defi_usdc_pct
    rows = (
        ("3-month T-bill (discount)", rate(tb.value if tb else None), tb.day if tb else "n/a"),
        ("T-bill as APY", rate(r.tbill_apy_pct), tb.day if tb else "n/a"),
        ("Aave USDC supply APY", rate(defi.value if defi else None), defi.day if defi else "n/a"),
        ("DeFi minus T-bill APY", bp(r.spread_bp), ""),
    )
    notes = ["T-bill: FRED DTB3, a discount rate; converted to an APY (91-day holding return "
             "compounded over 365 days) before it is compared with DeFi. DeFi: Aave v3 USDC "
             "supply APY on Ethereum."]
    if defi is None:
        notes.append("No DeFi lending yield source is available at this date.")
    notes += stale_notes([("T-bill", tb.day if tb else None, bool(tb and tb.stale)),
                          ("Aave", defi.day if defi else None, bool(defi and defi.stale))])
    return stamp_reply("Yields", [Table(("", "rate", "date"), rows)], notes, got.snapshot,
                       r.sources, ctx.hub.mode)
