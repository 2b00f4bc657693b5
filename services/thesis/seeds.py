"""The published figures config.yaml is seeded with (thesis.claims[].published): what the
articles behind the thesis said, by claim number."""

from __future__ import annotations

from datetime import date

from services.thesis.published import Published

MAY = date(2026, 5, 27)
DEC = date(2025, 12, 15)
Q4_KNOWN = date(2026, 2, 14)  # calendar 2025's last quarter counts 45 days after it ends
ARTICLE_MAY = "article behind the thesis, 2026-05-27"
ARTICLE_DEC = "article behind the thesis, mid-December 2025"
FILINGS = "company filings as reported, calendar 2025"


def _p(metric: str, day: date, value: float, tolerance: float, what: str, source: str,
       relation: str = "about") -> Published:
    return Published(metric=metric, date=day, value=value, tolerance=tolerance, what=what,
                     source=source, relation=relation)


PUBLISHED: dict[int, list[Published]] = {
    1: [_p("mu.since", MAY, 987, 10, "Micron +987% since January 2024", ARTICLE_MAY),
        _p("dell.since", MAY, 289, 10, "Dell +289% since January 2024", ARTICLE_MAY),
        _p("amd.since", MAY, 209, 10, "AMD +209% since January 2024", ARTICLE_MAY),
        _p("nvda.since", MAY, 246, 10, "Nvidia +246% since January 2024", ARTICLE_MAY),
        _p("smh.since", MAY, 223, 10, "SMH +223% since January 2024", ARTICLE_MAY),
        _p("soxx.since", MAY, 192, 10, "SOXX +192% since January 2024", ARTICLE_MAY),
        _p("000660.ks.since", MAY, 1600, 50, "SK Hynix 17x since January 2024", ARTICLE_MAY)],
    2: [_p("btc.ytd", MAY, -20, 3, "BTC about -20% year to date", ARTICLE_MAY),
        _p("spx.ytd", MAY, 10, 2, "S&P 500 about +10% year to date", ARTICLE_MAY),
        _p("btc.price", DEC, 90000, 0, "BTC below $90,000", ARTICLE_DEC, "below"),
        _p("btc.drawdown", DEC, -30, 3, "BTC about 30% below its October high", ARTICLE_DEC)],
    3: [_p("stablecoins.drawdown", MAY, 0, 0.5, "stablecoin supply at an all-time high",
           ARTICLE_MAY)],
    5: [_p("aitokens.sector_cap", DEC, 30.6, 0.5, "AI-token sector market cap $30.6B",
           ARTICLE_DEC),
        _p("aitokens.sector_cap", date(2025, 12, 7), 70.4, 0.5,
           "AI-token sector market cap $70.4B", ARTICLE_DEC)],
    6: [_p("capex.amzn.ttm", Q4_KNOWN, 125, 5, "Amazon calendar-2025 capex about $125B",
           FILINGS),
        _p("capex.msft.ttm", date(2025, 8, 14), 88.7, 1,
           "Microsoft fiscal-2025 capex (to 2025-06-30) $88.7B", FILINGS),
        _p("capex.meta.ttm", Q4_KNOWN, 71, 1, "Meta calendar-2025 capex $70-72B", FILINGS),
        _p("capex.googl.ttm", Q4_KNOWN, 92, 1, "Alphabet calendar-2025 capex $91-93B",
           FILINGS),
        _p("capex.ttm", Q4_KNOWN, 380, 10, "the four together about $380B in 2025", FILINGS)],
}
