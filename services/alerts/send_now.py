"""'Send it now': the alert of a rule whose condition already holds, for one chat, once.

Offered by /subscribe and /alert add where a rule is already past its threshold (an
edge-triggered rule would otherwise stay silent until a fresh crossing). The message is the
one the rule sends when it fires, queued on the outbox for that chat alone, so it goes out
as alerts do (first line, buttons, chart, pacing). Once per chat, rule and data point: a
second press is told it was sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

from redis.asyncio import Redis

from services.alerts.chart_for import alert_chart
from services.alerts.conditions import observation, observe_all, rule_series
from services.alerts.events import AlertEvent
from services.alerts.messages import alert_text
from services.alerts.outbox import RedisOutbox
from services.alerts.state import Transition
from services.alerts.subscriptions import AlertRule, SubscriptionError
from services.keys import Keys
from services.metrics.catalog import MetricCatalog
from services.metrics.common import sources_of
from services.store import MetricStore

ONCE_TTL_S = 7 * 86400  # long past the data point: a new point is a new alert


@dataclass(frozen=True)
class SentNow:
    queued: bool  # False: it was already sent here for this data point
    point: date


async def send_now(redis: Redis, keys: Keys, history: MetricStore, catalog: MetricCatalog,
                   rule: AlertRule, dest: str, now: datetime) -> SentNow:
    """Queue `rule`'s alert for `dest` if its condition holds on the latest data."""
    inputs = catalog.inputs(rule.rule.metrics)
    data = await history.load_history(inputs)

    def read() -> tuple[Transition | None, str]:
        frame = observe_all(rule.rule, rule_series(rule.rule, data, catalog))
        seen = observation(frame)
        if seen is None or not seen.holds:
            return None, ""
        previous = float(frame.iloc[-2]["value"]) if len(frame) > 1 else None
        change = Transition("firing", seen.point, seen.value, seen.level, now, previous)
        return change, ", ".join(sources_of(data, inputs))

    change, sources = await asyncio.to_thread(read)
    if change is None:
        raise SubscriptionError(f"{rule.id} does not hold now; there is nothing to send")
    point = change.point.isoformat()
    once = keys.alert_sent_now(dest, rule.id, point)
    if not await redis.set(once, "1", nx=True, ex=ONCE_TTL_S):
        return SentNow(False, change.point)
    text = alert_text(rule.id, rule.rule, change, sources, point, rule.description)
    event = AlertEvent(f"{rule.id}|now|{point}", rule.id, "firing", dest, text,
                       now.isoformat(), alert_chart(rule.rule.metrics, dest))
    try:  # the outbox is another slot on a cluster: no transaction with the marker
        await RedisOutbox(redis, keys).append(event)
    except BaseException:
        await redis.delete(once)  # not queued: a later press may try again
        raise
    return SentNow(True, change.point)
