"""The `run` roles' alert wiring on real Redis: one collector leader evaluates once per
collection however many run; the notifier unsubscribes gone chats and moves migrated ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.alerting import build_notifier, run_collector
from bot.app import App, build_app
from bot.cli import build_parser
from bot.console import ask_once
from services.alerts.delivery import DeliveryResult, Sender
from services.alerts.events import AlertEvent
from services.keys import Keys
from services.settings import Secrets, Settings
from tests.conftest import connect_real_redis, drop_prefix
from tests.waiting import until

RULE = "btc.price above 1"


@pytest.fixture
async def apps(settings: Settings, test_prefix: str) -> AsyncIterator[list[App]]:
    """Two apps on their own Redis connections, as two processes would have."""
    custom = settings.model_copy(update={"store": settings.store.model_copy(
        update={"prefix": test_prefix})})
    built = [await build_app(custom, Secrets(), redis=await connect_real_redis(), replay=True)
             for _ in range(2)]
    yield built
    await drop_prefix(built[0].redis, test_prefix)
    for app in built:
        await app.aclose()


async def test_two_collectors_evaluate_once_per_collection(apps: list[App]) -> None:
    assert apps[0].hub.alerts is not None and apps[0].outbox is not None
    await apps[0].hub.alerts.add_rule("console:ops", RULE)
    stop = asyncio.Event()
    runners = [asyncio.create_task(run_collector(app, stop)) for app in apps]
    # The leader's first round; the next is a collection interval (300 s) away.
    await until(lambda: sum(app.evaluations for app in apps) >= 1)
    stop.set()
    await asyncio.gather(*runners)
    assert [app.collections for app in apps] in ([1, 0], [0, 1])  # the leader only
    assert [app.evaluations for app in apps] == [app.collections for app in apps]
    rule_events = Keys(apps[0].settings.store.prefix).alert_rule_events()
    assert await apps[0].redis.xlen(rule_events) == 1  # one event for the one transition


class Scripted:
    """A platform sender answering from a script, then ok."""

    platform = "telegram"

    def __init__(self, *answers: DeliveryResult) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent.append(chat_id)
        return self.answers.pop(0) if self.answers else DeliveryResult.ok()


async def _deliver(app: App, sender: Sender, dest: str) -> None:
    assert app.outbox is not None
    await app.outbox.append(AlertEvent("c1|firing|x", "c1", "firing", dest, "Alert", "x"))
    await build_notifier(app, {"telegram": sender}, consumer="t").drain_once()


async def test_a_migrated_group_keeps_its_subscriptions(apps: list[App]) -> None:
    app = apps[0]
    assert app.hub.alerts is not None
    rule = await app.hub.alerts.add_rule("telegram:-100", RULE)
    sender = Scripted(DeliveryResult.migrated("-100999"))
    await _deliver(app, sender, "telegram:-100")
    assert sender.sent == ["-100", "-100999"]
    subscribed = await app.hub.alerts.subscriptions.subscribers(rule.id)
    assert subscribed == {"telegram:-100999"}


async def test_a_chat_that_is_gone_is_unsubscribed(apps: list[App]) -> None:
    app = apps[0]
    assert app.hub.alerts is not None
    rule = await app.hub.alerts.add_rule("telegram:77", RULE)
    await app.hub.alerts.subscribe("telegram:77", "btc-drawdown")
    await _deliver(app, Scripted(DeliveryResult.gone("Forbidden: blocked")), "telegram:77")
    assert not await app.hub.alerts.subscriptions.subscribed("telegram:77")
    assert not await app.hub.alerts.subscriptions.subscribers(rule.id)


def test_run_takes_a_role() -> None:
    assert build_parser().parse_args(["run"]).role == "all"
    assert build_parser().parse_args(["run", "--role", "worker"]).role == "worker"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--role", "nope"])


async def test_status_shows_the_outbox_and_dead_letters(apps: list[App]) -> None:
    app = apps[0]
    assert app.outbox is not None
    await app.refresh()
    await _deliver(app, Scripted(DeliveryResult.failed("Bad Request: too long", False)),
                   "telegram:5")
    await app.outbox.append(AlertEvent("c2|firing|x", "c2", "firing", "telegram:6", "A", "x"))
    text, _ = await ask_once(app, "/status")
    assert "Alert outbox: 1 pending, 1 dead letters." in text
    assert "Bad Request: too long" in text


