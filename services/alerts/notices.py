"""Tell a chat once what keeps its alerts from arriving whole (a missing right).

Wraps a platform `Sender`: when a send went out but asks for a notice (the chart could not
be attached), the notice is sent to that chat the first time only; a Redis SET NX marker
remembers it for `ttl` so a fixed-then-broken chat is told again after a while.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from redis.asyncio import Redis

from services.alerts.delivery import DeliveryResult, Sender
from services.alerts.events import AlertEvent
from services.keys import Keys

logger = logging.getLogger(__name__)
NOTICE_TTL = timedelta(days=30)


class NoticeOnce:
    def __init__(self, platform: str, inner: Sender, redis: Redis, keys: Keys,
                 ttl: timedelta = NOTICE_TTL) -> None:
        self.inner, self.redis, self.keys, self.ttl = inner, redis, keys, ttl
        self.platform = platform

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult:
        result = await self.inner.send(chat_id, text, image, idempotency_key=idempotency_key,
                                       event=event)
        if result.outcome == "ok" and result.notice:
            await self._tell_once(chat_id, result.notice)
        return result

    async def _tell_once(self, chat_id: str, notice: str) -> None:
        tag = hashlib.sha1(notice.encode(), usedforsecurity=False).hexdigest()[:10]
        key = self.keys.alert_notice(f"{self.platform}:{chat_id}", tag)
        try:
            if not await self.redis.set(key, "1", nx=True, ex=self.ttl):
                return
            told = await self.inner.send(chat_id, notice, None)
        except Exception:  # the alert itself went out; a lost notice is only a notice
            logger.exception("alert notice failed chat=%s", chat_id)
            return
        logger.info("alert notice chat=%s:%s outcome=%s", self.platform, chat_id, told.outcome)
