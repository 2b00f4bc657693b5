"""One polite HTTP client per upstream provider over a shared aiohttp session.

Retries 5xx, timeouts and connection errors with exponential backoff, waits out
429s for as long as `Retry-After` says (within a cap), spaces requests per
provider, and turns every failure into a typed SourceError. Logs name the
provider and the URL path only: query strings and headers may carry API keys. Error
text quoted from an upstream body is redacted of the client's secrets before it is kept.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from services.redaction import named_secrets, redact
from services.series import MarketData
from services.sources import SourceError

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 200
UNREACHABLE_HOLD_S = 60.0  # after a failed connect, the provider's calls fail at once
MAX_BODY_BYTES = 32 * 2**20  # the largest real answer (SEC companyfacts) is a few MB
ERROR_BODY_BYTES = 64 * 1024  # an error page is read only this far: the message is at the top
CHUNK_BYTES = 256 * 1024


class BodyTooLarge(SourceError):
    """An answer over the client's size cap: refused before it fills memory."""


class UpstreamHTTPError(SourceError):
    """A non-success HTTP status (after retries, for 5xx)."""

    def __init__(self, provider: str, path: str, status: int, snippet: str) -> None:
        super().__init__(f"{provider} {path}: HTTP {status}: {snippet}")
        self.status = status
        self.snippet = snippet


class RateLimited(UpstreamHTTPError):
    """HTTP 429 that outlasted our retries (or asked for a longer wait than we allow)."""

    def __init__(self, provider: str, path: str, retry_after: float | None, snippet: str) -> None:
        super().__init__(provider, path, 429, snippet)
        self.retry_after = retry_after


class UpstreamUnreachable(SourceError):
    """Timeouts or connection errors on every attempt."""


class ConnectFailed(aiohttp.ClientConnectionError):
    """No connection at all (refused, no route, name not resolved), from any transport."""


NO_CONNECTION = (aiohttp.ClientConnectorError, ConnectFailed)


class BadPayload(SourceError):
    """A body we cannot trust: HTML for JSON, truncated JSON, an unexpected shape or header."""


class RateLimiter:
    """At most one request per `min_interval` seconds, shared by everything of one provider."""

    def __init__(self, min_interval: float) -> None:
        self.min_interval = min_interval
        self._lock = asyncio.Lock()
        self._next_at = 0.0
        self.unreachable_until = 0.0  # loop time; set when nothing could be connected to

    def unreachable(self) -> bool:
        return asyncio.get_running_loop().time() < self.unreachable_until

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            if self.unreachable():  # the call will not be sent: no spacing to keep
                return
            delay = self._next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next_at = loop.time() + self.min_interval


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries, not extra ones
    backoff: float = 0.5  # seconds; doubles after each failed try
    max_retry_after: float = 120.0  # longer 429 waits fail fast as RateLimited


@dataclass(frozen=True)
class HttpClient:
    """GETs against one provider's base URL; siblings from `at()` share the rate limiter."""

    session: aiohttp.ClientSession
    provider: str
    base_url: str
    limiter: RateLimiter
    timeout: float = 20.0
    headers: Mapping[str, str] = field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    secrets: tuple[str, ...] = ()  # API keys never to be quoted back in error text
    max_bytes: int = MAX_BODY_BYTES  # per source: a longer answer is an error, not parsed

    def at(self, base_url: str) -> HttpClient:
        return replace(self, base_url=base_url)

    def with_headers(self, headers: Mapping[str, str]) -> HttpClient:
        return replace(self, headers={**self.headers, **headers})

    def with_secrets(self, *secrets: str) -> HttpClient:
        return replace(self, secrets=(*self.secrets, *(s for s in secrets if s)))

    async def get_text(self, path: str, params: Mapping[str, str] | None = None) -> str:
        return await self._get(path, params or {})

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return parse_json(await self._get(path, params or {}), f"{self.provider} {path}")

    async def _get(self, path: str, params: Mapping[str, str]) -> str:
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            await self.limiter.wait()
            if self.limiter.unreachable():
                raise UpstreamUnreachable(f"{self.provider} {path}: no connection a moment "
                                          "ago; not retried before the next collection")
            try:
                status, body, headers = await self._once(url, params)
            except (TimeoutError, aiohttp.ClientError) as exc:
                self._log(path, exc.__class__.__name__, attempt)
                # Nothing to connect to: retrying within this pass does not help (no
                # network, DNS down), the next collection tries again.
                if isinstance(exc, NO_CONNECTION):  # the provider's other calls skip too
                    self.limiter.unreachable_until = (asyncio.get_running_loop().time()
                                                      + UNREACHABLE_HOLD_S)
                if last or isinstance(exc, NO_CONNECTION):
                    raise UpstreamUnreachable(
                        f"{self.provider} {path}: {exc.__class__.__name__} "
                        f"after {attempt} attempts") from None
                await asyncio.sleep(self._backoff(attempt))
                continue
            if 200 <= status < 300:
                return body
            self._log(path, f"HTTP {status}", attempt)
            wait = self._retry_wait(status, headers, attempt, last)
            if wait is None:  # the error text is cleaned in a thread: never stalls the loop
                raise await asyncio.to_thread(self._error, path, params, status, body, headers)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, url: str, params: Mapping[str, str]) -> tuple[
            int, str, CIMultiDictProxy[str]]:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with self.session.get(url, params=dict(params), headers=dict(self.headers),
                                    timeout=timeout) as resp:
            ok = 200 <= resp.status < 300
            raw = await self._read_capped(resp, self.max_bytes if ok else ERROR_BODY_BYTES,
                                          url, refuse=ok)
            return resp.status, raw.decode("utf-8", errors="replace"), resp.headers

    async def _read_capped(self, resp: aiohttp.ClientResponse, cap: int, url: str,
                           refuse: bool) -> bytes:
        """At most `cap` bytes of the body: over it, BodyTooLarge (a data answer: a cut one
        would be wrong data) or the first `cap` bytes (an error page: only its top says
        anything). Read in chunks, so a huge answer never sits in memory whole."""
        declared = resp.content_length
        name = url.partition("?")[0].rsplit("/", 1)[-1]
        too_large = BodyTooLarge(f"{self.provider} {name}: answer over {cap / 2**20:g} MB "
                                 "refused")
        if refuse and declared is not None and declared > cap:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                if refuse:
                    raise too_large
                break
        return b"".join(chunks)[:cap]

    def _retry_wait(self, status: int, headers: Mapping[str, str], attempt: int,
                    last: bool) -> float | None:
        """Seconds to wait before the next try, or None to give up now."""
        if last:
            return None
        if status == 429:
            after = parse_retry_after(headers.get("Retry-After"))
            if after is None:
                return self._backoff(attempt)
            return after if after <= self.retry.max_retry_after else None
        if status >= 500:
            return self._backoff(attempt)
        return None

    def _error(self, path: str, params: Mapping[str, str], status: int, body: str,
               headers: Mapping[str, str]) -> UpstreamHTTPError:
        secrets = (*self.secrets, *named_secrets({**self.headers, **params}))
        snippet = error_snippet(body, secrets)
        if status == 429:
            return RateLimited(self.provider, path,
                               parse_retry_after(headers.get("Retry-After")), snippet)
        return UpstreamHTTPError(self.provider, path, status, snippet)

    def _backoff(self, attempt: int) -> float:
        return float(self.retry.backoff * 2 ** (attempt - 1))

    def _log(self, path: str, what: str, attempt: int) -> None:
        logger.warning("upstream failure: provider=%s path=%s error=%s attempt=%d/%d",
                       self.provider, path, what, attempt, self.retry.attempts)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_json(body: str, what: str) -> Any:
    """JSON or a BadPayload that says whether it was HTML, empty or cut off."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        head = body.lstrip()[:1]
        if head == "<":
            raise BadPayload(f"{what}: got HTML where JSON was expected") from None
        if not head:
            raise BadPayload(f"{what}: empty body where JSON was expected") from None
        raise BadPayload(f"{what}: invalid or truncated JSON ({exc.msg} at char {exc.pos} "
                         f"of {len(body)})") from None


def error_snippet(body: str, secrets: Iterable[str] = ()) -> str:
    """The upstream's error message, secrets and URL queries redacted, cut to one short line."""
    return " ".join(redact(upstream_message(body), secrets).split())[:SNIPPET_CHARS]


def upstream_message(body: str) -> str:
    """The upstream's own error message when the body has a known shape, else the body as text."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return html.unescape(re.sub(r"<[^<>]*>", " ", body))  # linear: no run across "<"
    for path in (("chart", "error", "description"), ("error_message",),
                 ("status", "error_message"), ("error", "status", "error_message"),
                 ("error", "message"), ("message",), ("error",)):
        found: Any = data
        for step in path:
            found = found.get(step) if isinstance(found, dict) else None
        if isinstance(found, str):
            return found
    return body


async def fetch_each(provider: str, jobs: Mapping[str, Awaitable[MarketData]]) -> MarketData:
    """Run per-item fetches; keep what succeeded, raise when no item yielded a single point.

    Parsers refuse an answer with no usable value (BadPayload); an item may still come
    back empty (SEC facts all filed after `asof`), and that alone must not hide the
    other items' failures.
    """
    names = list(jobs)
    results = await asyncio.gather(*jobs.values(), return_exceptions=True)
    out: MarketData = {}
    errors: list[SourceError] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, SourceError):
            logger.warning("item failed: provider=%s item=%s error=%s", provider, name, result)
            errors.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            out.update(result)
    if errors and all(ts.values.empty for ts in out.values()):
        raise errors[0]
    return out
