"""Alert delivery on the embedded store: the outbox lease and the shared send schedule are
Lua scripts, so the in-process store must run Lua too (fakeredis[lua])."""

from __future__ import annotations

from dataclasses import dataclass, field

import fakeredis

from bot.alerting import build_notifier
from bot.app import build_app
from services.alerts.delivery import DeliveryResult
from services.alerts.events import AlertEvent
from services.settings import Secrets, Settings


@dataclass
class Recorder:
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent.append((chat_id, text))
        return DeliveryResult.ok()


async def test_the_embedded_store_delivers_queued_alerts(settings: Settings) -> None:
    app = await build_app(settings, Secrets(), redis=fakeredis.FakeAsyncRedis(
        decode_responses=True))
    try:
        assert app.outbox is not None
        for n in range(3):
            await app.outbox.append(AlertEvent(f"e{n}", "r", "firing", f"telegram:{n}",
                                               f"alert {n}", "2026-05-29T00:00:00+00:00"))
        recorder = Recorder()
        notifier = build_notifier(app, {"telegram": recorder}, "embedded")
        assert await notifier.drain_once() == 3
        assert sorted(recorder.sent) == [("0", "alert 0"), ("1", "alert 1"), ("2", "alert 2")]
        assert await notifier.drain_once() == 0  # acknowledged: nothing is sent twice
    finally:
        await app.aclose()
