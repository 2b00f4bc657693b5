"""Yahoo chart v8 against recorded responses."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from services.sources.http import BadPayload, UpstreamHTTPError
from services.sources.yahoo import DEFAULT_SYMBOLS, YahooSource, parse_chart
from tests.sources.conftest import (
    Canned,
    FakeUpstream,
    MakeClient,
    load,
    recorded,
    variant_truncated,
)

NVDA = "yahoo/chart_NVDA_1d_2021-02-01_2022-01-31_split.json"


def at(series: pd.Series, day: str) -> float:
    return float(series[pd.Timestamp(day)])


def test_nvda_closes_by_new_york_date_split_adjusted() -> None:
    out = parse_chart(load(NVDA), "NVDA")
    close, adj = out["NVDA"].values, out["NVDA_adj"].values
    assert len(close) == 252 and len(adj) == 252
    assert close.index[0] == pd.Timestamp("2021-02-01")
    assert close.index[-1] == pd.Timestamp("2022-01-28")
    assert at(close, "2021-02-01") == pytest.approx(13.237000465393066)  # split-adjusted
    assert at(adj, "2021-02-01") == pytest.approx(13.2034912109375)
    assert at(close, "2021-07-20") == pytest.approx(18.61199951171875)  # EDT bar, 13:30Z
    assert at(close, "2021-12-31") == pytest.approx(29.410999298095703)
    assert out["NVDA"].source == "Yahoo Finance"


@pytest.mark.parametrize("name", [
    "chart_MSFT_1d_2021-02-01_2022-01-31_dividends.json",
    "chart_AAPL_1d_2020-08-31_2020-11-07_div_split.json",
])
def test_other_recorded_us_charts_parse(name: str) -> None:
    body = load(f"yahoo/{name}")
    out = parse_chart(body, "X")
    assert len(out["X"].values) == len(body["chart"]["result"][0]["timestamp"])
    assert not out["X"].values.isna().any()


def test_asian_bar_at_0200_utc_is_the_local_trading_day() -> None:
    out = parse_chart(load("yahoo/chart_WSKT.JK_1d_2020-01-01_2020-01-03_asia.json"),
                      "000660.KS")
    assert out["000660.KS"].values.to_dict() == {pd.Timestamp("2020-01-02"): 1505.0}
    assert at(out["000660.KS_adj"].values, "2020-01-02") == pytest.approx(1497.776611328125)


def test_crypto_chart_uses_utc_days() -> None:
    out = parse_chart(load("yahoo/chart_BTC-USD_1d_2020-01-01_2020-01-03.json"), "BTC")
    assert list(out["BTC"].values.index.date) == [date(2020, 1, 1), date(2020, 1, 2),
                                                   date(2020, 1, 3)]
    assert at(out["BTC"].values, "2020-01-03") == pytest.approx(7344.88427734375)


def test_null_closes_are_dropped_not_zeroed() -> None:
    body = load(NVDA)
    quote = body["chart"]["result"][0]["indicators"]["quote"][0]
    quote["close"][1] = None  # 2021-02-02
    close = parse_chart(body, "NVDA")["NVDA"].values
    assert len(close) == 251
    assert pd.Timestamp("2021-02-02") not in close.index
    assert (close > 0).all()


def test_falls_back_to_gmtoffset_without_a_zone_name() -> None:
    body = load("yahoo/chart_WSKT.JK_1d_2020-01-01_2020-01-03_asia.json")
    del body["chart"]["result"][0]["meta"]["exchangeTimezoneName"]
    assert parse_chart(body, "K")["K"].first_date == date(2020, 1, 2)


@pytest.mark.parametrize(("rel", "match"), [
    ("yahoo/chart_error_404_not_found.json", "symbol may be delisted"),
    ("yahoo/chart_error_400_no_data_for_range.json", "Data doesn't exist"),
])
def test_chart_error_body_is_bad_payload(rel: str, match: str) -> None:
    with pytest.raises(BadPayload, match=match):
        parse_chart(load(rel), "X")


@pytest.mark.parametrize("body", [None, 0, {"chart": 0}, {"chart": {"result": []}},
                                  {"chart": {"result": [{"meta": {}}]}}])
def test_unexpected_shapes_are_bad_payload(body: object) -> None:
    with pytest.raises(BadPayload):
        parse_chart(body, "X")


def serve_session(upstream: FakeUpstream) -> None:
    """The cookie page (404 with the cookie, like fc.yahoo.com) and the crumb."""
    upstream.serve("/fc/", Canned(b"", 404, {"Set-Cookie": "A3=d=t; Path=/"}, "text/html"))
    upstream.serve("/v1/test/getcrumb", Canned(b"crumb-1", content_type="text/plain"))


def yahoo(make_client: MakeClient, upstream: FakeUpstream,
          symbols: dict[str, str] | None = None) -> YahooSource:
    return YahooSource(make_client("yahoo"), symbols, cookie_url=upstream.url + "/fc")


async def test_http_errors_are_typed_with_yahoo_message(upstream: FakeUpstream,
                                                        make_client: MakeClient) -> None:
    serve_session(upstream)
    upstream.serve("/v8/finance/chart/NVDA", recorded(NVDA))
    upstream.serve("/v8/finance/chart/INVALID.BO",
                   recorded("yahoo/chart_error_404_not_found.json", 404))
    upstream.serve("/v8/finance/chart/AMD", variant_truncated(NVDA))
    source = yahoo(make_client, upstream, {"NVDA": "NVDA", "INVALID.BO": "BAD"})
    with pytest.raises(UpstreamHTTPError, match="symbol may be delisted"):
        await yahoo(make_client, upstream, {"INVALID.BO": "BAD"}).fetch(date(2022, 2, 1))
    with pytest.raises(BadPayload, match="truncated"):
        await yahoo(make_client, upstream, {"AMD": "AMD"}).fetch(date(2022, 2, 1))
    # One bad symbol does not sink the others.
    assert set(await source.fetch(date(2022, 2, 1))) == {"NVDA", "NVDA_adj"}


async def test_full_fetch_returns_canonical_keys(upstream: FakeUpstream,
                                                 make_client: MakeClient) -> None:
    serve_session(upstream)
    for symbol in DEFAULT_SYMBOLS:  # the recorded NVDA body on every symbol's path
        upstream.serve(f"/v8/finance/chart/{symbol}", recorded(NVDA))
    data = await yahoo(make_client, upstream).fetch(date(2021, 12, 31))
    keys = {"NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS", "SPX"}
    assert set(data) == keys | {f"{k}_adj" for k in keys}
    assert data["SPX"].last_date == date(2021, 12, 31)  # nothing after asof
    hit = next(h for h in upstream.hits if h.path == "/v8/finance/chart/^GSPC")
    assert hit.query["interval"] == "1d"
    assert int(hit.query["period2"]) > int(hit.query["period1"])
    assert hit.query["crumb"] == "crumb-1"  # the cookie jar: tests/sources/test_chains.py
    assert sum(h.path == "/v1/test/getcrumb" for h in upstream.hits) == 1  # one handshake
