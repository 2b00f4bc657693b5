"""One loopback server holding every upstream stand-in, each under its own path prefix."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from services.sources.config import LiveSourcesConfig
from tests.standins import apis, market
from tests.standins.data import Market

UA = "flowwatch-tests ops@example.org"
Handler = Callable[["StandIn", web.Request], Awaitable[web.StreamResponse]]
PREFIXES = {"tg": "telegram", "fc": "yahoo", "yahoo": "yahoo", "stooq": "stooq",
            "tiingo": "tiingo", "coinbase": "coinbase", "kraken": "kraken", "binance": "binance",
            "coingecko": "coingecko", "coingecko-pro": "coingecko",
            "stablecoins": "defillama-stablecoins", "yields": "defillama-yields",
            "llama": "defillama-fees", "fred": "fred", "sec": "sec"}


@dataclass(frozen=True)
class Hit:
    provider: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class StandIn:
    market: Market
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    down: set[str] = field(default_factory=set)  # providers answering 503
    hang: set[str] = field(default_factory=set)  # providers that never answer (until close)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    yahoo_refusing: bool = False  # 429 to everyone, as Yahoo does to a flagged IP
    stooq_key: str = "stooq-standin"
    tiingo_key: str = "tiingo-standin"
    coingecko_keyless_per_minute: int = 10
    _calls: Counter[str] = field(default_factory=Counter)

    def over_limit(self, provider: str, per_minute: int) -> bool:
        """Calls past a per-minute limit. The stand-in's minute never ends on its own: a
        test that wants a fresh minute calls new_minute()."""
        self._calls[provider] += 1
        return self._calls[provider] > per_minute

    def new_minute(self) -> None:
        self._calls.clear()

    def calls(self, provider: str) -> list[Hit]:
        return [h for h in self.hits if h.provider == provider]

    def config(self, **overrides: Any) -> LiveSourcesConfig:
        """Live settings pointing every provider here, with no spacing."""
        fast = {"min_interval_seconds": 0.0, "backoff_seconds": 0.0,
                "max_retry_after_seconds": 0.0}
        u = self.url
        raw: dict[str, Any] = {
            "yahoo": {"base_url": f"{u}/yahoo", "cookie_url": f"{u}/fc", **fast},
            "stooq": {"base_url": f"{u}/stooq", **fast},
            "tiingo": {"base_url": f"{u}/tiingo", **fast},
            "coinbase": {"base_url": f"{u}/coinbase", **fast},
            "kraken": {"base_url": f"{u}/kraken", **fast},
            "binance": {"base_url": f"{u}/binance", **fast},
            "coingecko": {"base_url": f"{u}/coingecko/api/v3",
                          "pro_base_url": f"{u}/coingecko-pro/api/v3", **fast},
            "defillama": {"base_url": f"{u}/llama", "stablecoins_base_url": f"{u}/stablecoins",
                          "yields_base_url": f"{u}/yields", **fast},
            "fred": {"base_url": f"{u}/fred", "api_base_url": f"{u}/fredapi", **fast},
            "sec": {**fast, "base_url": f"{u}/sec", "min_interval_seconds": 0.1,
                    "user_agent": UA},
        }
        for name, value in overrides.items():
            if isinstance(value, dict) and name in raw:
                raw[name] = {**raw[name], **value}
            else:
                raw[name] = value
        return LiveSourcesConfig.model_validate(raw)

    def app(self) -> web.Application:
        app = web.Application()
        for path, handler in {**market.ROUTES, **apis.ROUTES,
                              "/tg/bot{token}/getMe": telegram_get_me}.items():
            app.router.add_get(path, self._wrap(handler))
        return app

    def _wrap(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            provider = PREFIXES.get(request.path.strip("/").split("/")[0], "?")
            self.hits.append(Hit(provider, request.path, dict(request.query),
                                 dict(request.headers)))
            if provider in self.down:
                return web.json_response({"error": "service unavailable"}, status=503)
            if provider in self.hang:  # a black-holed upstream: the client's limits decide
                await self.released.wait()
                return web.json_response({"error": "too late"}, status=504)
            return await handler(self, request)

        return handle


TELEGRAM_TOKEN = "123456:standin-token"


async def telegram_get_me(s: StandIn, request: web.Request) -> web.Response:
    """Bot API getMe: the bot for the one valid token, 401 for any other."""
    if request.match_info["token"] != TELEGRAM_TOKEN:
        return web.json_response({"ok": False, "error_code": 401,
                                  "description": "Unauthorized"}, status=401)
    return web.json_response({"ok": True, "result": {"id": 123456, "is_bot": True,
                                                     "username": "flowwatch_standin_bot"}})


@asynccontextmanager
async def running_standin(today: date) -> AsyncIterator[StandIn]:
    standin = StandIn(Market(today))
    server = TestServer(standin.app(), host="127.0.0.1")
    await server.start_server()
    standin.url = str(server.make_url("")).rstrip("/")
    try:
        yield standin
    finally:
        standin.released.set()
        await server.close()
