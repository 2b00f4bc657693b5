"""What a doctor check is, and the one-request probe every check is built on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from services.sources.http import HttpClient, UpstreamUnreachable

OK, WARN, FAIL = "ok", "warn", "FAIL"
RATE_HEADERS = ("x-ratelimit-remaining", "x-rate-limit-remaining", "x-mbx-used-weight-1m",
                "ratelimit-remaining", "retry-after")


@dataclass(frozen=True)
class Check:
    name: str
    level: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" -- fix: {self.fix}" if self.fix and self.level != OK else ""
        return f"{self.level:<4} {self.name}: {self.detail}{fix}"


async def probe(client: HttpClient, path: str, params: Mapping[str, str] | None = None
                ) -> tuple[int, str, Mapping[str, str]]:
    """(status, body, headers) of one GET; raises UpstreamUnreachable when nothing answers."""
    await client.limiter.wait()
    url = client.base_url.rstrip("/") + "/" + path.lstrip("/")
    try:
        return await client._once(url, params or {})
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise UpstreamUnreachable(f"{client.provider}: {exc.__class__.__name__}") from None


def rate_note(headers: Mapping[str, str]) -> str:
    found = [f"{h}={headers[h]}" for h in RATE_HEADERS if h in headers]
    return f"; rate limit: {', '.join(found)}" if found else ""


def disable_fix(provider: str) -> str:
    section = provider.split("-", maxsplit=1)[0]
    return (f"check the network, proxy or firewall for {provider}; or set "
            f"sources.{section}.enabled: false")


def http_fix(provider: str, status: int) -> str:
    if status in (401, 403):
        return {"sec": "set sources.sec.user_agent to 'name email@example.org'",
                "coingecko": "check COINGECKO_API_KEY (demo) or COINGECKO_PRO_API_KEY (paid)",
                "fred": "check FRED_API_KEY, or unset it to use the keyless CSV",
                "tiingo": "check TIINGO_API_KEY", "stooq": "check STOOQ_API_KEY",
                }.get(provider, "the provider refused this client; see README (live mode)")
    if status == 429:
        return "rate limited now; the budgets in /status keep flowwatch under the free tier"
    return disable_fix(provider)
