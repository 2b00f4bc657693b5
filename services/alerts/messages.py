"""Alert message text (AlertEvent.text is plain text by contract) and value formatting."""

from __future__ import annotations

from services.alerts.rules import CHANGE, RANGE, Rule
from services.alerts.state import Transition
from services.metrics.catalog import metric_unit

MUTE_HINT = "/mute 1d pauses alerts here; /alerts lists your rules."


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


UP, DOWN, BACK = "▲", "▼", "✓"
DOWNWARD = ("below", "crosses_below", "change_down")


def direction_mark(rule: Rule, kind: str, value: float) -> str:
    """▲ or ▼ for which way the value went through the threshold; ✓ when it resolved."""
    if kind == "resolved":
        return BACK
    if rule.condition in DOWNWARD:
        return DOWN
    if rule.condition in RANGE:
        return DOWN if value < rule.value else UP
    return UP


def headline(rule: Rule, description: str, value: str) -> str:
    """What the phone's notification preview shows: what happened and the value."""
    if description:
        return f"{description.rstrip('.')}: {value}"
    if rule.condition == "new_ath":
        return f"{rule.subject} at a new all-time high: {value}"
    return f"{rule.subject} {rule.condition.replace('_', ' ')} {threshold(rule)}: now {value}"


def alert_text(rule_id: str, rule: Rule, event: Transition, sources: str, asof: str,
               description: str = "") -> str:
    """Line 1 (shown bold, and in the notification preview): the direction mark, the rule's
    description (or what crossed) and the value. Then the threshold, the previous value and
    the data date; the rule text last. Plain text; the platforms add bold and buttons."""
    unit = unit_of(rule)
    value = shown(event.value, unit)
    mark = direction_mark(rule, event.kind, event.value)
    if event.kind == "resolved":
        lines = [f"{mark} Resolved: {headline(rule, description, value)}",
                 f"{rule.condition_text} no longer holds"]
    else:
        still = "Still: " if event.repeat else ""
        lines = [f"{mark} {still}{headline(rule, description, value)}",
                 f"Threshold: {rule.condition.replace('_', ' ')} {threshold(rule)}"]
    if event.previous is not None:
        lines.append(f"Previous: {shown(event.previous, unit)}")
    lines += [f"Data: {event.point.isoformat()} · Source: {sources or 'n/a'} · as of {asof}",
              f"Rule [{rule_id}]: {rule.describe()}", MUTE_HINT]
    return "\n".join(lines)


def limit_text(limit: int, day: str) -> str:
    return (f"Daily alert limit reached ({limit} alerts on {day} UTC)\nFurther alerts today "
            f"are dropped.\n{MUTE_HINT}")



