"""The rule grammar: canonical text round-trips, errors name the bad token, config validation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.alerts.config import AlertsConfig
from services.alerts.rules import GRAMMAR, Rule, RuleError, parse_rule
from services.baskets import Baskets
from services.catalog import ASSETS
from services.metrics.catalog import MetricCatalog, base_defs
from services.settings import ConfigError, Settings, settings_from_dict

CANONICAL = [
    "btc.drawdown below -20",
    "btc.price above 100000",
    "eth.price crosses_above 4000.5",
    "btc.drawdown crosses_below -30 for=2d cooldown=6h hysteresis=5 resolved=on",
    "btc.price change_down 10 in 7d",
    "nvda.price change_up 25 in 90d cooldown=30m",
    "stablecoins.supply new_ath",
    "yields.spread enters -50..0",
    "aitokens.drawdown exits -60..-40 hysteresis=2",
    "spread(ai_basket.ytd, crypto_basket.ytd) above 100",
    "000660.ks.drawdown below -10",
]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_text_round_trips(text: str) -> None:
    rule = parse_rule(text)
    assert rule.describe() == text
    assert parse_rule(rule.describe()) == rule


def test_parsed_fields() -> None:
    rule = parse_rule("  SPREAD( ai_basket.ytd ,crypto_basket.ytd )  crosses_above 100 "
                      "for=2d cooldown=1w hysteresis=10 resolved=off")
    assert rule == Rule(metric="ai_basket.ytd", other="crypto_basket.ytd",
                        condition="crosses_above", value=100.0, hold=timedelta(days=2),
                        cooldown=timedelta(days=7), hysteresis=10.0, resolved=False)
    assert rule.describe() == ("spread(ai_basket.ytd, crypto_basket.ytd) crosses_above 100 "
                               "for=2d cooldown=7d hysteresis=10")
    change = parse_rule("btc.price change_up 5 in 2w")
    assert (change.value, change.window) == (5.0, timedelta(days=14))


def test_every_contract_metric_exists() -> None:
    contract = {"btc.price", "btc.drawdown", "btc.ytd", "eth.price", "spx.ytd",
                "divergence.spread.ytd", "divergence.spread.since", "ai_basket.ytd",
                "crypto_basket.ytd", "stablecoins.supply", "stablecoins.change_30d",
                "yields.tbill_3m", "yields.spread", "aitokens.index", "aitokens.median_drawdown"}
    assets = {f"{k.lower()}.{m}" for k in ASSETS for m in ("price", "drawdown")}
    METRICS = MetricCatalog(base_defs(Baskets()))
    assert contract | assets <= set(METRICS)
    assert METRICS["stablecoins.supply"].unit == "USD bn"
    assert METRICS["yields.spread"].unit == "bp"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("btc.prise above 3", "unknown metric 'btc.prise' (did you mean btc.price?)"),
        ("btc.price abov 3", "unknown condition 'abov' (did you mean above?)"),
        ("btc.price above lots", "bad number 'lots'"),
        ("btc.price above", "'above' needs a value"),
        ("btc.price", "missing condition after 'btc.price'"),
        ("btc.price above 3 for=2days", "bad for '2days'"),
        ("btc.price above 3 cooldown=", "bad cooldown ''"),
        ("btc.price above 3 colour=red", "unexpected 'colour=red'"),
        ("btc.price above 3 4", "unexpected '4'"),
        ("btc.price above 3 for=1d for=2d", "option 'for' given twice"),
        ("btc.price above 3 resolved=yes", "bad resolved 'yes'"),
        ("btc.price above 3 hysteresis=-1", "hysteresis '-1' must not be negative"),
        ("btc.price change_up 5 7d", "expected 'in W' after 'change_up 5'"),
        ("btc.price change_up 5 in 6h", "window '6h' must be whole days"),
        ("btc.price change_down -5 in 7d", "percent '-5' must be above 0"),
        ("btc.price enters 5..1", "range '5..1' must go from low to high"),
        ("btc.price enters 5", "bad range '5'"),
        ("btc.price exits 0..10 hysteresis=5", "hysteresis=5 leaves no room"),
        ("spread(btc.price) above 1", "bad spread"),
        ("spread(btc.price, eth.prize) above 1", "unknown metric 'eth.prize'"),
        ("", "empty rule"),
    ],
)
def test_malformed_rule_names_the_token_and_gives_one_working_example(text: str,
                                                                     names: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    message = str(caught.value)
    assert message.startswith(names)
    example = message.rsplit("; e.g. ", 1)[1]
    parse_rule(example)  # the example works
    assert "\n" not in message and len(message) <= 160 and GRAMMAR not in message


@pytest.mark.parametrize(("typed", "canonical"), [
    ("btc above 100000", "btc.price above 100000"),
    ("btc above 100k", "btc.price above 100000"),
    ("BTC > 100,000", "btc.price above 100000"),
    ("btc>1.5m", "btc.price above 1500000"),
    ("btc >= 95k", "btc.price above 95000"),
    ("btc drawdown < -30%", "btc.drawdown below -30"),
    ("btc drawdown <= -30", "btc.drawdown below -30"),
    ("btc ytd crosses below -10", "btc.ytd crosses_below -10"),
    ("bitcoin falls below 60k repeat=1d", "btc.price crosses_below 60000 repeat=1d"),
    ("nvda rises above $150", "nvda.price crosses_above 150"),
    ("stablecoins crosses above 320b", "stablecoins.supply crosses_above 320"),
    ("stablecoins new high", "stablecoins.supply new_ath"),
    ("yields.spread enters -50..0 hysteresis=10", "yields.spread enters -50..0 hysteresis=10"),
])
def test_rules_as_people_type_them(typed: str, canonical: str) -> None:
    assert parse_rule(typed).describe() == canonical


@pytest.mark.parametrize("bad", ["btc above 1,00", "btc above 10kk", "btc above 1..2"])
def test_numbers_that_mean_nothing_are_refused(bad: str) -> None:
    with pytest.raises(RuleError, match=r"bad number|bad range|unexpected"):
        parse_rule(bad)


def test_default_config_has_one_rule_per_thesis_signal() -> None:
    config = AlertsConfig()
    metrics = {d.parsed().metric for d in config.defaults}
    assert {"ai_basket.ytd", "btc.drawdown", "stablecoins.supply", "yields.spread",
            "aitokens.median_drawdown"} == metrics
    assert config.max_custom_rules_per_chat == 20
    assert config.max_alerts_per_day == 50
    assert all(d.description for d in config.defaults)


def test_config_errors_name_the_rule_and_token() -> None:
    with pytest.raises(ValidationError) as caught:
        AlertsConfig(defaults=[{"id": "btc", "rule": "btc.prise below -20"}])  # type: ignore[list-item]
    assert "rule 'btc': unknown metric 'btc.prise'" in str(caught.value)
    with pytest.raises(ValidationError, match="appears twice"):
        AlertsConfig(defaults=[{"id": "a", "rule": "btc.price above 1"},  # type: ignore[list-item]
                               {"id": "a", "rule": "btc.price above 2"}])
    with pytest.raises(ValidationError, match="custom id"):
        AlertsConfig(defaults=[{"id": "c12", "rule": "btc.price above 1"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="Extra inputs"):
        AlertsConfig(defaults=[], max_rules=3)  # type: ignore[call-arg]


def test_config_yaml_alert_errors_name_key_and_rule() -> None:
    assert "alerts" in Settings.model_fields
    with pytest.raises(ConfigError, match=r"alerts\.defaults\.0.*rule 'x'.*btc\.prise"):
        settings_from_dict({"alerts": {"defaults": [{"id": "x", "rule": "btc.prise above 1"}]}},
                           root=Path())
