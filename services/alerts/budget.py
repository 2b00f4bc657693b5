"""One send budget per bot, in Redis, shared by every process: replies and alerts alike.

Each platform has a schedule (GCRA on Redis' clock): its next free slot overall, and per chat
and per group a key of their own under the platform's hash tag, so one script sees all of a
send's scopes at once, in one Cluster slot. A send takes two steps:
1. its chat's (and group's) next slot, charged to both: a chat that must wait for its own
   limit waits here, holding no overall slot, so other chats go first;
2. when that comes, the platform's next slot, and the chat's and group's pushed past it.
Two processes sending to one chat (webhook replicas behind a load balancer) therefore keep
its limit, and one chat's backlog never reserves (wastes) the platform's near slots. A 429
pushes the platform's (or a chat's) schedule past the pause, for everyone. Chat and group
keys expire about a second after their last slot: the budget holds only chats that sent
lately.

Why not the `limits` library (its async storage speaks Redis, Cluster and Sentinel): it
answers "may I, now?" (hit / test / window stats) per limit, one key at a time. Pacing at
0.95 of a limit from many processes needs a reservation of a future slot, and a chat's and
the platform's limits charged together; with `limits` each process would poll on refusal,
and processes racing for the next window bunch up (what made the per-process reply pacer
reach 0.68-0.75 of the limit with 429s).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from services.clock import SYSTEM_CLOCK, Clock
from services.keys import Keys

OFFSET_REFRESH_S = 10.0  # re-estimate the Redis clock's offset at least this often
KEEP_MS = 1000  # a scope's key outlives its last slot by this much
MAX_SEND_TRIES = 8  # step 2 retried while another process's send to the chat is due first
# Step 1 (and a pause): KEYS are scopes; ARGV[1] is 0 to take their next common slot, or a
# pause length; then per key its interval and burst; last, how long a key outlives its slot.
# Microseconds on Redis' clock. Returns the slot (or the pause's end) and Redis' time now.
_RESERVE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause, keep = tonumber(ARGV[1]), tonumber(ARGV[#ARGV])
local at, tats = now, {}
for i, key in ipairs(KEYS) do
  tats[i] = tonumber(redis.call('get', key) or 0)
  at = math.max(at, tats[i] - (tonumber(ARGV[2 * i + 1]) - 1) * tonumber(ARGV[2 * i]))
end
if pause > 0 then at = now + pause end
for i, key in ipairs(KEYS) do
  local tat = math.max(tats[i], at)
  if pause == 0 then tat = tat + tonumber(ARGV[2 * i]) end
  redis.call('set', key, string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + keep)
end
return {string.format('%d', at), string.format('%d', now), 1}
"""
# Step 2: KEYS[1] the platform's schedule, then each scope's "next send allowed" key; ARGV
# the intervals, last the keep time. The platform's next slot, unless a scope's last send
# (by another process) makes it too early: then nothing is taken and the answer is when to
# ask again ({time, now, 0}).
_SEND = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local keep = tonumber(ARGV[#ARGV])
local at = math.max(now, tonumber(redis.call('get', KEYS[1]) or 0))
local ready, sent = now, {}
for i = 2, #KEYS do
  sent[i] = tonumber(redis.call('get', KEYS[i]) or 0)
  ready = math.max(ready, sent[i])
end
if ready > at then return {string.format('%d', ready), string.format('%d', now), 0} end
for i, key in ipairs(KEYS) do
  local tat = math.max(sent[i] or 0, at + tonumber(ARGV[i]))
  redis.call('set', key, string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + keep)
end
return {string.format('%d', at), string.format('%d', now), 1}
"""


class SharedSchedule:
    """The platform send budget on Redis. Slots are converted to the local clock with the
    offset seen on the quickest recent round trip, so a reply that reached this process late
    does not make its send late unseen."""

    def __init__(self, redis: Redis, keys: Keys,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.keys = keys
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE)
        self._send = redis.register_script(_SEND)
        self._offset = 0.0  # Redis' clock minus ours, in seconds
        self._offset_rtt = float("inf")
        self._offset_at = 0.0

    async def take(self, platform: str, interval_s: float,
                   scopes: Sequence[tuple[str, str, float, int]] = ()) -> float:
        """Reserve the next slot that the platform's rate (`interval_s`) and each scope
        (scope name, chat id, interval, burst) allow, in the two steps above; return when
        it comes, on the local clock."""
        keys = self.keys
        if scopes:
            ready = await self._call(self._reserve, [
                keys.pacing_scope(platform, scope, chat) for scope, chat, _, _ in scopes], [
                0, *(arg for _, _, interval, burst in scopes for arg in (_us(interval), burst)),
                KEEP_MS])
            await self._sleep_until(ready)
        send_keys = [keys.alert_pacing(platform), *(
            keys.pacing_scope(platform, f"{scope}-sent", chat) for scope, chat, _, _ in scopes)]
        intervals = [_us(interval_s), *(_us(interval) for _, _, interval, _ in scopes)]
        for _ in range(MAX_SEND_TRIES):
            at, taken = await self._call_taken(self._send, send_keys, [*intervals, KEEP_MS])
            if taken:
                return at
            await self._sleep_until(at)
        # Still too early after several tries (a chat sent to by many processes at once):
        # take the platform's slot regardless of the chat; its own 429 would pause it.
        return (await self._call_taken(self._send, send_keys[:1], [intervals[0], KEEP_MS]))[0]

    async def pause(self, platform: str, seconds: float, chat_id: str | None = None) -> None:
        """No slot before `seconds` from now: for anyone (`chat_id` None, the platform said
        429 to the bot) or for that chat."""
        if chat_id is None:
            keys = [self.keys.alert_pacing(platform)]
        else:
            keys = [self.keys.pacing_scope(platform, scope, chat_id)
                    for scope in ("chat", "chat-sent")]
        await self._call(self._reserve, keys, [_us(seconds), *[1, 1] * len(keys), KEEP_MS])

    async def _sleep_until(self, at: float) -> None:
        if (wait := at - self.clock.monotonic()) > 0:
            await self.clock.sleep(wait)

    async def _call(self, script: AsyncScript, keys: list[str], args: list[int]) -> float:
        return (await self._call_taken(script, keys, args))[0]

    async def _call_taken(self, script: AsyncScript, keys: list[str], args: list[int]
                          ) -> tuple[float, bool]:
        sent = self.clock.monotonic()
        at_us, now_us, taken = await script(keys=keys, args=args)
        received = self.clock.monotonic()
        if received - sent <= self._offset_rtt or received - self._offset_at > OFFSET_REFRESH_S:
            self._offset = int(now_us) / 1e6 - (sent + received) / 2
            self._offset_rtt, self._offset_at = received - sent, received
        return int(at_us) / 1e6 - self._offset, bool(int(taken))


def _us(seconds: float) -> int:
    return max(1, round(seconds * 1e6))
