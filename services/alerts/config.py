"""The `alerts:` section of config.yaml: default rules (one per thesis signal) and caps."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.alerts.rules import Rule, RuleError, parse_rule

DEFAULT_ID = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
CUSTOM_ID = re.compile(r"^c\d+$")  # ids of per-chat custom rules


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultRule(_Strict):
    id: str
    rule: str
    description: str = ""

    @field_validator("id")
    @classmethod
    def _plain_id(cls, v: str) -> str:
        if not DEFAULT_ID.match(v) or CUSTOM_ID.match(v):
            raise ValueError(f"rule id {v!r} must be lower-case letters, digits and '-', "
                             "start with a letter and not look like a custom id (c12)")
        return v

    @model_validator(mode="after")
    def _parses(self) -> DefaultRule:
        try:
            parse_rule(self.rule)
        except RuleError as exc:
            raise ValueError(f"rule {self.id!r}: {exc.problem}") from None
        return self

    def parsed(self) -> Rule:
        return parse_rule(self.rule)


THESIS_DEFAULTS = (
    DefaultRule(id="divergence",
                rule="spread(ai_basket.ytd, crypto_basket.ytd) crosses_above 100 "
                     "hysteresis=10 resolved=on",
                description="AI chip basket leads the crypto basket by 100 pp this year"),
    DefaultRule(id="btc-drawdown", rule="btc.drawdown crosses_below -30 hysteresis=5 "
                                        "resolved=on",
                description="Bitcoin more than 30% below its all-time high"),
    DefaultRule(id="stablecoins-ath", rule="stablecoins.supply new_ath hysteresis=2 "
                                           "cooldown=7d",
                description="Stablecoin supply at a new all-time high"),
    DefaultRule(id="defi-vs-tbill", rule="yields.spread crosses_below 0 for=7d "
                                         "hysteresis=50 resolved=on",
                description="DeFi USDC lending pays less than 3-month T-bills"),
    DefaultRule(id="aitokens-drawdown", rule="aitokens.median_drawdown crosses_below -50 "
                                             "hysteresis=5 resolved=on",
                description="The median AI token more than 50% below its peak"),
)


class AlertsConfig(_Strict):
    defaults: list[DefaultRule] = list(THESIS_DEFAULTS)
    max_custom_rules_per_chat: int = Field(20, ge=0, le=1000)
    max_alerts_per_day: int = Field(50, ge=1, le=10000)

    @field_validator("defaults")
    @classmethod
    def _unique_ids(cls, v: list[DefaultRule]) -> list[DefaultRule]:
        seen: set[str] = set()
        for item in v:
            if item.id in seen:
                raise ValueError(f"rule id {item.id!r} appears twice")
            seen.add(item.id)
        return v
