"""/alert metrics: the metric ids rules can watch, grouped by family so a phone shows them on
one screen; `/alert metrics <family>` gives each metric's unit and meaning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from handlers.errors import UserError
from handlers.reply import Reply, Table
from services.alerts.guided import families

USAGE = "/alert metrics [family]"


class Metric(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def description(self) -> str: ...


def grouped(metrics: Iterable[Metric]) -> list[tuple[str, str]]:
    """(families, their metric suffixes), families sharing the same suffixes on one row:
    ('nvda amd mu', '.price .drawdown'), in first-seen order."""
    suffixes: dict[str, list[str]] = {}
    for metric_id, name in families(metrics).items():
        suffixes.setdefault(name, []).append(metric_id.removeprefix(name).lstrip("."))
    rows: dict[tuple[str, ...], list[str]] = {}
    for name, names in suffixes.items():
        rows.setdefault(tuple(names), []).append(name)
    return [(" ".join(names), " ".join(f".{s}" if s else "(itself)" for s in key))
            for key, names in rows.items()]


def metrics_reply(metrics: Iterable[Metric], args: tuple[str, ...], grammar: str) -> Reply:
    """The grouped overview, or one family's metrics in detail."""
    known = list(metrics)
    family = families(known)
    if len(args) > 1:
        raise UserError("give at most one family, like btc or yields", USAGE)
    if args:
        wanted = args[0].lower().rstrip(".")
        rows = tuple((m.id, m.unit, m.description) for m in known
                     if wanted in (family[m.id], m.id))
        if not rows:
            names = ", ".join(dict.fromkeys(family.values()))
            raise UserError(f"no metric family {wanted[:30]!r}; try one of {names}", USAGE)
        return Reply(title=f"Alert metrics: {wanted}",
                     tables=(Table(("metric", "unit", "what"), rows),),
                     notes=("Percent metrics are in percent: btc.drawdown below -20 means "
                            "more than 20% below the high.",))
    return Reply(title="Alert metrics", tables=(Table(("family", "metrics"),
                                                      tuple(grouped(known))),),
                 notes=("A metric id is family.metric: btc.drawdown, yields.spread.",
                        "Units and meanings: /alert metrics <family>, e.g. /alert metrics btc.",
                        f"Rule grammar: {grammar}"))
