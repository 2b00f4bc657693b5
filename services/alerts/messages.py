"""Alert message text (AlertEvent.text is plain text by contract) and value formatting."""

from __future__ import annotations

from datetime import datetime

from services.alerts.rules import CHANGE, RANGE, Rule
from services.alerts.state import Transition
from services.metrics.catalog import metric_unit

MUTE_HINT = "Mute with /mute 1d; /alerts lists your rules."


def unit_of(rule: Rule) -> str:
    """The unit of what the rule measures (a change is always in percent)."""
    if rule.condition in CHANGE:
        return "%"
    unit = metric_unit(rule.metric)
    if rule.other:
        other = metric_unit(rule.other)
        return "pp" if unit == other == "%" else unit if unit == other else ""
    return unit


def shown(value: float, unit: str) -> str:
    """+12.3%, +45.0 pp, -23 bp, $318.3B, $73,367, ₩2,333,000, 458.7."""
    if unit == "%":
        return f"{value:+.1f}%"
    if unit == "pp":
        return f"{value:+.1f} pp"
    if unit == "bp":
        return f"{value:+.0f} bp"
    if unit == "USD bn":
        return f"${value:,.1f}B"
    if unit == "KRW":
        return f"₩{value:,.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "verdict":  # thesis.<n>: 1 while the claim holds, 0 while it does not
        return "holds" if value >= 0.5 else "does not hold"
    prefix = "$" if unit == "USD" else ""
    return f"{prefix}{value:,.0f}" if abs(value) >= 1000 else f"{prefix}{value:,.4g}"


def threshold(rule: Rule) -> str:
    unit = unit_of(rule)
    if rule.condition in CHANGE:
        sign = 1 if rule.condition == "change_up" else -1
        return f"{shown(sign * rule.value, unit)} in {rule.condition_text.split(' in ')[1]}"
    if rule.condition in RANGE:
        return f"{shown(rule.value, unit)} to {shown(rule.upper, unit)}"
    if rule.condition == "new_ath":
        return "its all-time high"
    return shown(rule.value, unit)


def alert_text(rule_id: str, rule: Rule, event: Transition, sources: str, asof: str) -> str:
    """What crossed, the value, the threshold, when, the source and as-of, how to mute."""
    unit = unit_of(rule)
    value = shown(event.value, unit)
    if event.kind == "resolved":
        head = (f"Resolved [{rule_id}]: {rule.subject} is back at {value} "
                f"({rule.condition_text} no longer holds).")
    elif rule.condition == "new_ath":
        head = f"Alert [{rule_id}]: {rule.subject} made a new all-time high at {value}."
    else:
        verb = rule.condition.replace("_", " ")
        head = (f"Alert [{rule_id}]: {rule.subject} {verb} {threshold(rule)}: "
                f"now {value}.")
    return (f"{head} Data point {event.point.isoformat()}, evaluated {_stamp(event.at)}. "
            f"Rule: {rule.describe()}. Source: {sources or 'n/a'} · as of {asof}. {MUTE_HINT}")


def limit_text(limit: int, day: str) -> str:
    return (f"Daily alert limit reached ({limit} alerts on {day} UTC): further alerts today "
            f"are dropped. {MUTE_HINT}")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")

