"""The shared HTTP client: retries, Retry-After, rate limiting, typed errors, quiet logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest

from services.sources.http import (
    BadPayload,
    HttpClient,
    RateLimited,
    RateLimiter,
    RetryPolicy,
    UpstreamHTTPError,
    UpstreamUnreachable,
    parse_retry_after,
)
from tests.sources.conftest import Canned, FakeUpstream, MakeClient, recorded, variant_truncated

OK = Canned(b'{"ok": true}')
CG_429 = "coingecko/error_429_rate_limit.json"
SLACK = 0.08


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 9, 19, 12, 0, tzinfo=UTC)
    assert parse_retry_after("119") == 119.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Sat, 19 Sep 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sat, 19 Sep 2026 11:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_429_waits_for_retry_after_seconds(upstream: FakeUpstream,
                                                 make_client: MakeClient) -> None:
    upstream.serve("/x", recorded(CG_429, 429, {"Retry-After": "0.3"}), OK)
    assert await make_client().get_json("/x") == {"ok": True}
    [gap] = upstream.gaps("/x")
    assert 0.3 - 0.02 <= gap <= 0.3 + SLACK + 0.2


async def test_429_waits_until_retry_after_http_date(upstream: FakeUpstream,
                                                     make_client: MakeClient) -> None:
    # HTTP-dates have whole-second resolution: aim ~1.5 s ahead, expect a wait in (0.5, 1.6].
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=1.5), usegmt=True)
    upstream.serve("/x", recorded(CG_429, 429, {"Retry-After": when}), OK)
    assert await make_client().get_json("/x") == {"ok": True}
    [gap] = upstream.gaps("/x")
    assert 0.45 <= gap <= 1.6 + SLACK


async def test_429_without_retry_after_backs_off_exponentially(
        upstream: FakeUpstream, make_client: MakeClient) -> None:
    upstream.serve("/x", recorded(CG_429, 429), recorded(CG_429, 429), OK)
    assert await make_client(backoff=0.1, attempts=3).get_json("/x") == {"ok": True}
    first, second = upstream.gaps("/x")
    assert 0.1 - 0.02 <= first <= 0.1 + SLACK
    assert 0.2 - 0.02 <= second <= 0.2 + SLACK


async def test_html_429_that_persists_is_rate_limited(upstream: FakeUpstream,
                                                      make_client: MakeClient) -> None:
    upstream.serve("/x", recorded("synthetic/coingecko/error_429_html.html", 429,
                                  {"Retry-After": "0.05"}))
    with pytest.raises(RateLimited) as info:
        await make_client(attempts=2).get_json("/x")
    assert info.value.retry_after == pytest.approx(0.05)
    assert "Too Many Requests" in str(info.value)
    assert len(upstream.times("/x")) == 2


async def test_retry_after_longer_than_allowed_fails_fast(upstream: FakeUpstream,
                                                          make_client: MakeClient) -> None:
    upstream.serve("/x", recorded(CG_429, 429, {"retry-after": "119"}))  # as recorded
    with pytest.raises(RateLimited, match="exceeded the Rate Limit") as info:
        await make_client(max_retry_after=5).get_json("/x")
    assert info.value.retry_after == 119.0
    assert len(upstream.times("/x")) == 1


async def test_5xx_is_retried_then_succeeds(upstream: FakeUpstream,
                                            make_client: MakeClient) -> None:
    upstream.serve("/x", Canned(b"bad gateway", 502, content_type="text/plain"), OK)
    assert await make_client().get_json("/x") == {"ok": True}
    assert len(upstream.times("/x")) == 2


async def test_5xx_every_time_is_an_http_error(upstream: FakeUpstream,
                                               make_client: MakeClient) -> None:
    upstream.serve("/x", Canned(b"<html><b>Service Unavailable</b></html>", 503,
                                content_type="text/html"))
    with pytest.raises(UpstreamHTTPError) as info:
        await make_client(attempts=3).get_json("/x")
    assert info.value.status == 503
    assert info.value.snippet == "Service Unavailable"
    assert len(upstream.times("/x")) == 3


async def test_4xx_is_not_retried_and_carries_the_upstream_message(
        upstream: FakeUpstream, make_client: MakeClient) -> None:
    upstream.serve("/x", recorded("coingecko/error_10012_time_range_exceeded.json", 401))
    with pytest.raises(UpstreamHTTPError, match="limited to querying historical data") as info:
        await make_client().get_json("/x")
    assert info.value.status == 401
    assert len(upstream.times("/x")) == 1


async def test_timeouts_are_retried_then_unreachable(upstream: FakeUpstream,
                                                     make_client: MakeClient) -> None:
    upstream.serve("/slow", Canned(b"{}", delay=0.5))
    with pytest.raises(UpstreamUnreachable, match="after 2 attempts"):
        await make_client(timeout=0.1, attempts=2).get_json("/slow")
    assert len(upstream.times("/slow")) == 2


async def test_connection_refused_is_unreachable(session: aiohttp.ClientSession,
                                                 unused_tcp_port: int) -> None:
    client = HttpClient(session, "test", f"http://127.0.0.1:{unused_tcp_port}",
                        RateLimiter(0), 1.0, {}, RetryPolicy(2, 0.01))
    with pytest.raises(UpstreamUnreachable, match="after 1 attempts"):  # no retry: no host
        await client.get_text("/x")


async def test_rate_limiter_spaces_requests(upstream: FakeUpstream,
                                            make_client: MakeClient) -> None:
    upstream.serve("/x", OK)
    client = make_client(min_interval=0.15)
    sibling = client.at(upstream.url)  # another host of the same provider shares the limiter
    for c in (client, sibling, client, sibling):
        await c.get_json("/x")
    assert all(gap >= 0.15 - 0.01 for gap in upstream.gaps("/x"))


async def test_bad_bodies_are_bad_payloads(upstream: FakeUpstream,
                                           make_client: MakeClient) -> None:
    nvda = "yahoo/chart_NVDA_1d_2021-02-01_2022-01-31_split.json"
    upstream.serve("/cut", variant_truncated(nvda))
    upstream.serve("/html", recorded("synthetic/coingecko/error_429_html.html", 200))
    upstream.serve("/empty", Canned(b""))
    client = make_client()
    with pytest.raises(BadPayload, match="truncated JSON"):
        await client.get_json("/cut")
    with pytest.raises(BadPayload, match="HTML where JSON"):
        await client.get_json("/html")
    with pytest.raises(BadPayload, match="empty body"):
        await client.get_json("/empty")


async def test_failures_log_provider_and_path_but_never_the_key(
        upstream: FakeUpstream, make_client: MakeClient,
        caplog: pytest.LogCaptureFixture) -> None:
    upstream.serve("/fred/series/observations", recorded("fred/error_400_bad_series_id.json",
                                                         400))
    client = make_client(provider="fred", headers={"x-cg-demo-api-key": "HEADERSECRET"})
    with caplog.at_level(logging.WARNING), pytest.raises(UpstreamHTTPError) as info:
        await client.get_json("/fred/series/observations",
                              {"series_id": "bad", "api_key": "QUERYSECRET"})
    assert "Invalid value for variable series_id" in str(info.value)
    [line] = [r.getMessage() for r in caplog.records]
    assert "provider=fred" in line and "path=/fred/series/observations" in line
    assert "SECRET" not in caplog.text and "SECRET" not in str(info.value)
    assert upstream.hits[0].query["api_key"] == "QUERYSECRET"
    assert upstream.hits[0].headers["x-cg-demo-api-key"] == "HEADERSECRET"
