"""/help conventions: how every number is computed, printed from the code's own constants
(staleness table, filing lag, baskets, coverage) so the reply cannot drift from the code."""

from __future__ import annotations

from handlers.reply import Reply, Table
from services.baskets import Baskets
from services.catalog import FILING_LAG, STALE_LIMITS
from services.metrics.yields import BILL_DAYS
from services.windows import DEFAULT_SINCE

TOPIC = "conventions"


def conventions_reply(baskets: Baskets, history_start: str | None) -> Reply:
    need = f"{baskets.min_coverage:.0%}"
    rules = (
        ("Return", "close(as-of) / close(base) - 1 on split-adjusted closes (price return); "
                   "close(as-of) is the last close on or before the as-of date"),
        ("since D", f"base: the last close strictly before D (default {DEFAULT_SINCE})"),
        ("YTD", "base: the previous year's last close"),
        ("30d, 90d", "base: the last close on or before the as-of date minus 30 or 90 days"),
        ("1y", "base: the last close on or before the same calendar date one year earlier "
               "(29 February: 28 February)"),
        ("Every day", "weekends and holidays read each series' latest close on or before "
                      "the day; every command, chart, alert and /thesis use the same series"),
        ("Drawdown", "close / the highest close on record up to the as-of date; history "
                     f"starts {history_start or 'with the data'}, so 'all-time high' is the "
                     "high since then"),
        ("Baskets", f"equal weight; AI: {' '.join(baskets.ai)}; crypto: "
                    f"{' '.join(baskets.crypto)}; benchmark {baskets.benchmark}; a basket is "
                    "shown only when every member has a return; SK Hynix in KRW"),
        ("Spread", "AI basket minus crypto basket, in percentage points"),
        ("AI tokens", f"median token drawdown and the count more than 50% below peak use "
                      f"each token's latest close; the equal-weight index (daily returns of "
                      f"tokens quoted on both days) is withheld when fewer than {need} of "
                      f"the tokens have a current close; 'N of {len(baskets.aitokens)} "
                      "quoted' counts tokens with a close on the as-of date"),
        ("T-bill", f"FRED DTB3 is a discount rate; before it meets the Aave APY it becomes an "
                   f"APY: (1 / (1 - rate x {BILL_DAYS}/360))^(365/{BILL_DAYS}) - 1"),
        ("Capex", f"cash purchases of property and equipment (SEC XBRL), counted "
                  f"{FILING_LAG.days} days after the quarter ends (when filed); finance "
                  "leases excluded (Microsoft without finance leases); Amazon gross of "
                  "proceeds and incentives (PaymentsToAcquireProductiveAssets)"),
    )
    stale = tuple((f"{s.days} days", s.what) for s in STALE_LIMITS)
    return Reply(title="How flowwatch computes its numbers",
                 tables=(Table(("", ""), rules, "Conventions"),
                         Table(("stale after", "series"), stale, "Staleness limits")),
                 notes=("A value older than its limit is marked stale with its last date; a "
                        "rule or claim over it says 'stale since DATE' instead of moving.",))
