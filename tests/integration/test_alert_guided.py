"""The guided /alert add (services/alerts/guided.py) on real Redis: steps, TTL, one walk per
user, stale and foreign buttons, typed values; and through the registry to a stored rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from bot.app import App
from bot.text import render_text
from handlers.registry import Chat
from handlers.reply import Reply
from services.alerts.guided import (
    EXPIRED,
    FOREIGN,
    TTL_S,
    Guide,
    GuideError,
    Screen,
    nice,
    suggestions,
)
from services.keys import Keys
from services.settings import Settings
from tests.conftest import collected_app

pytestmark = pytest.mark.redis
DEST = "telegram:-100900"
NOW = {"btc.price": 91234.0, "btc.drawdown": -41.2, "yields.spread": 180.0}


@dataclass(frozen=True)
class M:
    id: str


@pytest.fixture
async def guide(clean_real_redis: Redis, test_prefix: str) -> Guide:
    async def current(metric: str) -> float | None:
        return NOW.get(metric)

    metrics = [M(i) for i in ("btc.price", "btc.drawdown", "btc.ytd", "yields.spread",
                              *(f"t{n}.price" for n in range(12)))]
    return Guide(clean_real_redis, Keys(test_prefix), metrics, current)


def press_data(screen: Screen, label: str) -> str:
    found = [c.data for row in screen.rows for c in row if c.label == label]
    assert found, f"no button {label!r} in {[c.label for r in screen.rows for c in r]}"
    assert len(found[0].encode()) <= 64
    return found[0]


async def walk(guide: Guide, user: str, *labels: str) -> Screen:
    screen = await guide.start(DEST, user)
    for label in labels:
        screen = await guide.press(DEST, user, press_data(screen, label))
    return screen


async def test_a_walk_builds_the_rule_from_metric_condition_and_value(guide: Guide) -> None:
    screen = await guide.start(DEST, "7")
    assert screen.title == "New alert 1/3: what should it watch?"
    assert [c.label for c in screen.rows[0]] == ["btc", "yields", "t0"]
    assert "More →" in [c.label for c in screen.rows[-2]]  # 14 families: two pages
    metric = await guide.press(DEST, "7", press_data(screen, "btc"))
    assert [c.label for c in metric.rows[0]] == ["price", "drawdown", "ytd"]
    condition = await guide.press(DEST, "7", press_data(metric, "drawdown"))
    assert condition.title == "New alert 2/3: btc.drawdown is -41.2%. Alert when it…"
    value = await guide.press(DEST, "7", press_data(condition, "crosses below"))
    assert [c.label for c in value.rows[0]] == ["-45.0%", "-50.0%", "-55.0%"]
    done = await guide.press(DEST, "7", press_data(value, "-50.0%"))
    assert done.rule == "btc.drawdown crosses_below -50"
    assert await guide.redis.exists(guide.keys.alert_guided(DEST, "7")) == 0  # finished


async def test_a_family_of_one_metric_goes_straight_to_the_condition(guide: Guide) -> None:
    screen = await walk(guide, "7", "yields", "is above")
    assert screen.title == "New alert 3/3: yields.spread is above what?"
    assert [c.label for c in screen.rows[0]] == ["+200 bp", "+220 bp", "+240 bp"]


async def test_the_step_has_a_ttl_and_an_expired_step_answers_one_line(guide: Guide) -> None:
    screen = await guide.start(DEST, "7")
    key = guide.keys.alert_guided(DEST, "7")
    assert 0 < await guide.redis.ttl(key) <= TTL_S
    await guide.redis.delete(key)  # what the TTL does after ten minutes
    with pytest.raises(GuideError, match=EXPIRED):
        await guide.press(DEST, "7", press_data(screen, "btc"))


async def test_each_user_has_their_own_walk_and_cannot_press_anothers(guide: Guide) -> None:
    mine = await walk(guide, "7", "btc")
    theirs = await guide.start(DEST, "8")
    with pytest.raises(GuideError, match=FOREIGN):
        await guide.press(DEST, "8", press_data(mine, "price"))
    assert (await guide.press(DEST, "7", press_data(mine, "price"))).title.startswith(
        "New alert 2/3: btc.price is $91,234")
    assert (await guide.press(DEST, "8", press_data(theirs, "btc"))).title.endswith(
        "which btc metric?")


async def test_a_button_of_an_older_walk_or_an_earlier_screen_is_stale(guide: Guide) -> None:
    old = await guide.start(DEST, "7")
    new = await guide.start(DEST, "7")
    with pytest.raises(GuideError, match=EXPIRED):
        await guide.press(DEST, "7", press_data(old, "btc"))
    await guide.press(DEST, "7", press_data(new, "btc"))
    with pytest.raises(GuideError, match=EXPIRED):  # pressed twice: the walk has moved on
        await guide.press(DEST, "7", press_data(new, "yields"))


async def test_typed_value_bad_then_good(guide: Guide) -> None:
    value = await walk(guide, "7", "btc", "price", "is above")
    assert [c.label for c in value.rows[0]] == ["$96,000", "$100,000", "$110,000"]
    assert await guide.waiting(DEST, "7") and not await guide.waiting(DEST, "8")
    with pytest.raises(GuideError) as bad:
        await guide.typed(DEST, "7", "lots")
    assert str(bad.value) == "'lots' is not a number; send one like 96000"
    assert bad.value.usage == "/alert value 96000"
    assert (await guide.typed(DEST, "7", "120K")).rule == "btc.price above 120k"
    assert not await guide.waiting(DEST, "7")


async def test_back_and_cancel(guide: Guide) -> None:
    condition = await walk(guide, "7", "btc", "price")
    back = await guide.press(DEST, "7", press_data(condition, "← Back"))
    assert back.title.endswith("which btc metric?")
    cancelled = await guide.press(DEST, "7", press_data(back, "Cancel"))
    assert cancelled.cancelled and cancelled.title == "Cancelled: no rule was added."
    with pytest.raises(GuideError, match=EXPIRED):
        await guide.press(DEST, "7", press_data(back, "price"))


def test_suggestions_lie_beyond_the_value_in_the_conditions_direction() -> None:
    assert suggestions(-41.2, "%", upward=True) == (-40.0, -35.0, -30.0)
    assert suggestions(4.2, "%", upward=False) == (4.0, 3.5, 3.0)
    assert suggestions(318.3, "USD bn", upward=False) == (300.0, 290.0, 250.0)
    assert suggestions(None, "USD", upward=True) == ()
    assert suggestions(1.0, "verdict", upward=False) == (0.5,)
    assert nice(95796.0) == 96000.0 and nice(0.4123) == 0.41


# -- through the registry, on a collected replay app ---------------------------------------

GROUP_ADMIN = Chat("telegram", "-100901", "7", is_group=True)


async def _not_admin() -> bool:
    return False


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    async with collected_app(settings, test_prefix) as built:
        yield built


async def ask(app: App, text: str, chat: Chat = GROUP_ADMIN) -> Reply:
    return await app.registry.run_text(app.context(chat), text)


def button(reply: Reply, label: str) -> str:
    return next(b.data for row in reply.buttons for b in row if b.label == label)


async def test_guided_add_through_the_registry_stores_the_rule(app: App) -> None:
    reply = await ask(app, "/alert add")
    for label in ("btc", "drawdown", "is below"):
        reply = await ask(app, f"/alert step {button(reply, label)}")
    added = await ask(app, f"/alert step {button(reply, reply.buttons[0][1].label)}")
    assert not added.error and added.title.startswith("Added rule c1: btc.drawdown below -")
    assert "btc.drawdown is " in added.notes[0]  # evaluated at once, as a typed add
    assert "c1" in render_text(await ask(app, "/alerts"))


async def test_guided_add_typed_value_and_its_one_line_error(app: App) -> None:
    reply = await ask(app, "/alert add")
    for label in ("btc", "price", "is above"):
        reply = await ask(app, f"/alert step {button(reply, label)}")
    bad = await ask(app, "/alert value soon")
    assert bad.error and "\n" not in render_text(bad).strip()
    assert bad.title.startswith("'soon' is not a number; send one like ")
    added = await ask(app, "/alert value 250k")
    assert added.title == "Added rule c1: btc.price above 250000"


async def test_guided_add_is_for_admins_in_groups_and_only_where_buttons_show(app: App) -> None:
    member = Chat("telegram", "-100901", "8", is_group=True, is_admin=_not_admin)
    refused = await ask(app, "/alert add", member)
    assert refused.error and refused.title.startswith("only chat admins")
    console = await ask(app, "/alert add", Chat("console", "local", "me"))
    assert console.error and console.title.startswith("give a rule, like /alert add")
    stale = await ask(app, "/alert step g:7:abc:f0")
    assert stale.error and stale.title.startswith(EXPIRED)


async def test_send_it_now_only_where_a_condition_holds(app: App) -> None:
    far = await ask(app, "/alert add btc.drawdown below -90")
    assert not far.buttons
    refused = await ask(app, "/alert now c1")
    assert refused.error and refused.title.startswith("c1 does not hold now")
    near = await ask(app, "/alert add btc.drawdown below -10")
    assert [[b.label for b in row] for row in near.buttons] == [["Send it now"]]
    assert near.buttons[0][0].data == "a:s:c2"
    member = Chat("telegram", "-100901", "8", is_group=True, is_admin=_not_admin)
    assert (await ask(app, "/alert now c2", member)).title.startswith("only chat admins")
    sent = await ask(app, "/alert now c2")
    assert sent.title.startswith("Sending the c2 alert for ")
    assert (await ask(app, "/alert now c2")).title.startswith("Already sent here")
    assert await app.redis.xlen(app.outbox.stream) == 1  # queued once, for this chat
