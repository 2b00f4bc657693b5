"""The one metric catalog of a running app: base metrics over the configured baskets plus a
`thesis.<n>` metric per enabled claim. Built once by the composition root (bot/app.py)."""

from __future__ import annotations

from services.baskets import Baskets
from services.metrics.catalog import MetricCatalog, base_defs
from services.thesis.config import ThesisConfig
from services.thesis.metrics import claim_metric


def build_catalog(baskets: Baskets, thesis: ThesisConfig) -> MetricCatalog:
    base = MetricCatalog(base_defs(baskets))
    claims = [claim_metric(c, base) for c in thesis.enabled()]
    return MetricCatalog([*base.values(), *claims])
