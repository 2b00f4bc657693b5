"""/aitokens and /capex: the AI-token sector against hyperscaler spending."""

from __future__ import annotations

from handlers.args import WINDOW, no_args, window_arg
from handlers.format import pct, price, stale_notes, stamp_reply, usd
from handlers.registry import CommandContext, CommandGroup
from handlers.reply import Reply, Table
from services.metrics.aitokens import AiTokensReading, TokenRow
from services.metrics.capex import CapexReading
from services.metrics.usage import UsageReading
from services.windows import YTD

commands = CommandGroup()


def _token_return(t: TokenRow) -> str:
    if t.return_pct is None and t.price is not None and t.price.stale:
        return f"n/a: ended {t.price.day}"
    return pct(t.return_pct)


@commands.command(WINDOW)
async def aitokens(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """AI-token drawdown.

    AI tokens: return, drawdown from peak, equal-weight index, sector market cap.
    """
    window = window_arg(args, YTD)
    got = await ctx.hub.readings.get("aitokens", AiTokensReading, window)
    r = got.reading
    rows = tuple(
        (t.key, price(t.price.value if t.price else None), _token_return(t),
         pct(t.drawdown_pct)) for t in r.tokens
    )
    n = len(r.tokens)
    withheld = "withheld" if r.index_withheld else "n/a"
    index_rows = (
        ("Median token from peak", pct(r.median_drawdown_pct)),
        ("More than 50% below peak", "n/a" if r.below_half is None
         else f"{r.below_half} of {n} tokens"),
        ("Index level", withheld if r.index_level is None else f"{r.index_level:.1f}"),
        (f"Index {r.window}", withheld if r.index_withheld else pct(r.index_return_pct)),
        ("Index from peak", withheld if r.index_withheld else pct(r.index_drawdown_pct)),
        ("Sector market cap", usd(r.sector_cap.value) if r.sector_cap else "no source"),
    )
    notes = [f"Coverage: {r.quoted} of {n} tokens quoted (a close on {r.asof}), {r.current} "
             f"current (within the staleness limit), {r.covered} with a close on record; a "
             f"sector figure needs {r.needed}.",
             f"Median and count: each token's drawdown at its latest close ({r.covered} of "
             f"{n} tokens). Index: equal-weight daily returns of the tokens quoted on both "
             f"days, 100 on {r.index_start}."]
    if r.index_withheld:
        notes.append(f"The {r.index_withheld}: with the others gone it would describe only "
                     "the tokens still quoted.")
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
    """Hyperscaler capex.

    Hyperscaler capex: latest quarter and trailing four quarters per company.
    """
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


@commands.command()
async def usage(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """AI-token fees vs market cap.

    AI tokens' annualized on-chain fees vs market cap: usage-backed or narrative.
    """
    no_args(args)
    got = await ctx.hub.readings.get("usage", UsageReading)
    r = got.reading
    rows = tuple(
        (u.key, u.status, usd(u.annualized_usd), usd(u.market_cap.value if u.market_cap else None),
         "n/a" if u.fee_yield_pct is None else f"{u.fee_yield_pct:.2f}%", pct(u.return_90d_pct))
        for u in r.rows
    )
    uncovered = [u.key for u in r.rows if u.status == "not covered"]
    notes = ["Fees: last 30 days of on-chain fees/revenue (DefiLlama), annualized x365/30. "
             "Fee yield = annualized fees / market cap."]
    if uncovered:
        notes.append("Not covered by the fees source: " + ", ".join(uncovered) + ".")
    backed = [u.return_90d_pct for u in r.rows if u.status == "usage-backed" and u.return_90d_pct
              is not None]
    rest = [u.return_90d_pct for u in r.rows if u.status != "usage-backed" and u.return_90d_pct
            is not None]
    if backed and rest:
        notes.append(f"90d price return, mean: usage-backed {pct(sum(backed) / len(backed))}, "
                     f"the rest {pct(sum(rest) / len(rest))}.")
    return stamp_reply(
        "AI-token usage",
        [Table(("token", "status", "fees/yr", "mkt cap", "fee yield", "90d"), rows)],
        notes, got.snapshot, r.sources, ctx.hub.mode,
    )
