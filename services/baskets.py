"""Which assets make up each basket (the `baskets:` section of config.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.catalog import ASSETS, CAPEX_COMPANIES


def _known_assets(keys: list[str]) -> list[str]:
    unknown = [k for k in keys if k not in ASSETS]
    if unknown:
        raise ValueError(f"unknown asset {unknown[0]!r}; known: {', '.join(ASSETS)}")
    return keys


class Baskets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ai: list[str] = ["NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS"]
    crypto: list[str] = ["BTC", "ETH"]
    benchmark: str = "SPX"
    aitokens: list[str] = ["TAO", "NEAR", "ICP", "RENDER", "FET", "WLD", "VIRTUAL", "VVV"]
    capex: list[str] = list(CAPEX_COMPANIES)
    # The share of `aitokens` a sector figure needs: the index needs that many tokens with a
    # current close, the median drawdown that many with a close on record; else withheld.
    min_coverage: float = Field(0.5, gt=0, le=1)

    _check = field_validator("ai", "crypto", "aitokens")(_known_assets)

    @field_validator("benchmark")
    @classmethod
    def _benchmark_known(cls, v: str) -> str:
        _known_assets([v])
        return v

    @field_validator("capex")
    @classmethod
    def _capex_known(cls, v: list[str]) -> list[str]:
        unknown = [k for k in v if k not in CAPEX_COMPANIES]
        if unknown:
            known = ", ".join(CAPEX_COMPANIES)
            raise ValueError(f"unknown company {unknown[0]!r}; known: {known}")
        return v
