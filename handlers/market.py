"""/divergence and /btc: AI chip and memory stocks vs crypto."""

from __future__ import annotations

from datetime import date

from handlers.args import WINDOW, no_args, window_arg
from handlers.errors import UserError
from handlers.format import pct, pp, price, stale_notes, stamp_reply
from handlers.registry import CommandContext, CommandGroup
from handlers.reply import Reply, Table
from services.metrics.btc import BtcReading, CoinReading
from services.metrics.divergence import AssetReturn, DivergenceReading
from services.windows import SINCE_2024

commands = CommandGroup()


def _asset_rows(rows: tuple[AssetReturn, ...]) -> list[tuple[str, ...]]:
    return [(r.key, pct(r.pct) if r.pct is not None else f"n/a: {r.missing}",
             price(r.close, r.currency)) for r in rows]


@commands.command(WINDOW)
async def divergence(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """AI stocks vs crypto.

    AI chip and memory stocks vs BTC/ETH: returns, baskets and the spread.
    """
    window = window_arg(args, SINCE_2024)
    got = await ctx.hub.readings.get("divergence", DivergenceReading, window)
    r = got.reading
    if window.start is not None and window.start > date.fromisoformat(r.asof):
        raise UserError(f"window start {window.start} is after the as-of date {r.asof}")
    members = (*r.ai, *r.crypto, r.benchmark)
    summary = Table(("", "return"), (
        ("AI basket", pct(r.ai_basket_pct)),
        ("Crypto basket", pct(r.crypto_basket_pct)),
        ("Spread", pp(r.spread_pp)),
        (f"{r.benchmark.name}", pct(r.benchmark.pct)),
    ))
    notes = ["Price returns, equal-weight baskets; SK Hynix in KRW. Base: last close before "
             "the window start."]
    missing = [f"{m.key} ({m.missing})" for m in members if m.pct is None]
    if missing:
        notes.append("no return: " + ", ".join(missing))
    notes += stale_notes([(m.key, m.end_date, m.stale) for m in members])
    return stamp_reply(
        f"Divergence {r.window_text}",
        [Table(("asset", "return", "last"), tuple(_asset_rows(r.ai)), "AI chips & memory"),
         Table(("asset", "return", "last"), tuple(_asset_rows(r.crypto)), "Crypto"),
         summary],
        notes, got.snapshot, r.sources, ctx.hub.mode,
    )


def _coin_rows(c: CoinReading) -> list[tuple[str, str]]:
    return [
        (f"{c.key} price", price(c.price.value if c.price else None)),
        (f"{c.key} from ATH", pct(c.drawdown_pct)),
        (f"{c.key} ATH", f"{price(c.ath)} on {c.ath_date}" if c.ath_date else "n/a"),
        (f"{c.key} YTD", pct(c.ytd_pct)),
    ]


@commands.command()
async def btc(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Bitcoin vs its high and the S&P.

    Bitcoin price, drawdown from its all-time high, YTD vs the S&P 500, ETH alongside.
    """
    no_args(args)
    got = await ctx.hub.readings.get("btc", BtcReading)
    r = got.reading
    rows = [*_coin_rows(r.btc), ("S&P 500 YTD", pct(r.spx_ytd_pct)), *_coin_rows(r.eth)]
    notes = [f"All-time high over the history on record (since {r.history_start})."]
    notes += stale_notes([
        ("BTC", r.btc.price.day if r.btc.price else None, bool(r.btc.price and r.btc.price.stale)),
        ("ETH", r.eth.price.day if r.eth.price else None, bool(r.eth.price and r.eth.price.stale)),
        ("S&P 500", r.spx_close.day if r.spx_close else None,
         bool(r.spx_close and r.spx_close.stale)),
    ])
    return stamp_reply("Bitcoin", [Table(("", ""), tuple(rows))], notes, got.snapshot,
                       r.sources, ctx.hub.mode)
