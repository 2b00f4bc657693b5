"""Alert state per (rule, destination) and the pure transition between states.

inactive -> pending -> firing -> resolved (or inactive) -> ... Edge-triggered: a rule fires
once, then stays firing until the value comes back by the hysteresis (it re-arms, and
resolves); it can fire again only when armed, held for `for=` and out of its cooldown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from services.alerts.conditions import CROSSING, Observation, observation, observe_all
from services.alerts.rules import Rule

STATUSES = ("inactive", "pending", "firing", "resolved")


@dataclass(frozen=True)
class AlertState:
    status: str = "inactive"
    armed: bool = True
    since: datetime | None = None  # pending since
    fired_at: datetime | None = None  # last firing (cooldown runs from here)
    point: date | None = None  # the data point last observed
    value: float | None = None
    updated_at: datetime | None = None  # `now` of the evaluation that last changed it

    def to_json(self) -> str:
        return json.dumps({
            "status": self.status, "armed": self.armed, "since": _iso(self.since),
            "fired_at": _iso(self.fired_at), "point": _iso(self.point), "value": self.value,
            "updated_at": _iso(self.updated_at),
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> AlertState:
        body = json.loads(raw)
        return cls(
            status=body["status"], armed=body["armed"], since=_when(body["since"]),
            fired_at=_when(body["fired_at"]),
            point=date.fromisoformat(body["point"]) if body["point"] else None,
            value=body["value"], updated_at=_when(body["updated_at"]),
        )


@dataclass(frozen=True)
class Transition:
    kind: str  # "firing" | "resolved"
    point: date
    value: float
    level: float
    at: datetime
    previous: float | None = None  # the value at the evaluation before
    repeat: bool = False  # a re-send of a rule still firing (repeat=)


def initial_state(rule: Rule, obs: Observation) -> AlertState:
    """Levels start armed; crossings once the value is seen on the other side (now, or at the
    previous point: a crossing in the latest data fires). With for=, a crossing whose hold
    was not yet met at the previous point is fresh too: it fires once the data shows the
    hold met. Hysteresis only governs re-arming after a firing."""
    fresh = (obs.held_since is not None and obs.prev_point is not None
             and obs.held_since + rule.hold > obs.prev_point)
    armed = (rule.condition not in CROSSING or obs.held_before is False or not obs.holds
             or (bool(rule.hold) and fresh))
    return AlertState(armed=armed)


def _held_for(state: AlertState, obs: Observation, since: datetime, now: datetime
              ) -> timedelta:
    """How long the condition has held: by the clock between evaluations, or by the data
    (its first holding point to this one), whichever is longer, so for= works in replay,
    where evaluation time stays at the as-of date while the data moves on."""
    by_data = obs.point - obs.held_since if obs.held_since is not None else timedelta(0)
    return max(now - since, by_data)


def _year_turned(rule: Rule, state: AlertState, obs: Observation) -> bool:
    """A YTD metric starts again from 0 on 1 January: that is not the value coming back."""
    return (any(m.endswith(".ytd") for m in rule.metrics) and state.point is not None
            and obs.point.year > state.point.year)


def step(rule: Rule, prev: AlertState | None, obs: Observation | None,
         now: datetime) -> tuple[AlertState, Transition | None]:
    """The transition function: deterministic, and a no-op when replayed at the same `now`."""
    if obs is None:
        return prev or AlertState(), None
    state = prev or initial_state(rule, obs)
    if state.updated_at is not None and now < state.updated_at:
        return state, None  # an older evaluation arriving late must not undo a newer one
    seen = replace(state, point=obs.point, value=obs.value, updated_at=now)
    if state.status == "firing":
        if not obs.released:
            return _repeat(rule, state, seen, obs, now)
        if _year_turned(rule, state, obs):  # re-arm quietly: no "Resolved" at New Year
            return replace(seen, status="inactive", armed=True), None
        back = replace(seen, status="resolved" if rule.resolved else "inactive", armed=True)
        event = _transition("resolved", obs, now, state.value) if rule.resolved else None
        return back, event
    # Only a rule that started already across is unarmed here; seeing the other side arms it.
    armed = state.armed or not obs.holds
    if not (armed and obs.holds):
        status = "inactive" if state.status == "pending" else state.status
        return replace(seen, status=status, armed=armed, since=None), None
    since = state.since if state.status == "pending" and state.since else now
    cooled = state.fired_at is None or now - state.fired_at >= rule.cooldown
    if _held_for(state, obs, since, now) < rule.hold or not cooled:
        return replace(seen, status="pending", armed=True, since=since), None
    fired = replace(seen, status="firing", armed=False, since=None, fired_at=now)
    return fired, _transition("firing", obs, now, state.value)


def _repeat(rule: Rule, state: AlertState, seen: AlertState, obs: Observation,
            now: datetime) -> tuple[AlertState, Transition | None]:
    """repeat=: a rule still firing is sent again once the interval has passed."""
    if not rule.repeat or state.fired_at is None or now - state.fired_at < rule.repeat:
        return seen, None
    event = replace(_transition("firing", obs, now, state.value), repeat=True)
    return replace(seen, fired_at=now), event


def transition(rule: Rule, prev: AlertState | None, series: pd.Series,
               now: datetime) -> tuple[AlertState, Transition | None]:
    """(rule, previous state, metric series up to now, now) -> (new state, transition)."""
    cut = series.loc[: pd.Timestamp(now.astimezone(UTC).replace(tzinfo=None))]
    return step(rule, prev, observation(observe_all(rule, cut)), now)


def changed(old: AlertState | None, new: AlertState) -> bool:
    """Worth writing (a write is a conflict for a concurrent evaluator): not just a new value
    seen at the same point."""
    return old is None or replace(new, value=old.value, updated_at=old.updated_at) != old


def _transition(kind: str, obs: Observation, now: datetime,
                previous: float | None) -> Transition:
    return Transition(kind, obs.point, obs.value, obs.level, now, previous)


def _iso(value: datetime | date | None) -> str:
    return value.isoformat() if value is not None else ""


def _when(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
