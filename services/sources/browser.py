"""An HttpClient that speaks like a browser: curl_cffi with Chrome's TLS and HTTP/2
fingerprint, and a cookie jar.

Yahoo answers 429 to clients whose TLS handshake is not a browser's, whatever their
User-Agent (yfinance issues #2422, #2448; the fix there was curl_cffi's
`impersonate="chrome"`). Only the transport differs: retries, backoff, Retry-After and
error typing are HttpClient's. No User-Agent is set here: the impersonated one must match
the fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from curl_cffi.requests import AsyncSession
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
from curl_cffi.requests.exceptions import DNSError, RequestException, Timeout
from multidict import CIMultiDict, CIMultiDictProxy

from services.sources.http import ERROR_BODY_BYTES, BodyTooLarge, ConnectFailed, HttpClient

IMPERSONATE = "chrome"


def browser_session() -> AsyncSession[Any]:
    return AsyncSession(impersonate=IMPERSONATE, max_clients=4)


@dataclass(frozen=True)
class BrowserClient(HttpClient):
    browser: AsyncSession[Any] | None = None

    async def _once(self, url: str, params: Mapping[str, str]) -> tuple[
            int, str, CIMultiDictProxy[str]]:
        if self.browser is None:
            raise aiohttp.ClientConnectionError("browser session not configured")
        try:
            resp = await self.browser.get(url, params=dict(params), headers=dict(self.headers),
                                          timeout=self.timeout)
        except Timeout:
            raise TimeoutError(f"{self.provider}: timed out") from None
        except (CurlConnectionError, DNSError) as exc:
            raise ConnectFailed(exc.__class__.__name__) from None
        except RequestException as exc:
            raise aiohttp.ClientConnectionError(exc.__class__.__name__) from None
        ok = 200 <= resp.status_code < 300
        cap = self.max_bytes if ok else ERROR_BODY_BYTES
        if ok and len(resp.content) > cap:  # curl buffers the body; the cap still refuses it
            raise BodyTooLarge(f"{self.provider}: answer over {cap / 2**20:g} MB refused")
        raw = resp.content[:cap]
        headers = CIMultiDictProxy(CIMultiDict(list(resp.headers.items())))
        return resp.status_code, raw.decode("utf-8", errors="replace"), headers
