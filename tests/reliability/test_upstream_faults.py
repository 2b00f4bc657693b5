"""Upstream faults from the local stand-in, on every provider: timeouts, 429 with and without
Retry-After (and one far beyond the cap), 5xx, HTML instead of JSON, truncated bodies, empty
arrays, nulls. Commands keep answering from the last good data marked stale, /status names
the failing source and its error, the other providers stay fresh, and the next refresh after
the upstream heals makes every reply fresh again, stale marker gone.

The app runs in live mode on real Redis, its HTTP clients pointed at FakeUpstream with short
timeouts and two attempts so a failing refresh takes a few seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.app import App, build_app
from handlers.registry import Chat
from handlers.reply import Reply
from services.families import FAMILIES
from services.settings import Secrets, Settings
from services.sources.live import LiveSourcesConfig
from tests.conftest import connect_real_redis, drop_prefix
from tests.sources.conftest import Canned, FakeUpstream
from tests.sources.test_live import local_config, serve_everything

pytestmark = pytest.mark.redis

# Each request's limit. A healthy stand-in answer took over 0.25 s under load (the suite on
# three workers beside two CPU hogs): the limit must leave room for that, and the "timeout"
# fault must outlast it.
TIMEOUT_S = 1.0
SOURCES: dict[str, tuple[str, ...]] = {  # source name -> the paths it requests
    "yahoo": ("/v8/finance/chart/",),
    "coingecko": ("/api/v3/",),
    "coingecko-markets": ("/api/v3/",),
    "defillama-stablecoins": ("/stablecoincharts/all", "/stablecoins"),
    "defillama-yields": ("/chart/",),
    "defillama-fees": ("/summary/fees/",),
    "fred": ("/graph/fredgraph.csv", "/fred/series/observations"),
    "sec": ("/api/xbrl/companyconcept/",),
}
COMMANDS = {"divergence": "/divergence", "btc": "/btc", "stablecoins": "/stablecoins",
            "yields": "/yields", "aitokens": "/aitokens", "usage": "/usage", "capex": "/capex"}
STALE = "⚠ stale"
RATE_LIMITED = b'{"status":{"error_code":429,"error_message":"You have exceeded the Rate Limit"}}'
HTML = b"<!DOCTYPE html><html><body><h1>Just a moment...</h1><p>Checking your browser</p>"


def _map_json(value: Any, leaf: Callable[[Any], Any], lists: Callable[[list[Any]], Any]) -> Any:
    if isinstance(value, list):
        return lists([_map_json(v, leaf, lists) for v in value])
    if isinstance(value, dict):
        return {k: _map_json(v, leaf, lists) for k, v in value.items()}
    return leaf(value)


def _reshaped(healthy: Canned, kind: str) -> Canned:
    """The recorded body with every array emptied ("empty") or every number nulled
    ("nulls"); FRED's CSV gets its header only, or '.' (its null) for every value."""
    if healthy.content_type == "text/csv":
        header, *rows = healthy.body.decode().splitlines()
        lines = [header] if kind == "empty" else [header, *(r.split(",")[0] + ",." for r in rows)]
        return Canned(("\n".join(lines) + "\n").encode(), content_type="text/csv")
    body = json.loads(healthy.body)
    if kind == "empty":
        body = _map_json(body, lambda v: v, lambda _items: [])
    else:
        body = _map_json(body, lambda v: None if isinstance(v, int | float) and not isinstance(
            v, bool) else v, lambda items: items)
    return Canned(json.dumps(body).encode())


Fault = Callable[[Canned], Canned]
FAULTS: dict[str, Fault] = {
    "timeout": lambda c: Canned(c.body, c.status, c.headers, c.content_type,
                                delay=TIMEOUT_S * 2.5),
    "429-retry-after": lambda _: Canned(RATE_LIMITED, 429, {"Retry-After": "0.05"}),
    "429-retry-after-beyond-cap": lambda _: Canned(RATE_LIMITED, 429, {"Retry-After": "3600"}),
    "429-no-retry-after": lambda _: Canned(RATE_LIMITED, 429),
    "5xx": lambda _: Canned(b'{"error":"upstream connect error"}', 503),
    "html": lambda _: Canned(HTML, 200, content_type="text/html"),
    "truncated": lambda c: Canned(c.body[: len(c.body) // 2], content_type=c.content_type),
    "empty-arrays": lambda c: _reshaped(c, "empty"),
    "nulls": lambda c: _reshaped(c, "nulls"),
}
ERROR_TYPE = {"timeout": "UpstreamUnreachable", "5xx": "UpstreamHTTPError", "html": "BadPayload",
              "truncated": "BadPayload", "empty-arrays": "BadPayload", "nulls": "BadPayload"}
# Sources whose parsers used to take an all-empty or all-null answer as "no news" (the source
# stayed "ok", its metrics were not marked stale); each must now fail with a BadPayload. See
# test_empty_or_null_answers_mark_the_source_failing.
SILENT = {
    "empty-arrays": ("coingecko", "defillama-stablecoins", "defillama-yields", "defillama-fees",
                     "fred", "sec"),
    "nulls": ("defillama-stablecoins", "defillama-yields", "fred", "sec"),
}


def fast_sources(url: str) -> LiveSourcesConfig:
    cfg = local_config(url)
    quick = {"timeout_seconds": TIMEOUT_S, "attempts": 2, "backoff_seconds": 0.01,
             "max_retry_after_seconds": 1.0}
    return cfg.model_copy(update={name: getattr(cfg, name).model_copy(update=quick)
                                  for name in ("yahoo", "coingecko", "defillama", "fred", "sec")})


@pytest.fixture
async def live_app(settings: Settings, upstream: FakeUpstream,
                   test_prefix: str) -> AsyncIterator[App]:
    redis = await connect_real_redis()
    live = settings.model_copy(update={
        "mode": "live", "sources": fast_sources(upstream.url),
        "store": settings.store.model_copy(update={"prefix": test_prefix})})
    app = await build_app(live, Secrets(), redis=redis)
    yield app
    await drop_prefix(redis, test_prefix)
    await app.aclose()


class Upstream:
    """FakeUpstream serving the recorded samples, with faults switched on per source."""

    def __init__(self, fake: FakeUpstream) -> None:
        serve_everything(fake)
        self.fake = fake
        self.healthy = {key: queue[0] for key, queue in fake.routes.items()}

    def break_(self, fault: Fault, sources: tuple[str, ...] = tuple(SOURCES),
               then_heal: bool = False) -> None:
        """Answer every request of these sources with the fault (once, when then_heal)."""
        for key, canned in self.healthy.items():
            if key[0].startswith(tuple(p for s in sources for p in SOURCES[s])):
                self.fake.routes[key] = [fault(canned), canned] if then_heal else [fault(canned)]

    def heal(self) -> None:
        self.fake.routes.update({key: [canned] for key, canned in self.healthy.items()})


async def ask(app: App, command: str) -> Reply:
    reply = await app.registry.run_text(app.context(Chat("telegram", "77")), command)
    assert not reply.error, f"{command}: {reply.title}"
    return reply


def is_stale(reply: Reply) -> bool:
    return any(note.startswith(STALE) for note in reply.notes)


async def status_of(app: App) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(/status providers: name -> (state, note), /status metrics: name -> state)."""
    reply = await ask(app, "/status")
    by_heading = {t.heading: t for t in reply.tables}
    metrics, providers = by_heading["Metrics"], by_heading["Providers"]
    return ({r[0].split(". ", 1)[1]: (r[1], r[4]) for r in providers.rows},
            {r[0]: r[1] for r in metrics.rows})


async def assert_all_fresh(app: App) -> None:
    sources, metrics = await status_of(app)
    assert set(sources) == set(SOURCES)
    assert {state for state, _ in sources.values()} == {"ok"}, sources
    assert set(metrics.values()) == {"fresh"}, metrics
    for family, command in COMMANDS.items():
        assert not is_stale(await ask(app, command)), f"{family} still marked stale"
    assert not is_stale(await ask(app, "/brief"))


async def payloads(app: App) -> dict[str, Any]:
    snaps = {f.name: await app.store.load_snapshot(f.name) for f in FAMILIES}
    return {name: snap.payload for name, snap in snaps.items() if snap is not None}


@pytest.mark.parametrize("kind", list(FAULTS))
async def test_every_provider_faulting_keeps_last_good_data_then_recovers(
        live_app: App, upstream: FakeUpstream, kind: str) -> None:
    stand_in = Upstream(upstream)
    assert (await live_app.refresh(force=True)).failed_providers == {}
    good = await payloads(live_app)

    stand_in.break_(FAULTS[kind])
    started = time.monotonic()
    result = await live_app.refresh(force=True)
    # Even a Retry-After of an hour is not waited out: over the cap, the source fails now.
    assert time.monotonic() - started < (3 if kind.endswith("beyond-cap") else 8)
    failing = set(SOURCES)
    assert failing <= set(result.failed_providers), result.failed_providers
    expected_type = ERROR_TYPE.get(kind, "RateLimited")
    for name in failing:
        assert result.failed_providers[name].startswith(expected_type), result.failed_providers
    assert await payloads(live_app) == good, "the last good data must be kept as it was"
    sources, metrics = await status_of(live_app)
    for name in failing:
        state, error = sources[name]
        assert state == "FAILING" and error, (name, sources[name])
    assert set(metrics.values()) == {"stale"}, metrics
    for command in COMMANDS.values():
        reply = await ask(live_app, command)
        assert is_stale(reply), f"{command} not marked stale after {kind}"
        assert "upstream failed" in " ".join(reply.notes), reply.notes
    assert is_stale(await ask(live_app, "/brief"))

    stand_in.heal()
    assert (await live_app.refresh(force=True)).failed_providers == {}
    await assert_all_fresh(live_app)


# CoinGecko's two providers (closes, market caps) share its paths and fail together.
TOGETHER = {"coingecko": {"coingecko", "coingecko-markets"},
            "coingecko-markets": {"coingecko", "coingecko-markets"}}
# One fault kind per provider, so each kind also runs against a single provider.
ALONE = {"yahoo": "empty-arrays", "coingecko": "nulls", "defillama-stablecoins": "html",
         "defillama-yields": "truncated", "defillama-fees": "5xx", "fred": "429-no-retry-after",
         "sec": "timeout"}


@pytest.mark.parametrize("source", list(ALONE))
async def test_one_provider_down_leaves_the_others_fresh(
        live_app: App, upstream: FakeUpstream, source: str) -> None:
    stand_in = Upstream(upstream)
    healthy = await live_app.refresh(force=True)
    stand_in.break_(FAULTS[ALONE[source]], (source,))
    result = await live_app.refresh(force=True)
    assert set(result.failed_providers) == TOGETHER.get(source, {source})
    lost = healthy.fresh_keys - result.fresh_keys
    assert lost, f"{source} provides no series?"
    hit = {f.name for f in FAMILIES if lost & set(f.inputs(live_app.settings.baskets))}
    assert set(result.families_stale) == hit
    sources, metrics = await status_of(live_app)
    assert {n for n, (state, _) in sources.items() if state == "FAILING"} == TOGETHER.get(
        source, {source})
    for family, command in COMMANDS.items():
        assert is_stale(await ask(live_app, command)) == (family in hit), command
        assert metrics[family] == ("stale" if family in hit else "fresh")
    # (Recovery of every provider from every fault kind is the test above.)


async def test_a_fault_that_clears_within_the_retries_is_not_stale(
        live_app: App, upstream: FakeUpstream) -> None:
    stand_in = Upstream(upstream)
    await live_app.refresh(force=True)
    for kind, sources in (("timeout", ("yahoo", "sec")), ("5xx", ("coingecko", "fred")),
                          ("429-retry-after", ("defillama-stablecoins",)),
                          ("429-no-retry-after", ("defillama-yields", "defillama-fees"))):
        stand_in.break_(FAULTS[kind], sources, then_heal=True)
    result = await live_app.refresh(force=True)
    assert result.failed_providers == {}
    await assert_all_fresh(live_app)


@pytest.mark.parametrize("kind", list(SILENT))
async def test_empty_or_null_answers_mark_the_source_failing(
        live_app: App, upstream: FakeUpstream, kind: str) -> None:
    """Only the silent sources get the fault, so none fails for another's sake."""
    stand_in = Upstream(upstream)
    await live_app.refresh(force=True)
    stand_in.break_(FAULTS[kind], SILENT[kind])
    result = await live_app.refresh(force=True)
    assert set(SILENT[kind]) <= set(result.failed_providers)
    for name in SILENT[kind]:
        reason = result.failed_providers[name]
        assert reason.startswith("BadPayload") and "\n" not in reason, reason
        assert "empty answer" in reason or "no values" in reason, reason
    sources, _ = await status_of(live_app)
    assert all(sources[name][0] == "FAILING" for name in SILENT[kind])
