"""Alert state per (rule, destination) and the pure transition between states.

inactive -> pending -> firing -> resolved (or inactive) -> ... Edge-triggered: a rule fires
once, then stays firing until the value comes back by the hysteresis (it re-arms, and
resolves); it can fire again only when armed, held for `for=` and out of its cooldown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

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


def initial_state(rule: Rule, obs: Observation) -> AlertState:
    """Levels start armed; crossings once the value is seen on the other side (now, or at the
    previous point: a crossing in the latest data fires). Hysteresis only governs re-arming
    after a firing."""
    armed = rule.condition not in CROSSING or obs.held_before is False or not obs.holds
    return AlertState(armed=armed)


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
            return seen, None
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
    if now - since < rule.hold or not cooled:
        return replace(seen, status="pending", armed=True, since=since), None
    fired = replace(seen, status="firing", armed=False, since=None, fired_at=now)
    return fired, _transition("firing", obs, now, state.value)


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
