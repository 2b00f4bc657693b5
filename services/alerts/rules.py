"""The one alert rule grammar (chat, config.yaml defaults, backtest) and its canonical text."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.alerts.rule_words import canonical, parse_amount
from services.metrics.catalog import BASE_IDS, THESIS_PREFIX

GRAMMAR = ("<metric> above|below|crosses_above|crosses_below V | change_up|change_down P in W "
           "| new_ath | enters|exits A..B [for=DUR] [cooldown=DUR] [repeat=DUR] [hysteresis=V] "
           "[resolved=on|off]")
THRESHOLD = ("above", "below", "crosses_above", "crosses_below")
CHANGE = ("change_up", "change_down")
RANGE = ("enters", "exits")
CONDITIONS = (*THRESHOLD, *CHANGE, "new_ath", *RANGE)
UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
MAX_COUNT = 99999  # a duration is at most five digits and a unit
_DURATION = re.compile(r"^(\d{1,5})([wdhm])$")
_SPREAD = re.compile(r"^spread\(\s*([^\s,()]+)\s*,\s*([^\s,()]+)\s*\)")
_CLAIM_ID = re.compile(rf"^{re.escape(THESIS_PREFIX)}[1-9][0-9]?$")


EXAMPLE = "btc below 60k"


class _AnyMetric:
    """Every id a catalog can hold: the base metrics and thesis.<n>."""

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and (
            token in BASE_IDS or _CLAIM_ID.match(token) is not None)


_ANY_METRIC = _AnyMetric()


class RuleError(ValueError):
    """A rule that cannot be understood; the one-line message names the bad token and
    gives one rule that would work (the full grammar is in /alert metrics)."""

    def __init__(self, problem: str, example: str = EXAMPLE) -> None:
        super().__init__(f"{problem}; e.g. {example}")
        self.problem = problem


@dataclass(frozen=True)
class Rule:
    metric: str
    condition: str
    value: float = 0.0  # threshold; percent for change_*; lower bound for enters/exits
    upper: float = 0.0  # upper bound for enters/exits
    window: timedelta = timedelta(0)  # change_* window
    other: str = ""  # spread(metric, other) = metric - other
    hold: timedelta = timedelta(0)  # for=
    cooldown: timedelta = timedelta(0)
    repeat: timedelta = timedelta(0)  # re-send while it keeps firing (0: fire once)
    hysteresis: float = 0.0
    resolved: bool = False
    metrics: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", (self.metric, self.other) if self.other
                           else (self.metric,))

    @property
    def subject(self) -> str:
        return f"spread({self.metric}, {self.other})" if self.other else self.metric

    @property
    def condition_text(self) -> str:
        if self.condition in CHANGE:
            return f"{self.condition} {number(self.value)} in {duration(self.window)}"
        if self.condition in RANGE:
            return f"{self.condition} {number(self.value)}..{number(self.upper)}"
        if self.condition == "new_ath":
            return "new_ath"
        return f"{self.condition} {number(self.value)}"

    def describe(self) -> str:
        """Canonical text: parse_rule(rule.describe()) == rule."""
        parts = [self.subject, self.condition_text]
        if self.hold:
            parts.append(f"for={duration(self.hold)}")
        if self.cooldown:
            parts.append(f"cooldown={duration(self.cooldown)}")
        if self.repeat:
            parts.append(f"repeat={duration(self.repeat)}")
        if self.hysteresis:
            parts.append(f"hysteresis={number(self.hysteresis)}")
        if self.resolved:
            parts.append("resolved=on")
        return " ".join(parts)


def number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def duration(span: timedelta) -> str:
    """Canonical text that parse_duration reads back: days, hours or minutes, or weeks when
    the count would not fit parse_duration's five digits (for=14286w is 100002 days)."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("w", 604800)):
        if seconds % size == 0 and seconds // size <= MAX_COUNT:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


def parse_duration(text: str, what: str = "duration") -> timedelta:
    match = _DURATION.match(text)
    if not match:
        raise RuleError(f"bad {what} '{_short(text)}' (use a number and m, h, d or w: 30m, 6h, "
                        "2d)")
    return timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])


def parse_rule(text: str, known: Container[str] | None = None) -> Rule:
    """Parse one rule; raises RuleError naming the bad token. Metric ids are checked against
    `known` (the app's MetricCatalog) or, without it, against every id a catalog can hold."""
    words = canonical(text, known if known is not None else _ANY_METRIC)
    if not words:
        raise RuleError("empty rule")
    spread = _SPREAD.match(words)
    if spread:
        metric, other = _metric(spread.group(1), known), _metric(spread.group(2), known)
        tokens = words[spread.end():].split()
    elif words.startswith("spread("):
        raise RuleError(f"bad spread '{_short(words)}' (use spread(<metric>, <metric>))")
    else:
        first, *tokens = words.split()
        metric, other = _metric(first, known), ""
    example = f"{metric} below -30" if metric.endswith(("drawdown", "ytd")) else (
        f"{metric} above 0" if metric.startswith(("divergence", "yields")) else EXAMPLE)
    if not tokens:
        raise RuleError(f"missing condition after '{_short(metric)}' (above, below, >, <, "
                        "crosses_above, ...)", example)
    condition, rest = tokens[0], tokens[1:]
    if condition not in CONDITIONS:
        hint = _suggest(condition, CONDITIONS)
        raise RuleError(f"unknown condition '{_short(condition)}'{hint}", example)
    fields, options = _condition_args(condition, rest)
    rule = Rule(metric=metric, other=other, condition=condition, **fields, **_options(options))
    if rule.condition == "exits" and 2 * rule.hysteresis >= rule.upper - rule.value:
        raise RuleError(f"hysteresis={number(rule.hysteresis)} leaves no room inside "
                        f"{number(rule.value)}..{number(rule.upper)} to re-arm")
    return rule


def _condition_args(condition: str, rest: list[str]) -> tuple[dict[str, Any], list[str]]:
    if condition == "new_ath":
        return {}, rest
    if condition in THRESHOLD:
        return {"value": _number(_take(rest, condition, "a value"))}, rest[1:]
    if condition in CHANGE:
        pct = _number(_take(rest, condition, "a percent"))
        if pct <= 0:
            raise RuleError(f"percent '{rest[0]}' must be above 0 (direction is in the name)")
        if len(rest) < 3 or rest[1] != "in":
            raise RuleError(f"expected 'in W' after '{condition} {rest[0]}' (e.g. in 7d)")
        window = parse_duration(rest[2], "window")
        if window.total_seconds() % 86400 or not 1 <= window.days <= 3660:
            raise RuleError(f"window '{rest[2]}' must be whole days from 1d to 3660d")
        return {"value": pct, "window": window}, rest[3:]
    bounds = _take(rest, condition, "a range A..B").split("..")
    if len(bounds) != 2:
        raise RuleError(f"bad range '{_short(rest[0])}' (use A..B, e.g. -30..-20)")
    low, high = _number(bounds[0]), _number(bounds[1])
    if low >= high:
        raise RuleError(f"range '{_short(rest[0])}' must go from low to high")
    return {"value": low, "upper": high}, rest[1:]


def _options(tokens: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for token in tokens:
        name, sep, raw = token.partition("=")
        if not sep or name not in ("for", "cooldown", "repeat", "hysteresis", "resolved"):
            raise RuleError(f"unexpected '{_short(token)}'")
        key = "hold" if name == "for" else name
        if key in found:
            raise RuleError(f"option '{name}' given twice")
        if name in ("for", "cooldown", "repeat"):
            found[key] = parse_duration(raw, name)
        elif name == "hysteresis":
            found[key] = _number(raw)
            if raw.startswith("-"):
                raise RuleError(f"hysteresis '{_short(raw)}' must not be negative")
        elif raw in ("on", "off"):
            found[key] = raw == "on"
        else:
            raise RuleError(f"bad resolved '{_short(raw)}' (use resolved=on or resolved=off)")
    return found


def _metric(token: str, known: Container[str] | None) -> str:
    ok = token in known if known is not None else (
        token in BASE_IDS or _CLAIM_ID.match(token) is not None)
    if not ok:
        names = list(known) if isinstance(known, Iterable) else list(BASE_IDS)
        raise RuleError(f"unknown metric '{_short(token)}'{_suggest(token, sorted(names))}")
    return token


def _take(rest: list[str], condition: str, what: str) -> str:
    if not rest or "=" in rest[0]:
        raise RuleError(f"'{condition}' needs {what}")
    return rest[0]


def _number(token: str) -> float:
    try:
        value = float(token)
    except ValueError:
        amount = parse_amount(token)
        if amount is None:
            raise RuleError(f"bad number '{_short(token)}' (like 100k, 1.5m, 100,000 or "
                            "-30)") from None
        value = amount
    if not math.isfinite(value):
        raise RuleError(f"bad number '{_short(token)}'")
    return value


def _suggest(token: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(token, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"
