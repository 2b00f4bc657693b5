"""Stand-ins for CoinGecko, DefiLlama and SEC EDGAR."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from services.sources.coingecko import DEFAULT_COINS
from services.sources.defillama import AAVE_V3_USDC_ETHEREUM
from services.sources.sec import DEFAULT_COMPANIES
from tests.standins.data import recorded

if TYPE_CHECKING:
    from tests.standins.server import StandIn

DEMO_KEY, PRO_KEY = "cg-demo-standin", "cg-pro-standin"
FREE_DAYS = 365
STABLECOINS = {None: "stablecoins.total", "1": "stablecoins.usdt", "2": "stablecoins.usdc"}
CIKS = {f"CIK{int(cik):010d}": ticker for ticker, cik in DEFAULT_COMPANIES.items()}
CONCEPTS = {"AMZN": "PaymentsToAcquireProductiveAssets"}
FILED_AFTER = timedelta(days=45)  # the bundled snapshot shows a quarter 45 days after it ends


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None
          ) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def _ms(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp() * 1000)


def _recorded(rel: str, status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=recorded(rel), status=status, headers=headers,
                        content_type="application/json")


def coingecko_gate(s: StandIn, request: web.Request) -> web.Response | None:
    """Plan checks every CoinGecko call goes through: pro host needs the pro key, a wrong
    demo key is refused, and each plan has its per-minute limit."""
    pro = request.path.startswith("/coingecko-pro/")
    if pro and request.headers.get("x-cg-pro-api-key") != PRO_KEY:
        return _json({"status": {"error_code": 10002, "error_message": "API Key Missing"}},
                     401)
    demo = request.headers.get("x-cg-demo-api-key")
    if demo is not None and demo != DEMO_KEY:
        return _json({"status": {"error_code": 10002,
                                 "error_message": "Wrong API key"}}, 401)
    limit = 500 if pro else 30 if demo else s.coingecko_keyless_per_minute
    if s.over_limit("coingecko", limit):
        return _recorded("coingecko/error_429_rate_limit.json", 429, {"retry-after": "60"})
    return None


async def coingecko(s: StandIn, request: web.Request) -> web.Response:
    refused = coingecko_gate(s, request)
    if refused is not None:
        return refused
    tail = request.match_info["tail"]
    if tail == "ping":
        return _json({"gecko_says": "(V3) To the Moon!"})
    if tail == "coins/markets":
        return markets(s, request)
    if tail == "coins/categories":
        return web.Response(body=recorded("synthetic/coingecko/coins_categories_ai.json"),
                            content_type="application/json")
    if tail.startswith("coins/") and tail.endswith("/market_chart"):
        return market_chart(s, request, tail.split("/")[1])
    return _json({"error": "Not found"}, 404)


def markets(s: StandIn, request: web.Request) -> web.Response:
    ids = [i for i in request.query.get("ids", "").split(",") if i in DEFAULT_COINS]
    stamp = datetime.combine(s.market.today, time(20, 27, 10), UTC)
    rows = []
    for coin in ids:
        key = DEFAULT_COINS[coin]
        price = s.market.rows(key)[-1:]
        cap = s.market.rows(f"mcap.{key}")[-1:]
        rows.append({"id": coin, "symbol": key.lower(), "current_price": price[0][1] if price
                     else None, "market_cap": cap[0][1] if cap else 0,
                     "last_updated": stamp.isoformat().replace("+00:00", ".000Z")})
    return _json(rows)


def market_chart(s: StandIn, request: web.Request, coin: str) -> web.Response:
    key = DEFAULT_COINS.get(coin)
    if key is None:
        return _json({"error": "coin not found"}, 404)
    days = int(request.query.get("days", "1"))
    if days > FREE_DAYS and not request.path.startswith("/coingecko-pro/"):
        return _recorded("coingecko/error_10012_time_range_exceeded.json", 401)
    start = s.market.today - timedelta(days=days)
    prices = s.market.rows(key, start)
    caps = dict(s.market.rows(f"mcap.{key}", start))
    # a day's close stamped the next midnight; an unknown cap is 0, as CoinGecko writes it
    stamps = [_ms(d + timedelta(days=1)) for d, _ in prices]
    now = _ms(s.market.today) + 3_600_000 * 20
    return _json({"prices": [[ms, v] for ms, (_, v) in zip(stamps, prices, strict=True)]
                  + [[now, prices[-1][1] if prices else 0]],
                  "market_caps": [[ms, caps.get(d, 0)] for ms, (d, _) in
                                  zip(stamps, prices, strict=True)] + [[now, 0]],
                  "total_volumes": [[ms, 1.0] for ms in stamps]})


async def stablecoincharts(s: StandIn, request: web.Request) -> web.Response:
    key = STABLECOINS.get(request.query.get("stablecoin"))
    if key is None:
        return _json({"message": "stablecoin not found"}, 404)
    return _json([{"date": str(int(_ms(d) / 1000)), "totalCirculating": {"peggedUSD": v},
                   "totalCirculatingUSD": {"peggedUSD": v}} for d, v in s.market.rows(key)])


async def stablecoins(s: StandIn, request: web.Request) -> web.Response:
    return web.Response(body=recorded(
        "defillama/stablecoins_includePrices_2024-12-07_trimmed.json"),
        content_type="application/json")


async def pool_chart(s: StandIn, request: web.Request) -> web.Response:
    if request.match_info["pool"] != AAVE_V3_USDC_ETHEREUM:
        return _json({"status": "error", "data": "pool not found"}, 400)
    return _json({"status": "success", "data": [
        {"timestamp": f"{d.isoformat()}T23:01:12.345Z", "tvlUsd": 3.5e9, "apy": v,
         "apyBase": v, "apyReward": None} for d, v in s.market.rows("defi.aave_usdc_apy")]})


async def fees(s: StandIn, request: web.Request) -> web.Response:
    if request.match_info["slug"] != "venice":
        return _json({"message": "protocol not found"}, 404)
    rows = s.market.rows("fees.VVV")
    return _json({"id": "7891", "name": "Venice", "totalDataChart": [
        [int(_ms(d) / 1000), v] for d, v in rows]})


async def companyconcept(s: StandIn, request: web.Request) -> web.Response:
    agent = request.headers.get("User-Agent", "")
    if "@" not in agent:  # SEC refuses undeclared automated tools
        return web.Response(status=403, content_type="text/html", text=(
            "<html><body><h1>Your Request Originated from an Undeclared Automated Tool"
            "</h1></body></html>"))
    ticker = CIKS.get(request.match_info["cik"])
    concept = request.match_info["concept"].removesuffix(".json")
    if ticker is None or concept != CONCEPTS.get(ticker,
                                                 "PaymentsToAcquirePropertyPlantAndEquipment"):
        return web.Response(status=404, text="<Error><Code>NoSuchKey</Code></Error>",
                            content_type="application/xml")
    facts = [{"start": (end - timedelta(days=90)).replace(day=1).isoformat(),
              "end": end.isoformat(), "val": value, "fy": end.year, "fp": "Q",
              "form": "10-Q", "filed": (end + FILED_AFTER).isoformat()}
             for end, value in s.market.rows(f"capex.{ticker}", end=s.market.today)
             if end + FILED_AFTER <= s.market.today]
    return _json({"cik": int(request.match_info["cik"][3:]), "taxonomy": "us-gaap",
                  "tag": concept, "entityName": ticker, "units": {"USD": facts}})


ROUTES = {
    "/coingecko/api/v3/{tail:.*}": coingecko, "/coingecko-pro/api/v3/{tail:.*}": coingecko,
    "/stablecoins/stablecoincharts/all": stablecoincharts, "/stablecoins/stablecoins":
        stablecoins, "/yields/chart/{pool}": pool_chart, "/llama/summary/fees/{slug}": fees,
    "/sec/api/xbrl/companyconcept/{cik}/us-gaap/{concept}": companyconcept,
}
