"""FRED: keyless fredgraph.csv and the JSON API against recorded responses."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from services.sources.fred import FredSource, parse_fredgraph_csv, parse_observations
from services.sources.http import BadPayload, UpstreamHTTPError
from tests.sources.conftest import (
    FakeUpstream,
    MakeClient,
    load,
    recorded,
    text,
    variant_header,
)

DTB3 = "fred/fredgraph_DTB3_2000-01-03_2026-01-29.csv"


def test_dtb3_csv_values_and_skipped_holidays() -> None:
    ts, skipped = parse_fredgraph_csv(text(DTB3), "DTB3", "rates.tbill_3m")
    assert skipped == 283  # empty cells in the recorded file
    assert len(ts.values) == 6804 - 283
    assert ts.values[pd.Timestamp("2023-06-01")] == 5.24
    assert ts.values[pd.Timestamp("2026-01-29")] == 3.59
    assert pd.Timestamp("2024-12-25") not in ts.values.index
    assert ts.source == "FRED DTB3"


def test_old_csv_format_with_dots() -> None:
    ts, skipped = parse_fredgraph_csv(text("synthetic/fred/fredgraph_DTB3_old_format.csv"),
                                      "DTB3", "k")
    assert skipped == 1
    assert ts.values.to_dict() == {pd.Timestamp("2024-12-24"): 4.28,
                                   pd.Timestamp("2024-12-26"): 4.24}


@pytest.mark.parametrize("header", ["date,value", "observation_date,DGS3MO", "DTB3", ""])
def test_changed_csv_header_is_bad_payload(header: str) -> None:
    body = variant_header(DTB3, header).body.decode()
    with pytest.raises(BadPayload, match="unexpected header"):
        parse_fredgraph_csv(body, "DTB3", "k")


def test_csv_bad_cell_is_bad_payload() -> None:
    with pytest.raises(BadPayload, match="bad value 'n/a'"):
        parse_fredgraph_csv("observation_date,DTB3\n2024-01-02,n/a\n", "DTB3", "k")


def test_json_observations_strings_and_dot_holidays() -> None:
    pairs, skipped, count = parse_observations(
        load("fred/series_observations_T10Y3M_daily_2023H1.json"), "T10Y3M")
    assert (len(pairs), skipped, count) == (108, 4, 112)
    assert pairs[0] == (date(2023, 1, 3), -0.74)  # 2023-01-02 was "."
    assert pairs[-1] == (date(2023, 6, 6), -1.74)


@pytest.mark.parametrize(("rel", "n"), [
    ("fred/series_observations_TB3SMFFM_monthly_2023H1.json", 6),
    ("fred/series_observations_FEDFUNDS_monthly.json", 790),
    ("fred/series_observations_empty_future_start.json", 0),
])
def test_other_recorded_json(rel: str, n: int) -> None:
    pairs, _, _ = parse_observations(load(rel), "X")
    assert len(pairs) == n


def test_json_error_body_is_bad_payload() -> None:
    with pytest.raises(BadPayload, match="observations"):
        parse_observations(load("fred/error_400_bad_series_id.json"), "bad")


async def test_keyless_csv_fetch(upstream: FakeUpstream, make_client: MakeClient) -> None:
    upstream.serve("/graph/fredgraph.csv", recorded(DTB3))
    data = await FredSource(make_client("fred")).fetch(date(2026, 1, 28))
    assert set(data) == {"rates.tbill_3m"}
    assert data["rates.tbill_3m"].last_date == date(2026, 1, 28)
    assert upstream.hits[0].query["id"] == "DTB3"


async def test_json_api_pages_until_count(upstream: FakeUpstream,
                                          make_client: MakeClient) -> None:
    paged = load("fred/series_observations_GNPCA_limit20_paged.json")  # count 91, 20 came
    upstream.serve("/fred/series/observations", recorded(
        "fred/series_observations_GNPCA_limit20_paged.json"))
    source = FredSource(make_client("fred"), "GNPCA", "gnp", api_key="KEY",
                        api_base_url=upstream.url, history_days=40000)
    data = await source.fetch(date(2020, 5, 19))
    offsets = [h.query["offset"] for h in upstream.hits]
    assert offsets == ["0", "20", "40", "60", "80"]  # the same page again, asked 5 times
    assert len(data["gnp"].values) == len({o["date"] for o in paged["observations"]})
    assert all(h.query["api_key"] == "KEY" and h.query["file_type"] == "json"
               for h in upstream.hits)


async def test_json_api_400_is_typed(upstream: FakeUpstream, make_client: MakeClient) -> None:
    upstream.serve("/fred/series/observations",
                   recorded("fred/error_400_bad_series_id.json", 400))
    source = FredSource(make_client("fred"), "bad_series_id", "k", api_key="KEY",
                        api_base_url=upstream.url)
    with pytest.raises(UpstreamHTTPError, match="Invalid value for variable series_id"):
        await source.fetch(date(2024, 1, 2))
