"""/aitokens and /capex: the AI-token sector against hyperscaler spending."""

from __future__ import annotations

from handlers.args import WINDOW, no_args, window_arg
from handlers.format import pct, price, stale_notes, stamp_reply, usd
from handlers.registry import CommandContext, CommandGroup
from handlers.reply import Reply, Table
from services.metrics.aitokens import AiTokensReading
from services.metrics.capex import CapexReading
from services.windows import YTD

commands = CommandGroup()


@commands.command(WINDOW)
async def aitokens(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """AI tokens: return, drawdown from peak, equal-weight index, sector market cap."""
    window = window_arg(args, YTD)
    got = await ctx.hub.readings.get("aitokens", AiTokensReading, window)
    r = got.reading
    rows = tuple(
        (t.key, price(t.price.value if t.price else None), pct(t.return_pct), pct(t.drawdown_pct))
        for t in r.tokens
    )
    index_rows = (
        ("Index level", "n/a" if r.index_level is None else f"{r.index_level:.1f}"),
        (f"Index {r.window}", pct(r.index_return_pct)),
        ("Index from peak", pct(r.index_drawdown_pct)),
        ("Sector market cap", usd(r.sector_cap.value) if r.sector_cap else "no source"),
    )
    notes = [f"Equal-weight index of daily returns, 100 on {r.index_start}; "
             f"{r.quoted} of {len(r.tokens)} tokens quoted at the as-of date. "
             f"Drawdown is from the peak close on record."]
    if r.sector_cap is None:
        notes.append("No source provides the AI-sector market cap at this date; none is shown.")
    else:
        notes.append(f"Sector cap: CoinGecko 'artificial-intelligence' category, "
                     f"as of {r.sector_cap.day}.")
    notes += stale_notes([(t.key, t.price.day if t.price else None,
                           bool(t.price and t.price.stale)) for t in r.tokens])
    return stamp_reply(
        f"AI tokens {r.window_text}",
        [Table(("token", "price", "return", "from peak"), rows), Table(("", ""), index_rows)],
        notes, got.snapshot, r.sources, ctx.hub.mode,
    )


@commands.command()
async def capex(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Hyperscaler capex: latest quarter and trailing four quarters per company."""
    no_args(args)
    got = await ctx.hub.readings.get("capex", CapexReading)
    r = got.reading
    rows = tuple((c.ticker, c.quarter_end or "n/a", usd(c.quarter_usd), usd(c.ttm_usd))
                 for c in r.companies)
    notes = ["Cash purchases of property and equipment (SEC XBRL), finance leases excluded; "
             "a quarter counts once filed."]
    if r.common_quarter_end:
        line = f"Together in the quarter to {r.common_quarter_end}: {usd(r.common_quarter_usd)}"
        if r.sector_cap and r.capex_to_sector_cap:
            line += (f", {r.capex_to_sector_cap:.1f}x the AI-token sector market cap "
                     f"({usd(r.sector_cap.value)} on {r.sector_cap.day})")
        notes.append(line + ".")
    if r.sector_cap is None:
        notes.append("No source provides the AI-token sector market cap at this date.")
    return stamp_reply("Hyperscaler capex",
                       [Table(("company", "quarter end", "quarter", "last 4 quarters"), rows)],
                       notes, got.snapshot, r.sources, ctx.hub.mode)
