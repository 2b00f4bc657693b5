"""Stand-ins for the price providers: Yahoo, Stooq, Tiingo, Coinbase, Kraken, Binance, FRED."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from services.sources.yahoo import DEFAULT_SYMBOLS
from tests.standins.data import recorded

if TYPE_CHECKING:
    from tests.standins.server import StandIn

CRUMB = "Xq7sTandIn"
COOKIE = "A3"
ZONES = {"000660.KS": ("Asia/Seoul", time(0, 0))}
# What each exchange lists here, close to what it lists for real; TAO is left to Binance
# because Kraken serves only its latest 720 days (the snapshot's TAO is longer).
COINBASE = {f"{k}-USD": k for k in ("BTC", "ETH", "NEAR", "ICP", "RENDER", "FET")}
KRAKEN = {"XBTUSD": "BTC", "ETHUSD": "ETH", "VVVUSD": "VVV"}
BINANCE = {f"{k}USDT": k for k in ("BTC", "ETH", "TAO", "NEAR", "ICP", "RENDER", "FET", "WLD",
                                   "VIRTUAL")}
STOOQ = {"nvda.us": "NVDA", "amd.us": "AMD", "mu.us": "MU", "dell.us": "DELL",
         "smh.us": "SMH", "soxx.us": "SOXX", "^spx": "SPX"}
FRED = {"DTB3": "rates.tbill_3m", "SP500": "SPX"}
BROWSER_UA = ("Mozilla", "Chrome")


def _day(seconds: str | None, default: date) -> date:
    try:
        return datetime.fromtimestamp(float(seconds or ""), UTC).date()
    except ValueError:
        return default


def _ymd(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _json(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def too_many() -> web.Response:
    """Yahoo's refusal: HTTP 429, a short text body, no Retry-After."""
    return web.Response(status=429, text="Edge: Too Many Requests", content_type="text/html")


def is_browser(request: web.Request) -> bool:
    agent = request.headers.get("User-Agent", "")
    return any(b in agent for b in BROWSER_UA) and "python" not in agent.lower() \
        and "aiohttp" not in agent.lower() and "flowwatch" not in agent.lower()


async def yahoo_cookie(s: StandIn, request: web.Request) -> web.Response:
    resp = web.Response(status=404, text="<html>404</html>", content_type="text/html")
    resp.set_cookie(COOKIE, "d=standin&S=session", path="/")
    return resp


async def yahoo_crumb(s: StandIn, request: web.Request) -> web.Response:
    if s.yahoo_refusing or not is_browser(request):
        return too_many()
    if COOKIE not in request.cookies:
        return web.Response(status=403, text="", content_type="text/plain")
    return web.Response(text=CRUMB, content_type="text/plain")


async def yahoo_chart(s: StandIn, request: web.Request) -> web.Response:
    if s.yahoo_refusing or not is_browser(request) or s.over_limit("yahoo", 60):
        return too_many()
    if COOKIE not in request.cookies or request.query.get("crumb") != CRUMB:
        return _json({"finance": {"result": None, "error": {
            "code": "Unauthorized", "description": "Invalid Crumb"}}}, 401)
    symbol = request.match_info["symbol"]
    key = DEFAULT_SYMBOLS.get(symbol)
    if key is None:
        return web.Response(status=404, body=recorded("yahoo/chart_error_404_not_found.json"),
                            content_type="application/json")
    start = _day(request.query.get("period1"), date(1970, 1, 1))
    end = _day(request.query.get("period2"), s.market.today)
    rows = s.market.rows(key, start, end)
    zone, open_utc = ZONES.get(symbol, ("America/New_York", time(13, 30)))
    adj = dict(s.market.rows(f"{key}_adj", start, end))
    indicators: dict[str, object] = {"quote": [{"close": [v for _, v in rows]}]}
    if adj:
        indicators["adjclose"] = [{"adjclose": [adj.get(d) for d, _ in rows]}]
    return _json({"chart": {"error": None, "result": [{
        "meta": {"symbol": symbol, "exchangeTimezoneName": zone, "gmtoffset": 0},
        "timestamp": [int(datetime.combine(d, open_utc, UTC).timestamp()) for d, _ in rows],
        "indicators": indicators}]}})


async def stooq_csv(s: StandIn, request: web.Request) -> web.Response:
    if request.query.get("apikey") != s.stooq_key:  # what keyless clients get since 2026
        return web.Response(text="<html><body>Get your apikey: /q/d/?get_apikey</body></html>",
                            content_type="text/html")
    key = STOOQ.get(request.query.get("s", ""))
    if key is None:
        return web.Response(text="No data", content_type="text/csv")
    start = _ymd(request.query.get("d1", "19700101"))
    end = _ymd(request.query.get("d2", "29991231"))
    lines = ["Date,Open,High,Low,Close,Volume"] + [
        f"{d.isoformat()},{v},{v},{v},{v},1000" for d, v in s.market.rows(key, start, end)]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/csv")


async def tiingo_prices(s: StandIn, request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Token {s.tiingo_key}":
        return _json({"detail": "Invalid token."}, 401)
    key = request.match_info["ticker"].upper()
    start = date.fromisoformat(request.query.get("startDate", "1970-01-01"))
    rows = s.market.rows(key, start)
    if not rows:
        return _json({"detail": f"Error: Ticker '{key}' not found"}, 404)
    return _json([{"date": f"{d.isoformat()}T00:00:00.000Z", "close": v, "adjClose": v}
                  for d, v in rows])


async def coinbase_candles(s: StandIn, request: web.Request) -> web.Response:
    key = COINBASE.get(request.match_info["product"])
    if key is None:
        return _json({"message": "NotFound"}, 404)
    start = datetime.fromisoformat(request.query["start"]).date()
    end = datetime.fromisoformat(request.query["end"]).date()
    if (end - start).days + 1 > 300:
        return _json({"message": "granularity too small for the requested time range. "
                                 "Count of aggregations requested exceeds 300"}, 400)
    rows = s.market.rows(key, start, end)
    return _json([[int(datetime.combine(d, time(), UTC).timestamp()), v, v, v, v, 1.0]
                  for d, v in reversed(rows)])


async def kraken_ohlc(s: StandIn, request: web.Request) -> web.Response:
    pair = request.query.get("pair", "")
    key = KRAKEN.get(pair)
    if key is None:
        return _json({"error": ["EQuery:Unknown asset pair"]})
    since = _day(request.query.get("since"), date(1970, 1, 1)) + timedelta(days=1)
    rows = s.market.rows(key, since)[-720:]  # the latest 720 only, whatever `since` says
    candles = [[int(datetime.combine(d, time(), UTC).timestamp()), str(v), str(v), str(v),
                str(v), str(v), "1.0", 10] for d, v in rows]
    return _json({"error": [], "result": {pair: candles,
                                          "last": candles[-1][0] if candles else 0}})


async def binance_klines(s: StandIn, request: web.Request) -> web.Response:
    key = BINANCE.get(request.query.get("symbol", ""))
    if key is None:
        return _json({"code": -1121, "msg": "Invalid symbol."}, 400)
    start = _day(str(int(request.query.get("startTime", "0")) / 1000), date(1970, 1, 1))
    rows = s.market.rows(key, start)[: int(request.query.get("limit", "500"))]
    out = []
    for d, v in rows:
        ms = int(datetime.combine(d, time(), UTC).timestamp() * 1000)
        out.append([ms, str(v), str(v), str(v), str(v), "1.0", ms + 86_399_999, "1.0", 1,
                    "0", "0", "0"])
    return _json(out)


async def fredgraph(s: StandIn, request: web.Request) -> web.Response:
    series = request.query.get("id", "")
    key = FRED.get(series)
    if key is None:
        return web.Response(status=404, text="<html>Series not found</html>",
                            content_type="text/html")
    start = date.fromisoformat(request.query.get("cosd", "1970-01-01"))
    lines = [f"observation_date,{series}"] + [f"{d.isoformat()},{v}"
                                               for d, v in s.market.rows(key, start)]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/csv")


ROUTES = {
    "/fc/": yahoo_cookie, "/yahoo/v1/test/getcrumb": yahoo_crumb,
    "/yahoo/v8/finance/chart/{symbol}": yahoo_chart, "/stooq/q/d/l/": stooq_csv,
    "/tiingo/tiingo/daily/{ticker}/prices": tiingo_prices,
    "/coinbase/products/{product}/candles": coinbase_candles,
    "/kraken/0/public/OHLC": kraken_ohlc, "/binance/api/v3/klines": binance_klines,
    "/fred/graph/fredgraph.csv": fredgraph,
}
