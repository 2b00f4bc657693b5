"""Where a rule stands right now, in one sentence: no rule is left silent.

Said on /subscribe, /alert add and /alerts: the value, the threshold, the distance to it,
and what will make it fire; for an edge-triggered rule already past its threshold, that it
waits for the value to come back by the hysteresis and cross again.
"""

from __future__ import annotations

from services.alerts.conditions import CROSSING, Observation
from services.alerts.messages import shown, threshold, unit_of
from services.alerts.rules import CHANGE, Rule
from services.alerts.state import AlertState


def distance(rule: Rule, obs: Observation) -> str:
    """How far the value is from the threshold ('' where there is no single threshold)."""
    if rule.condition in CHANGE or rule.condition not in (
            "above", "below", "crosses_above", "crosses_below"):
        return ""
    unit = unit_of(rule)
    gap = abs(obs.value - rule.value)
    return shown(gap, unit).lstrip("+")


def rearm_level(rule: Rule) -> float:
    upward = rule.condition in ("crosses_above", "above", "change_up")
    return rule.value - rule.hysteresis if upward else rule.value + rule.hysteresis


def standing(rule: Rule, obs: Observation | None, state: AlertState | None) -> str:
    """One sentence for the chat."""
    if obs is None:
        return f"{rule.subject}: no data yet; it is checked after every collection"
    unit = unit_of(rule)
    value, thr = shown(obs.value, unit), threshold(rule)
    name = rule.subject
    if obs.stale_since is not None:
        return (f"{name}: stale since {obs.stale_since} (last {value} on {obs.point}); it "
                "neither fires nor resolves until fresh data arrives")
    if state is not None and state.status == "firing":
        return f"{name} is {value}: firing (past {thr}); it resolves when it comes back"
    if not obs.holds:
        gap = distance(rule, obs)
        to_go = f", {gap} away" if gap else ""
        return f"{name} is {value}, not past {thr}{to_go}: you will be alerted when it is"
    armed = state.armed if state is not None else not (
        rule.condition in CROSSING and obs.held_before is not False)
    if armed:
        return f"{name} is {value}, already past {thr}: the alert goes out at the next check"
    if rule.condition in ("crosses_below", "crosses_above"):
        back = "recovers above" if rule.condition == "crosses_below" else "falls back below"
        through = "falls through" if rule.condition == "crosses_below" else "rises through"
        return (f"{name} is {value}, already past {thr}: you will be alerted when it {back} "
                f"{shown(rearm_level(rule), unit)} and {through} {thr} again")
    return (f"{name} is {value}, already past {thr}: you will be alerted when it has left "
            "and crosses again")
