"""The store against real Redis and the embedded store: same behaviour on both."""

import pytest

from services.store import MetricStore, Snapshot, SourceStatus
from tests.helpers import series


def _snap(stale: bool = False) -> Snapshot:
    return Snapshot("btc", "2026-05-29", "2026-05-29 10:00:00 UTC", ("Coinbase",), stale, "",
                    {"default": {"price": 73367.2}})


async def test_snapshot_round_trip(store: MetricStore) -> None:
    await store.save_snapshot(_snap())
    loaded = await store.load_snapshot("btc")
    assert loaded == _snap()
    assert await store.load_snapshot("divergence") is None


async def test_mark_stale_keeps_last_good_values(store: MetricStore) -> None:
    assert not await store.mark_stale("btc", "upstream down")
    await store.save_snapshot(_snap())
    assert await store.mark_stale("btc", "upstream down")
    loaded = await store.load_snapshot("btc")
    assert loaded is not None
    assert loaded.stale and loaded.stale_reason == "upstream down"
    assert loaded.payload == {"default": {"price": 73367.2}}


async def test_history_round_trip_is_exact(store: MetricStore) -> None:
    btc = series("BTC", {"2024-01-01": 42280.5, "2024-01-02": 44950.1, "2024-02-29": 61000.0},
                 "Coinbase")
    await store.save_history({"BTC": btc})
    loaded = await store.load_history(["BTC", "ETH"])
    assert list(loaded) == ["BTC"]
    assert loaded["BTC"].source == "Coinbase"
    assert loaded["BTC"].values.equals(btc.values)


async def test_keys_use_prefix_and_hash_tag(store: MetricStore) -> None:
    await store.save_snapshot(_snap())
    keys = [k async for k in store.redis.scan_iter(match=f"{store.keys.prefix}*")]
    assert keys == [f"{store.keys.prefix}{{m}}:snap:btc"]


async def test_source_status_round_trip(store: MetricStore) -> None:
    status = SourceStatus("snapshot", False, "t1", "t0", "2026-05-29", "boom")
    await store.save_source_status(status)
    assert await store.load_source_status("snapshot") == status
    assert await store.load_source_statuses() == [status]


@pytest.mark.parametrize("family", ["divergence", "capex"])
async def test_missing_snapshot_is_none(store: MetricStore, family: str) -> None:
    assert await store.load_snapshot(family) is None
