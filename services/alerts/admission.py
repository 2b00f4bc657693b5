"""Per destination, at fan-out: mutes and the daily cap.

The cap is counted idempotently: each (destination, day) has a hash of event id -> its
number among that day's alerts, set once (HSETNX-like, in one script on one key). A fan-out
batch that is repeated after a crash finds the same numbers and so makes the same choices:
no alert counted twice, no second limit notice. The day is the event's own, not the clock's.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.asyncio import Redis

from services.alerts.chart_for import alert_chart
from services.alerts.events import AlertEvent, RuleEvent
from services.alerts.messages import limit_text
from services.keys import Keys

logger = logging.getLogger(__name__)
COUNT_TTL = timedelta(days=2)
_NUMBER = """
local n = redis.call('hget', KEYS[1], ARGV[1])
if not n then
  n = redis.call('hlen', KEYS[1]) + 1
  redis.call('hset', KEYS[1], ARGV[1], n)
  redis.call('expire', KEYS[1], ARGV[2])
end
return tonumber(n)
"""


def for_destination(event: RuleEvent, destination: str) -> AlertEvent:
    return AlertEvent(event.event_id, event.rule_id, event.kind, destination, event.text,
                      event.created_at, alert_chart(event.metrics, destination))


class Admission:
    def __init__(self, redis: Redis, keys: Keys, max_alerts_per_day: int) -> None:
        self.redis, self.keys, self.max_alerts_per_day = redis, keys, max_alerts_per_day
        self._number = redis.register_script(_NUMBER)

    async def admit(self, event: RuleEvent, destinations: list[str]) -> list[AlertEvent]:
        """The messages this batch of subscribers gets: the alert, the one notice that the
        day's cap was reached, or nothing (muted, or over the cap)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for dest in destinations:
                pipe.exists(self.keys.alert_mute(dest))
            muted = await pipe.execute()
        open_ = [d for d, m in zip(destinations, muted, strict=True) if not m]
        if len(open_) < len(destinations):
            logger.info("alert muted: event_id=%s destinations=%d", event.event_id,
                        len(destinations) - len(open_))
        day = event.created_at[:10]
        ttl = int(COUNT_TTL.total_seconds())
        async with self.redis.pipeline(transaction=False) as pipe:
            for dest in open_:
                await self._number(keys=[self.keys.alert_daily_count(dest, day)],
                                   args=[event.event_id, ttl], client=pipe)
            numbers = await pipe.execute()
        out: list[AlertEvent] = []
        for dest, number in zip(open_, numbers, strict=True):
            if int(number) <= self.max_alerts_per_day:
                out.append(for_destination(event, dest))
            elif int(number) == self.max_alerts_per_day + 1:
                out.append(AlertEvent(f"limit|{day}", "", "limit", dest,
                                      limit_text(self.max_alerts_per_day, day),
                                      event.created_at))
        return out
