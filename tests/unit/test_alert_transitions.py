"""The pure transition function: edge-triggered firing, for, cooldown, hysteresis, resolves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from services.alerts.backtest import replay
from services.alerts.conditions import observation, observe_all
from services.alerts.rules import parse_rule
from services.alerts.state import AlertState, Transition, step, transition

START = date(2024, 1, 1)


def daily(*values: float) -> pd.Series:
    index = pd.date_range(START, periods=len(values), freq="D")
    return pd.Series(values, index=index, dtype="float64")


def run(text: str, *values: float) -> list[tuple[int, str]]:
    """(day number, kind) of every transition, stepping one evaluation per day."""
    rule, series = parse_rule(text), daily(*values)
    state: AlertState | None = None
    found = []
    for day in range(len(values)):
        now = datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=UTC)
        state, event = transition(rule, state, series, now)
        if event is not None:
            found.append((day, event.kind))
    return found


def test_crossing_fires_once_while_it_stays_across() -> None:
    assert run("btc.price crosses_above 10", 8, 9, 11, 12, 13, 12) == [(2, "firing")]


def test_crossing_needs_the_value_seen_on_the_other_side_first() -> None:
    assert run("btc.price crosses_above 10", 11, 12, 9, 11) == [(3, "firing")]


def test_level_condition_fires_on_first_evaluation_then_not_again() -> None:
    assert run("btc.price above 10", 11, 12, 13) == [(0, "firing")]


def test_fires_again_after_re_arming() -> None:
    assert run("btc.price above 10", 11, 9, 11, 12) == [(0, "firing"), (2, "firing")]


def test_hysteresis_suppresses_flapping_around_the_threshold() -> None:
    values = (9, 11, 9.5, 10.5, 9.8, 11, 7, 11)
    assert run("btc.price crosses_above 10", *values) == [(1, "firing"), (3, "firing"),
                                                         (5, "firing"), (7, "firing")]
    assert run("btc.price crosses_above 10 hysteresis=2", *values) == [(1, "firing"),
                                                                      (7, "firing")]


def test_cooldown_delays_the_next_firing_until_it_has_passed() -> None:
    values = (9, 11, 9, 11, 11, 11, 9, 11)
    # the crossing on day 3 waits out the cooldown and fires on day 4 (still above);
    # day 7 is exactly 3 days after day 4
    assert run("btc.price crosses_above 10 cooldown=3d", *values) == [(1, "firing"),
                                                                     (4, "firing"),
                                                                     (7, "firing")]
    # a flap that reverts inside the cooldown is dropped altogether
    assert run("btc.price crosses_above 10 cooldown=3d", 9, 11, 9, 11, 9, 9, 9) == [
        (1, "firing")]


def test_for_keeps_it_pending_until_it_held_that_long() -> None:
    assert run("btc.price above 10 for=2d", 9, 11, 11, 11, 11) == [(3, "firing")]
    assert run("btc.price above 10 for=2d", 9, 11, 9, 11, 11, 9) == []


def test_resolved_notices_only_when_on() -> None:
    values = (9, 11, 10.5, 9.5, 11)
    assert run("btc.price crosses_above 10 resolved=on", *values) == [
        (1, "firing"), (3, "resolved"), (4, "firing")]
    assert run("btc.price crosses_above 10 hysteresis=1 resolved=on", *values) == [
        (1, "firing")]
    assert run("btc.price crosses_above 10", *values) == [(1, "firing"), (4, "firing")]


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("btc.price below 10", (11, 9, 8, 11, 9), [0 + 1, 4]),
        ("btc.price crosses_below 10", (9, 11, 9, 8), [2]),
        ("btc.price change_up 10 in 2d", (100, 100, 111, 112, 100, 100, 111), [2, 6]),
        ("btc.price change_down 10 in 1d", (100, 89, 80, 80, 70), [1, 4]),
        ("btc.price new_ath", (5, 6, 7, 6, 8, 8), [1, 4]),
        ("btc.price new_ath hysteresis=3", (5, 6, 7, 6, 8, 4, 9), [1, 6]),
        ("btc.price enters 0..10", (12, 5, 6, 12, 9), [1, 4]),
        ("btc.price exits 0..10", (5, 12, 13, 5, -1), [1, 4]),
    ],
)
def test_each_condition(text: str, values: tuple[float, ...], expected: list[int]) -> None:
    assert [day for day, kind in run(text, *values) if kind == "firing"] == expected


def test_replaying_the_same_evaluation_is_a_no_op() -> None:
    rule = parse_rule("btc.price crosses_above 10 for=1d")
    series = daily(9, 11, 12)
    now = datetime(2024, 1, 3, tzinfo=UTC)
    state, event = transition(rule, None, series.iloc[:2], now - timedelta(days=1))
    assert event is None and state.status == "pending"
    state, event = transition(rule, state, series, now)
    assert event is not None and event.kind == "firing" and state.status == "firing"
    again, none = transition(rule, state, series, now)
    assert none is None and again == state
    late, none = transition(rule, state, series.iloc[:2], now - timedelta(days=1))
    assert none is None and late == state  # an older evaluation does not undo a newer one


def test_state_survives_json() -> None:
    rule = parse_rule("btc.price crosses_above 10 cooldown=1d")
    state, _ = transition(rule, None, daily(9, 11), datetime(2024, 1, 2, tzinfo=UTC))
    assert state.status == "firing"
    assert AlertState.from_json(state.to_json()) == state


def test_observations_are_causal() -> None:
    """The row for day t of the full series equals the last row of the series cut at t."""
    rule = parse_rule("btc.price change_down 5 in 3d hysteresis=1")
    series = daily(100, 98, 96, 90, 95, 97, 80, 85, 88, 91)
    full = observe_all(rule, series)
    for n in range(1, len(series) + 1):
        assert observation(observe_all(rule, series.iloc[:n])) == (
            observation(full, n - 4) if n >= 4 else None)


def test_backtest_matches_the_stepped_transitions() -> None:
    rule = parse_rule("btc.price crosses_above 10 hysteresis=1 resolved=on")
    result = replay(rule, daily(9, 11, 10.5, 8.9, 10.2, 12))
    assert [(t.point.isoformat(), t.kind) for t in result.transitions] == [
        ("2024-01-02", "firing"), ("2024-01-04", "resolved"), ("2024-01-05", "firing")]
    assert result.summary() == "2 firings, 1 resolve from 2024-01-01 to 2024-01-06"
    assert result.lines()[0] == "2024-01-02 firing btc.price $11 (crosses_above 10)"


def test_no_data_means_no_transition() -> None:
    rule = parse_rule("btc.price above 1")
    state, event = step(rule, None, None, datetime(2024, 1, 1, tzinfo=UTC))
    assert (state, event) == (AlertState(), None)
    assert Transition  # the event type the evaluator turns into messages
