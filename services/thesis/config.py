"""The `thesis:` section of config.yaml: the claims, each one or more alert-grammar rules.

A claim holds on a date when every one of its rules ("<rule> and <rule>") is firing there,
as the alert evaluator would have it after replaying history. Users edit, add (any free
number) or disable claims; `thesis.<n>` becomes an alert metric for each enabled claim.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.alerts.rules import Rule, RuleError, parse_rule
from services.metrics.catalog import BASE_IDS, THESIS_PREFIX
from services.thesis.published import Published
from services.thesis.seeds import PUBLISHED

JOIN = " and "
PREFIX = THESIS_PREFIX


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def split_rules(text: str) -> tuple[Rule, ...]:
    """'a above 0 and b below 0' -> (Rule, Rule); RuleError names the bad part."""
    parts = [p.strip() for p in f" {text.lower()} ".split(JOIN)]
    if any(not p for p in parts):
        raise RuleError(f"empty part in '{text.strip()[:60]}' (join rules with ' and ')")
    rules = tuple(parse_rule(p) for p in parts)
    for rule in rules:
        if any(m.startswith(PREFIX) for m in rule.metrics):
            raise RuleError(f"a claim cannot use another claim ({rule.subject})")
    return rules


class Claim(_Strict):
    n: int = Field(ge=1, le=99)
    title: str = Field(min_length=1, max_length=120)
    rule: str
    show: list[str] = []  # metric ids whose values back the verdict up
    enabled: bool = True
    no_data: str = ""  # why a verdict may be missing, shown instead of numbers
    published: list[Published] = []  # figures the articles published, checked by /thesis n

    @model_validator(mode="after")
    def _valid(self) -> Claim:
        try:
            split_rules(self.rule)
        except RuleError as exc:
            raise ValueError(f"claim {self.n}: {exc.problem}") from None
        unknown = [m for m in [*self.show, *(p.metric for p in self.published)]
                   if m not in BASE_IDS]
        if unknown:
            raise ValueError(f"claim {self.n}: unknown metric {unknown[0]!r} in show")
        return self

    def rules(self) -> tuple[Rule, ...]:
        return split_rules(self.rule)

    @property
    def metric_id(self) -> str:
        return f"{PREFIX}{self.n}"


DEFAULT_CLAIMS = (
    Claim(n=1, title="AI chip and memory stocks have outrun crypto since January 2024",
          rule="divergence.spread.since above 0",
          show=["divergence.spread.since", "ai_basket.since", "crypto_basket.since"],
          published=PUBLISHED[1]),
    Claim(n=2, title="Bitcoin is down year to date while the S&P 500 is up",
          rule="btc.ytd below 0 and spx.ytd above 0", show=["btc.ytd", "spx.ytd"],
          published=PUBLISHED[2]),
    Claim(n=3, title="Stablecoin supply is at or within 2% of its all-time high",
          rule="stablecoins.drawdown above -2",
          show=["stablecoins.supply", "stablecoins.drawdown"], published=PUBLISHED[3]),
    Claim(n=4, title="DeFi stablecoin lending yields have compressed to T-bill levels",
          rule="yields.spread below 100",
          show=["yields.spread", "yields.defi_usdc", "yields.tbill_apy", "yields.tbill_3m"]),
    Claim(n=5, title="The AI-token sector is more than 50% below its peak",
          rule="aitokens.median_drawdown below -50",
          show=["aitokens.median_drawdown", "aitokens.below_half", "aitokens.drawdown"],
          published=PUBLISHED[5]),
    Claim(n=6, title="One quarter of hyperscaler capex exceeds the whole AI-token sector's "
                     "market cap",
          rule="capex.to_sector_cap above 1", show=["capex.to_sector_cap",
                                                     "aitokens.sector_cap"],
          no_data="no source gives the AI-token sector market cap at this date",
          published=PUBLISHED[6]),
    Claim(n=7, title="Usage-backed AI tokens (with fees) beat the rest over 90 days",
          rule="aitokens.usage_edge_90d above 0", show=["aitokens.usage_edge_90d"],
          no_data="the fees source does not split the AI tokens into usage-backed and "
                  "narrative ones at this date"),
)


class ThesisConfig(_Strict):
    claims: list[Claim] = list(DEFAULT_CLAIMS)

    @field_validator("claims")
    @classmethod
    def _unique(cls, v: list[Claim]) -> list[Claim]:
        seen: set[int] = set()
        for claim in v:
            if claim.n in seen:
                raise ValueError(f"claim number {claim.n} appears twice")
            seen.add(claim.n)
        return sorted(v, key=lambda c: c.n)

    def enabled(self) -> list[Claim]:
        return [c for c in self.claims if c.enabled]

    def claim(self, n: int) -> Claim | None:
        return next((c for c in self.enabled() if c.n == n), None)
