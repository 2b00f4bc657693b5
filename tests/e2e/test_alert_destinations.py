"""What a send error may do to a chat's set-up, end to end: commands through the real PTB
front-end, alerts through the real notifier and PTB sender, the Bot API stand-in answering,
real Redis. A group that lets the bot post text but not photos keeps everything and gets
its alerts as text (told once why there is no chart); a chat that blocked the bot is
parked, not deleted, and gets its rules and digest back when the bot is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.alerting import build_evaluator, build_notifier, evaluate_once
from bot.app import App
from bot.telegram import TelegramFrontend
from bot.telegram.sender import standalone_sender
from handlers.registry import Chat
from handlers.reply import Reply
from services.alerts.delivery import PHOTO_RIGHTS_NOTICE
from services.alerts.service import AlertService
from services.settings import Settings
from tests.conftest import collected_app
from tests.waiting import until_async

from .telegram_standin import BotApiStandIn, running_standin, telegram_secrets, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
GROUP, PRIVATE = -1002000, 5151
NOTICE = f"<b>{PHOTO_RIGHTS_NOTICE}</b>"  # as sent: a one-line message, bold


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix) as built:
        yield built


def alerts_of(app: App) -> AlertService:
    assert app.hub.alerts is not None
    return app.hub.alerts


async def command(app: App, chat_id: int, text: str) -> None:
    chat = Chat("telegram", str(chat_id), "7", is_group=chat_id < 0)
    reply = await app.registry.run_text(app.context(chat), text)
    assert not reply.error, reply.title


async def deliver(app: App, standin: BotApiStandIn) -> int:
    async with standalone_sender(telegram_secrets(standin)) as sender:
        return await build_notifier(app, {"telegram": sender}, "dest-test").drain_once()


def texts(standin: BotApiStandIn, chat_id: int) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in standin.sent_to(chat_id)]


async def test_a_group_without_photo_rights_keeps_its_setup_and_gets_text(app: App) -> None:
    await command(app, GROUP, "/subscribe all")
    await command(app, GROUP, "/alert add btc.price above 1")
    await command(app, GROUP, "/alert add btc.drawdown below -1")
    service = alerts_of(app)
    before = await service.subscriptions.subscribed(f"telegram:{GROUP}")
    await evaluate_once(app, build_evaluator(app))
    assert app.outbox is not None
    events = await service.fanout(app.outbox, "fan-out").drain_once()
    fired = [e for e in events if e.destination == f"telegram:{GROUP}"]
    assert len(fired) >= 2
    async with running_standin() as standin:
        standin.fail_next("sendPhoto", "400-photo-rights", times=len(fired))
        assert await deliver(app, standin) == len(fired)
        sent = texts(standin, GROUP)
        assert sent.count(NOTICE) == 1, "the chat is told once"
        assert len(sent) == len(fired) + 1, "every alert went out as text"
        assert not any(m.get("photo") for m in standin.sent_to(GROUP))
        # the next alert there: no second notice
        await command(app, GROUP, "/alert add btc.price above 2")
        assert await evaluate_once(app, build_evaluator(app))
        standin.fail_next("sendPhoto", "400-photo-rights")
        assert await deliver(app, standin) == 1
        assert texts(standin, GROUP).count(NOTICE) == 1
    after = await service.subscriptions.subscribed(f"telegram:{GROUP}")
    assert before <= after and len(after) == len(before) + 1
    assert len([r for r in await service.subscriptions.custom_rules()
                if r.owner == f"telegram:{GROUP}"]) == 3
    assert app.hub.delivery is not None
    assert await app.outbox.dead_letters() == [] if app.outbox else True


async def blocked_chat(app: App) -> tuple[str, set[str]]:
    """A private chat with a custom rule, the defaults and a digest, that blocked the bot
    at its first alert."""
    dest = f"telegram:{PRIVATE}"
    await command(app, PRIVATE, "/subscribe all")
    await command(app, PRIVATE, "/alert add btc.price above 1")
    await command(app, PRIVATE, "/digest on 07:30 UTC")
    subscribed = await alerts_of(app).subscriptions.subscribed(dest)
    assert await evaluate_once(app, build_evaluator(app))
    async with running_standin() as standin:
        standin.fail_next("sendPhoto", "403", times=20)
        standin.fail_next("sendMessage", "403", times=20)
        await deliver(app, standin)
    service = alerts_of(app)
    assert await service.subscriptions.subscribed(dest) == set()  # nothing is sent there
    assert await service.subscriptions.dormant.get(dest) is not None
    assert [r.owner for r in await service.subscriptions.custom_rules()] == [dest]
    assert app.hub.digest is not None and await app.hub.digest.get(dest) is None
    return dest, subscribed


async def assert_restored(app: App, dest: str, subscribed: set[str]) -> None:
    service = alerts_of(app)
    assert await service.subscriptions.subscribed(dest) == subscribed
    assert app.hub.digest is not None
    digest = await app.hub.digest.get(dest)
    assert digest is not None and digest.at.strftime("%H:%M") == "07:30"
    assert await service.subscriptions.dormant.get(dest) is None


async def test_a_blocked_chat_that_writes_again_gets_its_rules_back(app: App) -> None:
    dest, subscribed = await blocked_chat(app)
    async with running_standin() as standin, TelegramFrontend(app, telegram_secrets(standin)):
        await standin.push_command("/alerts", chat_id=PRIVATE)
        reply = await wait_for(lambda: standin.sent_to(PRIVATE), 15, "the /alerts reply")
    await assert_restored(app, dest, subscribed)
    assert "c1" in reply[-1]["text"]


def my_chat_member(chat_id: int, old: str, new: str) -> dict[str, Any]:
    bot = {"id": 123456, "is_bot": True, "first_name": "flowwatch"}
    chat = {"id": chat_id, "type": "private", "first_name": "Tester"}
    return {"my_chat_member": {
        "chat": chat, "from": {"id": chat_id, "is_bot": False, "first_name": "Tester"},
        "date": int(datetime.now(UTC).timestamp()),
        "old_chat_member": {"status": old, "user": bot, **({"until_date": 0}
                                                            if old == "kicked" else {})},
        "new_chat_member": {"status": new, "user": bot, **({"until_date": 0}
                                                            if new == "kicked" else {})}}}


async def test_unblocking_the_bot_restores_and_blocking_parks(app: App) -> None:
    dest, subscribed = await blocked_chat(app)
    async with running_standin() as standin, TelegramFrontend(app, telegram_secrets(standin)):
        await standin.push_update(my_chat_member(PRIVATE, "kicked", "member"))
        service = alerts_of(app)

        async def restored() -> bool:
            return await service.subscriptions.dormant.get(dest) is None

        await until_async(restored, describe=lambda: "the restore never happened")
        await assert_restored(app, dest, subscribed)
        await standin.push_update(my_chat_member(PRIVATE, "member", "kicked"))

        async def parked() -> bool:
            return await service.subscriptions.dormant.get(dest) is not None

        await until_async(parked, describe=lambda: "the chat was never parked")
    assert await service.subscriptions.subscribed(dest) == set()


async def test_a_chat_parked_for_30_days_is_forgotten(app: App) -> None:
    dest, _ = await blocked_chat(app)
    service = alerts_of(app)
    parked = await service.subscriptions.dormant.get(dest)
    assert parked is not None
    assert await service.subscriptions.purge_parked(parked.since + timedelta(days=29)) == []
    assert await service.subscriptions.custom_rules()
    assert await service.subscriptions.purge_parked(parked.since + timedelta(days=31)) == [dest]
    assert await service.subscriptions.custom_rules() == []
    assert await service.subscriptions.dormant.get(dest) is None


async def answer(app: App, chat_id: int, text: str) -> Reply:
    chat = Chat("telegram", str(chat_id), "7", is_group=chat_id < 0)
    reply = await app.registry.run_text(app.context(chat), text)
    assert not reply.error, reply.title
    return reply


def owned(rules: list[Any], dest: str) -> list[str]:
    return sorted(r.id for r in rules if r.owner == dest)


async def test_a_parked_chat_that_adds_a_rule_gets_it_once(app: App) -> None:
    """The command that brings a chat back runs once: one rule, its set-up restored."""
    dest, subscribed = await blocked_chat(app)
    service = alerts_of(app)
    before = owned(await service.subscriptions.custom_rules(), dest)
    reply = await answer(app, PRIVATE, "/alert add btc > 100k")
    after = owned(await service.subscriptions.custom_rules(), dest)
    assert len(after) == len(before) + 1, after
    new = (set(after) - set(before)).pop()
    assert reply.title.startswith(f"Added rule {new}:")
    await assert_restored(app, dest, subscribed | {new})


async def test_a_parked_chat_pressing_a_guided_button_moves_one_step(app: App) -> None:
    dest, _ = await blocked_chat(app)
    service = alerts_of(app)
    await service.restore_destination(dest)
    walk = await answer(app, PRIVATE, "/alert add")
    before = owned(await service.subscriptions.custom_rules(), dest)
    await service.park_destination(dest)
    btc = next(b.data for row in walk.buttons for b in row if b.label == "btc")
    metric = await answer(app, PRIVATE, f"/alert step {btc}")
    assert [b.label for b in metric.buttons[0]] == ["price", "drawdown", "ytd"]
    await service.park_destination(dest)
    price = next(b.data for row in metric.buttons for b in row if b.label == "price")
    condition = await answer(app, PRIVATE, f"/alert step {price}")
    assert condition.title.startswith("New alert 2/3: btc.price")
    await service.park_destination(dest)
    above = next(b.data for row in condition.buttons for b in row if b.label == "crosses above")
    value = await answer(app, PRIVATE, f"/alert step {above}")
    await service.park_destination(dest)
    pick = value.buttons[0][0].data
    done = await answer(app, PRIVATE, f"/alert step {pick}")
    assert done.title.startswith("Added rule")
    assert len(owned(await service.subscriptions.custom_rules(), dest)) == len(before) + 1


async def test_a_parked_chat_reading_its_setup_sees_it_restored_at_once(app: App) -> None:
    """A command on the set-up runs once, on the restored set-up: /alerts lists it, /digest
    off turns the restored digest off (it is not restored after the command)."""
    dest, _ = await blocked_chat(app)
    listing = await answer(app, PRIVATE, "/alerts")
    rows = {row[0]: row for table in listing.tables for row in table.rows}
    assert rows["c1"][2] == "yes", "the first answer shows the restored subscription"
    await alerts_of(app).park_destination(dest)
    assert (await answer(app, PRIVATE, "/digest")).title == "Daily digest: on, 07:30 UTC"
    await alerts_of(app).park_destination(dest)
    assert (await answer(app, PRIVATE, "/digest off")).title == "Daily digest off"
    assert app.hub.digest is not None and await app.hub.digest.get(dest) is None
