"""An alert's own chart: what the rule measures over the rule's window, its threshold line(s)
and the crossing marked, so the picture shows why it fired.

The window follows the rule: a YTD metric from 1 January, a change over W from 4 W back
(at least 90 days), anything else one year. The series is the rule's observed value (the
percent change for change_* rules), computed by conditions.observe_all like the evaluator.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from services.alerts.conditions import observe_all
from services.alerts.messages import shown, threshold, unit_of
from services.alerts.rules import CHANGE, RANGE, Rule
from services.charts.data import ChartMeta
from services.charts.render import COLORS, date_axis, legend, new_figure, no_data, to_png


def rule_window_start(rule: Rule, asof: date) -> date:
    if any(m.endswith(".ytd") for m in rule.metrics):
        return date(asof.year, 1, 1)
    if rule.condition in CHANGE:
        return asof - max(rule.window * 4, timedelta(days=90))
    return asof - timedelta(days=365)


def threshold_levels(rule: Rule) -> list[float]:
    if rule.condition in RANGE:
        return [rule.value, rule.upper]
    if rule.condition == "new_ath":
        return []
    if rule.condition == "change_down":
        return [-rule.value]
    return [rule.value]


def last_crossing(frame: pd.DataFrame) -> pd.Timestamp | None:
    """The latest point where the condition started to hold."""
    started = frame["holds"] & (frame["held_before"] == False)  # noqa: E712 - NaN-safe
    hits = frame.index[started.fillna(False).astype(bool)]
    return pd.Timestamp(hits[-1]) if len(hits) else None


def draw_rule_chart(rule: Rule, title: str, series: pd.Series, asof: date,
                    sources: tuple[str, ...]) -> bytes:
    start = rule_window_start(rule, asof)
    frame = observe_all(rule, series.loc[: pd.Timestamp(asof)])
    shown_frame = frame.loc[pd.Timestamp(start):]
    unit = unit_of(rule)
    meta = ChartMeta("alert", title, f"Rule: {rule.describe()}", start.isoformat(), asof,
                     sources)
    fig, (ax,) = new_figure(meta)
    if shown_frame.empty:
        no_data(ax)
        return to_png(fig)
    values = shown_frame["value"]
    ax.plot(values.index, values.to_numpy(), color=COLORS["total"], linewidth=2.2,
            label=f"{rule.subject} {shown(float(values.iloc[-1]), unit)}")
    for level in threshold_levels(rule):
        ax.axhline(level, color=COLORS["bad"], linestyle="--", linewidth=1.6,
                   label=f"threshold {shown(level, unit)}")
    if rule.condition == "new_ath":
        ax.plot(values.index, frame["value"].cummax().loc[values.index].to_numpy(),
                color=COLORS["bench"], linestyle="--", linewidth=1.4, label="previous high")
    crossing = last_crossing(shown_frame)
    if crossing is not None:
        point = values.loc[[crossing]]
        at = float(point.iloc[0])
        ax.plot(point.index, point.to_numpy(), marker="o", markersize=10, linestyle="none",
                color=COLORS["bad"], zorder=5, label=f"crossed {crossing.date().isoformat()}")
        ax.annotate(f"{threshold(rule)} crossed", (crossing, at), textcoords="offset points",
                    xytext=(8, 10), fontsize=10.5, color=COLORS["bad"])
    date_axis(ax)
    legend(ax)
    return to_png(fig)
