"""Huge and hostile upstream answers: bounded memory, and error text cleaned off the loop.

The finding: no cap on answer size (3.3 GB RSS for a 100 MB JSON body, 5.7 GB for 150 MB of
junk), and redacting a 100 KB 403 page was quadratic and ran on the event loop (about 12 s
per request, the whole bot stalled). Now each client has a size cap (`max_bytes`, read in
chunks: over it the answer is refused as BodyTooLarge), an error page is read only 64 KB
far, and its text is cleaned in a thread with patterns that cannot backtrack across the page.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from services.sources import http as http_module
from services.sources.http import (
    BodyTooLarge,
    HttpClient,
    RateLimiter,
    RetryPolicy,
    UpstreamHTTPError,
)
from tests.helpers import serve_on_loopback

MB = 2**20
# A 403 page built to make backtracking patterns quadratic: an unclosed tag run, a URL run
# without a query, a credential-looking run; and the key quoted in the middle.
KEY = "k3y-SECRET-value-123456"
HOSTILE = ("<" * 30_000 + "http://" + "a" * 30_000 + f" api_key={KEY} "
           + "key=" + "b" * 30_000).encode()


async def stream_json(request: web.Request) -> web.StreamResponse:
    """100 MB of JSON, chunked, without a Content-Length (the cap must still hold)."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    await resp.prepare(request)
    await resp.write(b"[")
    chunk = b"1," * (MB // 2)
    for _ in range(100):
        await resp.write(chunk)
    await resp.write(b"1]")
    return resp


async def declared_junk(_request: web.Request) -> web.Response:
    return web.Response(body=b"x" * (150 * MB // 10), status=200,
                        headers={"Content-Length": str(150 * MB // 10)})


async def hostile_403(_request: web.Request) -> web.Response:
    return web.Response(body=HOSTILE, status=403, content_type="text/html")


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    app = web.Application()
    app.router.add_get("/big", stream_json)
    app.router.add_get("/junk", declared_junk)
    app.router.add_get("/hostile", hostile_403)
    runner, port = await serve_on_loopback(app)
    async with aiohttp.ClientSession() as session:
        yield HttpClient(session, "test", f"http://127.0.0.1:{port}", RateLimiter(0), 30.0,
                         retry=RetryPolicy(1, 0.01), secrets=(KEY,), max_bytes=8 * MB)
    await runner.cleanup()


async def test_a_100_mb_body_is_refused_within_bounded_memory(client: HttpClient) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="over 8 MB refused"):
            await client.get_json("/big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 300 * MB / 10  # the cap and a chunk, not the 100 MB (nor its parse)


async def test_a_declared_oversized_body_is_refused_before_reading(
        client: HttpClient) -> None:
    with pytest.raises(BodyTooLarge):
        await client.get_text("/junk")


async def test_a_hostile_error_page_is_cleaned_off_the_loop_without_the_key(
        client: HttpClient, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    snippet = http_module.error_snippet

    def recorded(body: str, secrets: tuple[str, ...] = ()) -> str:
        threads.append(threading.current_thread().name)
        return snippet(body, secrets)

    monkeypatch.setattr(http_module, "error_snippet", recorded)
    with pytest.raises(UpstreamHTTPError) as info:
        await client.get_text("/hostile")
    assert info.value.status == 403
    assert KEY not in str(info.value) and KEY not in info.value.snippet
    assert threads and threads[0] != threading.main_thread().name  # not on the event loop
