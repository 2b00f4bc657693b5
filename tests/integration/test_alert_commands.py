"""Alert chat commands through the registry, on real Redis and the embedded store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import fakeredis
import pytest

from bot.app import App, build_app
from bot.text import render_text
from handlers.registry import Chat
from services.settings import Secrets, Settings, StoreSettings
from tests.conftest import connect_real_redis, drop_prefix
from tests.integration.alert_fixtures import ListOutbox, app_evaluator

pytestmark = pytest.mark.redis
ADMIN = Chat("telegram", "-100500", "7", is_group=True)


async def _not_admin() -> bool:
    return False


MEMBER = Chat("telegram", "-100500", "8", is_group=True, is_admin=_not_admin)


@pytest.fixture(params=["real", "embedded"])
async def app(request: pytest.FixtureRequest, settings: Settings,
              test_prefix: str) -> AsyncIterator[App]:
    """A replay app whose keys (alerts included) live under the test prefix."""
    isolated = settings.model_copy(update={"store": StoreSettings(prefix=test_prefix)})
    if request.param == "real":
        redis = await connect_real_redis()
        built = await build_app(isolated, Secrets(), redis=redis)
        yield built
        await drop_prefix(redis, test_prefix)
    else:
        built = await build_app(isolated, Secrets(), redis=fakeredis.FakeAsyncRedis(
            decode_responses=True))
        yield built
    await built.aclose()


async def ask(app: App, text: str, chat: Chat = ADMIN) -> tuple[str, bool]:
    reply = await app.registry.run_text(app.context(chat), text)
    return render_text(reply), reply.error


async def test_add_list_remove_a_custom_rule(app: App) -> None:
    text, error = await ask(app, "/alert add btc.drawdown below -45 for=2d")
    assert not error and "Added rule c1: btc.drawdown below -45 for=2d" in text
    listing, _ = await ask(app, "/alerts")
    assert "c1" in listing and "btc.drawdown below -45 for=2d" in listing
    assert "btc-drawdown" in listing and "Custom rules: 1 of 20" in listing
    removed, error = await ask(app, "/alert rm c1")
    assert not error and "Removed rule c1" in removed
    assert "c1 " not in (await ask(app, "/alerts"))[0]


async def test_subscribe_and_unsubscribe(app: App) -> None:
    text, error = await ask(app, "/subscribe")
    assert not error and "Subscribed to divergence, btc-drawdown" in text
    text, _ = await ask(app, "/unsubscribe btc-drawdown")
    assert "Unsubscribed from btc-drawdown" in text
    listing = (await ask(app, "/alerts"))[0].splitlines()
    row = next(line for line in listing if line.startswith("btc-drawdown"))
    assert " no " in row
    text, error = await ask(app, "/subscribe nosuchrule")
    assert error and text.startswith("no rule 'nosuchrule' in this chat; see /alerts")


async def test_subscribed_chat_gets_the_alert_message(app: App) -> None:
    await app.refresh()
    await ask(app, "/alert add btc.price above 1000")
    assert app.hub.alerts is not None
    outbox = ListOutbox()
    evaluator = app_evaluator(app, outbox)
    events = await evaluator.evaluate(datetime(2026, 5, 30, 8, tzinfo=UTC))
    assert [(e.rule_id, e.destination, e.kind) for e in events] == [
        ("c1", "telegram:-100500", "firing")]
    assert "btc.price above $1,000" in events[0].text and "Coinbase" in events[0].text
    assert "firing since" in (await ask(app, "/alerts"))[0]


async def test_bad_rule_is_one_line_naming_the_token(app: App) -> None:
    text, error = await ask(app, "/alert add btc.prise above 5")
    assert error and "\n" not in text
    assert text.startswith("unknown metric 'btc.prise' (did you mean btc.price?); e.g. ")


async def test_custom_rule_cap(app: App) -> None:
    for n in range(20):
        _, error = await ask(app, f"/alert add btc.price above {1000 + n}")
        assert not error
    text, error = await ask(app, "/alert add btc.price above 5")
    assert error and "the limit is 20" in text


async def test_mute_and_unmute(app: App) -> None:
    text, error = await ask(app, "/mute 1d")
    assert not error and "muted here for 1d" in text
    assert "Muted for another" in (await ask(app, "/alerts"))[0]
    assert (await ask(app, "/unmute"))[0] == "Alerts resumed here"
    text, error = await ask(app, "/mute forever")
    assert error and "bad duration 'forever'" in text
    text, error = await ask(app, "/mute 90d")
    assert error and "between 1m and 30d" in text


@pytest.mark.parametrize("command", ["/subscribe all", "/unsubscribe all", "/mute 1d",
                                     "/unmute", "/alert add btc.price above 1", "/alert rm c1"])
async def test_group_members_who_are_not_admins_cannot_change_alerts(app: App,
                                                                     command: str) -> None:
    text, error = await ask(app, command, MEMBER)
    assert error and text.startswith("only chat admins can change settings here")


@pytest.mark.parametrize("command", ["/alerts", "/alert metrics"])
async def test_group_members_can_read(app: App, command: str) -> None:
    _, error = await ask(app, command, MEMBER)
    assert not error


async def test_metrics_lists_ids_and_units(app: App) -> None:
    text, _ = await ask(app, "/alert metrics")
    for part in ("stablecoins", ".supply", "yields", ".spread", "000660.ks", "tao",
                 ".price .drawdown", "divergence", ".spread.since"):
        assert part in text
    assert "Rule grammar:" in text
    assert len(text.splitlines()) < 25  # grouped by family: one screen
    for family, parts in (("stablecoins", ("stablecoins.supply", "USD bn")),
                          ("yields", ("yields.spread", "bp")),
                          ("000660.ks", ("000660.ks.price", "KRW")),
                          ("tao", ("tao.drawdown",))):
        detail, error = await ask(app, f"/alert metrics {family}")
        assert not error
        assert all(part in detail for part in parts)
    text, error = await ask(app, "/alert metrics banana")
    assert error and "no metric family 'banana'; try one of btc" in text
    help_text, _ = await ask(app, "/help")
    for name in ("/alerts", "/subscribe", "/unsubscribe", "/alert", "/mute", "/unmute"):
        assert name in help_text


async def test_bare_unsubscribe_asks_which_and_removes_nothing(app: App) -> None:
    await ask(app, "/subscribe all")
    text, error = await ask(app, "/unsubscribe")
    assert not error and text.startswith("Unsubscribe from which rule?")
    assert "Alerts here: aitokens-drawdown, btc-drawdown" in text
    assert "/unsubscribe all" in text and "/unsubscribe <rule id>" in text
    still, _ = await ask(app, "/unsubscribe")
    assert "btc-drawdown" in still  # nothing was removed
    text, _ = await ask(app, "/unsubscribe all")
    assert text.startswith("Unsubscribed from")
    text, _ = await ask(app, "/unsubscribe")
    assert "This chat gets no alerts." in text


async def test_a_rule_over_stale_data_says_stale_since_instead_of_a_state(app: App) -> None:
    """At 2026-05-29 the Aave rate ended 2026-01-20: defi-vs-tbill neither holds nor waits
    silently; /alerts and /subscribe say since when its input is stale."""
    await app.refresh()
    listing, _ = await ask(app, "/alerts")
    [row] = [line for line in listing.splitlines() if line.startswith("defi-vs-tbill ")]
    assert row.rstrip().endswith("stale since 2026-01-20")
    [btc] = [line for line in listing.splitlines() if line.startswith("btc-drawdown ")]
    assert "stale" not in btc
    text, error = await ask(app, "/subscribe defi-vs-tbill")
    assert not error
    assert "stale since 2026-01-20" in text and "neither fires nor resolves" in text
