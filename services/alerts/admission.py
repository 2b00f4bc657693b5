"""Per destination, at fan-out: mutes and the daily cap.

The cap is counted idempotently: each destination has one hash holding its latest alert
day and, for that day, event id -> its number among the day's alerts, set once. One script
per batch reads the mutes and sets the numbers (its keys share the `{a}` tag; per-chat tags
would need one script per slot). A fan-out batch that is repeated after a crash finds the
same numbers and so makes the same choices: no alert counted twice, no second limit notice.
The day is the event's own, not the clock's. Bounded: an event of a newer day starts the
hash afresh; numbers past the cap's notice are not recorded (a repeat gets a number past
the cap again, the same choice); an event of a day already left behind (a late fan-out
across midnight) is let through uncounted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.asyncio import Redis

from services.alerts.chart_for import alert_chart
from services.alerts.events import AlertEvent, RuleEvent
from services.alerts.messages import limit_text
from services.alerts.muted import MutedLog
from services.keys import Keys

logger = logging.getLogger(__name__)
COUNT_TTL = timedelta(days=2)
# KEYS: (mute key, day-count key) per destination; ARGV: event id, count TTL (s), the
# event's day, the cap. Returns, per destination, 0 when muted, else the event's number
# among the day's alerts (1 for an event of a day already past: let through uncounted).
_NUMBER = """
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('exists', KEYS[i]) == 1 then
    out[#out + 1] = 0
  else
    local counts = KEYS[i + 1]
    local latest = redis.call('hget', counts, '_day')
    if latest and latest > ARGV[3] then
      out[#out + 1] = 1
    else
      if latest ~= ARGV[3] then
        redis.call('del', counts)
        redis.call('hset', counts, '_day', ARGV[3])
      end
      local n = redis.call('hget', counts, ARGV[1])
      if not n then
        n = redis.call('hlen', counts)
        if n <= tonumber(ARGV[4]) + 1 then redis.call('hset', counts, ARGV[1], n) end
      end
      redis.call('expire', counts, ARGV[2])
      out[#out + 1] = tonumber(n)
    end
  end
end
return out
"""


def for_destination(event: RuleEvent, destination: str) -> AlertEvent:
    return AlertEvent(event.event_id, event.rule_id, event.kind, destination, event.text,
                      event.created_at, alert_chart(event.metrics, destination))


class Admission:
    def __init__(self, redis: Redis, keys: Keys, max_alerts_per_day: int) -> None:
        self.redis, self.keys, self.max_alerts_per_day = redis, keys, max_alerts_per_day
        self._number = redis.register_script(_NUMBER)
        self.muted = MutedLog(redis, keys)

    async def admit(self, event: RuleEvent, destinations: list[str]) -> list[AlertEvent]:
        """The messages this batch of subscribers gets: the alert, the one notice that the
        day's cap was reached, or nothing (muted, or over the cap)."""
        day = event.created_at[:10]
        keys = [k for dest in destinations
                for k in (self.keys.alert_mute(dest), self.keys.alert_daily_count(dest))]
        numbers: list[int] = [int(n) for n in await self._number(
            keys=keys, args=[event.event_id, int(COUNT_TTL.total_seconds()), day,
                             self.max_alerts_per_day])]
        muted = sum(1 for n in numbers if n == 0)
        if muted:
            logger.info("alert muted: event_id=%s destinations=%d", event.event_id, muted)
        out: list[AlertEvent] = []
        for dest, number in zip(destinations, numbers, strict=True):
            if number == 0:  # kept for the summary when the mute ends (/unmute)
                await self.muted.keep(dest, f"{event.text.partition(chr(10))[0]} "
                                            f"({event.created_at[:10]})")
            elif 0 < number <= self.max_alerts_per_day:
                out.append(for_destination(event, dest))
            elif number == self.max_alerts_per_day + 1:
                out.append(AlertEvent(f"limit|{day}", "", "limit", dest,
                                      limit_text(self.max_alerts_per_day, day),
                                      event.created_at))
        return out
