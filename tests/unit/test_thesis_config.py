"""Thesis claims in config.yaml: parsing, user-defined and disabled claims, thesis.<n> ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from services.alerts.rules import RuleError, parse_rule
from services.engine import build_catalog
from services.settings import ConfigError, Settings, settings_from_dict
from services.thesis.config import DEFAULT_CLAIMS, split_rules
from services.thesis.verdicts import flips, rule_verdicts

ROOT = Path(__file__).resolve().parents[2]


def test_default_claims_are_thesis_metrics_of_the_catalog() -> None:
    settings = Settings()
    catalog = build_catalog(settings.baskets, settings.thesis)
    assert {f"thesis.{n}" for n in range(1, 8)} <= set(catalog)
    assert catalog["thesis.3"].unit == "verdict"
    assert parse_rule("thesis.3 crosses_below 1", catalog).metric == "thesis.3"


def test_claims_join_rules_with_and() -> None:
    rules = split_rules("btc.ytd below 0 and spx.ytd above 0")
    assert [(r.metric, r.condition, r.value) for r in rules] == [
        ("btc.ytd", "below", 0.0), ("spx.ytd", "above", 0.0)]


@pytest.mark.parametrize(("rule", "problem"), [
    ("btc.ytd below 0 and", "empty part"),
    ("btc.ytd sideways 0", "unknown condition 'sideways'"),
    ("thesis.1 above 0", "cannot use another claim"),
])
def test_bad_claim_rules_name_the_problem(rule: str, problem: str) -> None:
    with pytest.raises(RuleError, match=problem):
        split_rules(rule)


def _config(claims: list[dict[str, object]]) -> Settings:
    return settings_from_dict({"thesis": {"claims": claims}}, root=ROOT)


def test_user_defined_and_disabled_claims() -> None:
    claims = [c.model_dump() for c in DEFAULT_CLAIMS]
    claims[4]["enabled"] = False
    claims.append({"n": 12, "title": "ETH is below half its peak",
                   "rule": "eth.drawdown below -50", "show": ["eth.drawdown", "eth.price"]})
    settings = _config(claims)
    assert [c.n for c in settings.thesis.enabled()] == [1, 2, 3, 4, 6, 7, 12]
    catalog = build_catalog(settings.baskets, settings.thesis)
    assert "thesis.12" in catalog and "thesis.5" not in catalog
    assert settings.thesis.claim(5) is None
    with pytest.raises(RuleError, match=r"unknown metric 'thesis\.5'"):
        parse_rule("thesis.5 crosses_below 1", catalog)
    # Building a catalog changes nothing shared: the default one still has claim 5.
    assert "thesis.5" in build_catalog(Settings().baskets, Settings().thesis)


def test_an_alert_default_may_use_a_claim() -> None:
    raw = {"thesis": {"claims": [{"n": 4, "title": "t", "rule": "btc.ytd below 0"}]},
           "alerts": {"defaults": [{"id": "claim-4", "rule": "thesis.4 crosses_below 1"}]}}
    settings = settings_from_dict(raw, root=ROOT)
    assert settings.alerts.defaults[0].parsed().metric == "thesis.4"


def test_an_alert_default_over_a_disabled_claim_is_a_config_error() -> None:
    raw = {"thesis": {"claims": [{"n": 4, "title": "t", "rule": "btc.ytd below 0",
                                  "enabled": False}]},
           "alerts": {"defaults": [{"id": "claim-4", "rule": "thesis.4 crosses_below 1"}]}}
    with pytest.raises(ConfigError, match=r"unknown metric 'thesis\.4'"):
        settings_from_dict(raw, root=ROOT)


@pytest.mark.parametrize(("claims", "message"), [
    ([{"n": 1, "title": "a", "rule": "btc.ytd below 0"},
      {"n": 1, "title": "b", "rule": "btc.ytd above 0"}], "claim number 1 appears twice"),
    ([{"n": 1, "title": "a", "rule": "btc.ytd belw 0"}], "claim 1: unknown condition"),
    ([{"n": 1, "title": "a", "rule": "btc.ytd below 0", "show": ["nope"]}],
     "unknown metric 'nope'"),
    ([{"n": 0, "title": "a", "rule": "btc.ytd below 0"}], "thesis.claims.0.n"),
])
def test_bad_claims_are_config_errors(claims: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(claims)


def _series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2025-01-01", periods=len(values)))


def test_a_rule_holds_while_it_is_firing() -> None:
    verdicts = rule_verdicts(parse_rule("btc.ytd above 0"), _series([-1, 1, 2, -1, 3]))
    assert verdicts.tolist() == [0, 1, 1, 0, 1]


def test_hysteresis_keeps_a_verdict_until_the_value_comes_back_far_enough() -> None:
    rule = parse_rule("btc.ytd above 0 hysteresis=5")
    verdicts = rule_verdicts(rule, _series([1, -2, -6, 1]))
    assert verdicts.tolist() == [1, 1, 0, 1]
    assert [(f.day.isoformat(), f.holds) for f in flips(verdicts)] == [
        ("2025-01-01", True), ("2025-01-03", False), ("2025-01-04", True)]


def test_for_delays_the_verdict_like_the_alert_would() -> None:
    rule = parse_rule("btc.ytd above 0 for=2d")
    assert rule_verdicts(rule, _series([1, 1, 1, -1])).tolist() == [0, 0, 1, 0]
