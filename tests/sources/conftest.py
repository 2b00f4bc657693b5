"""A local stand-in of the upstream APIs serving recorded bodies on their real paths."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.sources.http import HttpClient, RateLimiter, RetryPolicy

UPSTREAM = Path(__file__).resolve().parents[1] / "fixtures" / "upstream"
SYNTHETIC = UPSTREAM / "synthetic"
CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv", ".html": "text/html"}


@dataclass(frozen=True)
class Canned:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0


def recorded(rel: str, status: int = 200, headers: dict[str, str] | None = None) -> Canned:
    """A body from tests/fixtures/upstream (recorded, or synthetic/ when the path says so)."""
    path = UPSTREAM / rel
    return Canned(path.read_bytes(), status, headers or {},
                  CONTENT_TYPES.get(path.suffix, "application/octet-stream"))


def load(rel: str) -> Any:
    return json.loads((UPSTREAM / rel).read_text(encoding="utf-8"))


def text(rel: str) -> str:
    return (UPSTREAM / rel).read_text(encoding="utf-8")


def variant_truncated(rel: str) -> Canned:
    """Derived: the first half of a recorded body (a cut-off transfer)."""
    body = (UPSTREAM / rel).read_bytes()
    return Canned(body[: len(body) // 2])


def variant_header(rel: str, new_header: str) -> Canned:
    """Derived: a recorded CSV with its header line replaced."""
    lines = (UPSTREAM / rel).read_text(encoding="utf-8").splitlines()
    return Canned("\n".join([new_header, *lines[1:]]).encode(), content_type="text/csv")


@dataclass(frozen=True)
class Hit:
    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FakeUpstream:
    """Routes (path + required query items) to queues of canned responses; records hits.

    A queue hands out its responses in order and then repeats the last one.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, frozenset[tuple[str, str]]], list[Canned]] = {}
        self.hits: list[Hit] = []
        self.url = ""

    def serve(self, path: str, *responses: Canned, query: dict[str, str] | None = None) -> None:
        self.routes[(path, frozenset((query or {}).items()))] = list(responses)

    def times(self, path: str) -> list[float]:
        return [h.at for h in self.hits if h.path == path]

    def gaps(self, path: str) -> list[float]:
        times = self.times(path)
        return [b - a for a, b in itertools.pairwise(times)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(Hit(asyncio.get_running_loop().time(), request.path,
                             dict(request.query), dict(request.headers)))
        matches = [(len(q), key) for key in self.routes if key[0] == request.path
                   for q in [key[1]] if q <= set(request.query.items())]
        if not matches:
            return web.json_response({"error": f"no route {request.path}"}, status=404)
        queue = self.routes[max(matches)[1]]
        canned = queue.pop(0) if len(queue) > 1 else queue[0]
        if canned.delay:
            await asyncio.sleep(canned.delay)
        return web.Response(body=canned.body, status=canned.status, headers=canned.headers,
                            content_type=canned.content_type)


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    fake = FakeUpstream()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


MakeClient = Callable[..., HttpClient]


@pytest.fixture
def make_client(upstream: FakeUpstream, session: aiohttp.ClientSession) -> MakeClient:
    """An HttpClient on the local server: no spacing and tiny backoff unless asked."""

    def make(provider: str = "test", min_interval: float = 0.0, attempts: int = 3,
             backoff: float = 0.01, timeout: float = 2.0, base: str = "",
             headers: dict[str, str] | None = None, max_retry_after: float = 5.0) -> HttpClient:
        return HttpClient(session, provider, upstream.url + base, RateLimiter(min_interval),
                          timeout, headers or {}, RetryPolicy(attempts, backoff, max_retry_after))

    return make
