"""SEC companyfacts: YTD differencing checked by hand against the recorded SNOW file."""

from __future__ import annotations

import itertools
import json
from datetime import date

import pandas as pd
import pytest

from services.sources.http import BadPayload
from services.sources.sec import DEFAULT_COMPANIES, SecCapexSource, parse_companyfacts
from tests.sources.conftest import Canned, FakeUpstream, MakeClient, load

SNOW = "sec/companyfacts_SNOW_CIK0001640147_trimmed.json"
AMZN = "synthetic/sec/companyfacts_AMZN_synthetic.json"
UA = "flowwatch-tests ops@example.org"

# By hand from the file (fiscal years start Feb 1; 10-Q facts are year-to-date):
SNOW_QUARTERS = {
    "2020-01-31": 18_583_000 - 14_504_000,  # FY - 9M (no 6M fact: Q3 of that year is absent)
    "2020-04-30": 2_033_000,
    "2020-07-31": 6_748_000 - 2_033_000,
    "2020-10-31": 24_018_000 - 6_748_000,
    "2021-01-31": 35_037_000 - 24_018_000,
    "2021-04-30": 6_430_000,
    "2021-07-31": 9_927_000 - 6_430_000,
    "2021-10-31": 12_209_000 - 9_927_000,
    "2022-01-31": 16_221_000 - 12_209_000,
    "2022-04-30": 7_413_000,
    "2022-07-31": 11_261_000 - 7_413_000,
    "2022-10-31": 19_766_000 - 11_261_000,
    "2023-01-31": 25_128_000 - 19_766_000,
    "2023-04-30": 6_970_000,
    "2023-07-31": 13_268_000 - 6_970_000,
    "2023-10-31": 22_014_000 - 13_268_000,
    "2024-01-31": 35_086_000 - 22_014_000,
    "2024-04-30": 16_519_000,
    "2024-07-31": 21_562_000 - 16_519_000,
    "2024-10-31": 35_002_000 - 21_562_000,
    "2025-01-31": 46_279_000 - 35_002_000,
    "2025-04-30": 44_989_000,
}


def test_snow_quarters_by_ytd_differencing() -> None:
    ts = parse_companyfacts(load(SNOW), "capex.SNOW")
    expected = {pd.Timestamp(k): float(v) for k, v in SNOW_QUARTERS.items()}
    assert ts.values.to_dict() == expected
    assert ts.values[pd.Timestamp("2023-01-31")] == 5_362_000
    assert ts.source == "SEC EDGAR XBRL"


def test_snow_as_known_on_a_past_date() -> None:
    ts = parse_companyfacts(load(SNOW), "capex.SNOW", asof=date(2024, 9, 1))
    assert ts.last_date == date(2024, 7, 31)
    assert ts.values[pd.Timestamp("2024-07-31")] == 21_562_000 - 16_519_000


def test_latest_filing_wins_and_concept_preference() -> None:
    concepts = ("PaymentsToAcquireProductiveAssets",
                "PaymentsToAcquirePropertyPlantAndEquipment")
    ts = parse_companyfacts(load(AMZN), "capex.AMZN", concepts)
    assert ts.values.to_dict() == {
        pd.Timestamp("2024-12-31"): 27.8e9,  # only the PP&E concept has it: fallback
        pd.Timestamp("2025-03-31"): 25e9,  # ProductiveAssets preferred over PP&E's 1
        pd.Timestamp("2025-06-30"): 32e9,  # the direct 3-month fact (= 57 - 25)
        pd.Timestamp("2025-09-30"): 92.5e9 - 57e9,  # 9M restated in a later filing
        pd.Timestamp("2025-12-31"): 131e9 - 92.5e9,
    }
    before = parse_companyfacts(load(AMZN), "capex.AMZN", concepts, asof=date(2026, 3, 1))
    assert before.values[pd.Timestamp("2025-09-30")] == 92e9 - 57e9  # restatement unknown yet


@pytest.mark.parametrize("body", [
    {"cik": 1, "facts": {"us-gaap": {}}},
    {"cik": 1, "facts": 0},
    {"cik": 1, "facts": {"us-gaap": {
        "PaymentsToAcquirePropertyPlantAndEquipment": {"units": {"shares": []}}}}},
    {"cik": 1, "facts": {"us-gaap": {"PaymentsToAcquirePropertyPlantAndEquipment": {
        "units": {"USD": [{"start": "2020-01-01", "end": "x", "val": 1, "filed": "x"}]}}}}},
])
def test_bad_companyfacts(body: object) -> None:
    with pytest.raises(BadPayload):
        parse_companyfacts(body, "capex.X")


def test_user_agent_is_mandatory(make_client: MakeClient) -> None:
    for agent in ("", "python-aiohttp", "ops@example.org"):
        with pytest.raises(ValueError, match="User-Agent"):
            SecCapexSource(make_client("sec"), agent)


async def test_full_fetch_returns_canonical_keys(upstream: FakeUpstream,
                                                 make_client: MakeClient) -> None:
    for cik, body in (("0001018724", AMZN), ("0000789019", SNOW), ("0001652044", SNOW),
                      ("0001326801", SNOW)):  # the recorded SNOW facts reused
        for tag, concept in load(body)["facts"]["us-gaap"].items():
            # companyconcept is companyfacts' one concept (SEC API docs), cut out here
            upstream.serve(f"/api/xbrl/companyconcept/CIK{cik}/us-gaap/{tag}.json", Canned(
                json.dumps({"cik": int(cik), "taxonomy": "us-gaap", "tag": tag,
                            "units": concept["units"]}).encode()))
    source = SecCapexSource(make_client("sec", min_interval=0.1), UA)
    data = await source.fetch(date(2026, 6, 30))
    assert set(data) == {f"capex.{t}" for t in DEFAULT_COMPANIES}
    assert data["capex.AMZN"].values[pd.Timestamp("2025-03-31")] == 25e9
    assert all(h.headers["User-Agent"] == UA for h in upstream.hits)
    times = sorted(h.at for h in upstream.hits)
    assert all(b - a >= 0.1 - 0.01 for a, b in itertools.pairwise(times))
