"""Alerts carry the chart of their metric where the platform shows images: the evaluator names
it on firing and resolved events (real Redis), the notifier draws it and the Telegram
stand-in receives it as a photo; console destinations and the daily-limit notice get none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.alerting import build_evaluator, build_notifier, evaluate_once
from bot.app import App
from bot.telegram.alert_layout import alert_html
from bot.telegram.sender import standalone_sender
from handlers.registry import Chat
from services.charts.catalog import CHARTS
from services.settings import Settings
from tests.conftest import collected_app
from tests.e2e.chart_png import assert_chart_png, threshold_rows
from tests.integration.alert_fixtures import ListOutbox, alerts_service, evaluator, save_btc

from .telegram_standin import running_standin, telegram_secrets

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
TG, DC, CONSOLE = "telegram:-1001", "discord:42", "console:console"
NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)


@pytest.fixture
async def app(settings: Settings, test_prefix: str) -> AsyncIterator[App]:
    """A replay app, collected, whose keys (alerts and outbox included) are the test's own."""
    async with collected_app(settings, test_prefix) as built:
        yield built


async def test_a_telegram_firing_arrives_with_its_chart_and_the_console_gets_none(
        app: App, capsys: pytest.CaptureFixture[str]) -> None:
    for chat in (Chat("telegram", "4242", "7"), Chat("console", "console")):
        added = await app.registry.run_text(app.context(chat),
                                            "/alert add btc.drawdown below -10")
        assert not added.error, added.title
    assert app.hub.alerts is not None and app.outbox is not None
    await evaluate_once(app, build_evaluator(app))
    events = await app.hub.alerts.fanout(app.outbox, "fan-out").drain_once()
    assert {e.destination: (e.kind, e.chart) for e in events} == {
        "telegram:4242": ("firing", "btc"), "console:console": ("firing", "")}
    [telegram_event] = [e for e in events if e.destination == "telegram:4242"]

    async with running_standin() as standin, standalone_sender(
            telegram_secrets(standin)) as sender:
        assert await build_notifier(app, {"telegram": sender}, "chart-test").drain_once() == 2
    [photo] = standin.calls_of("sendPhoto")
    assert photo.params["chat_id"] == 4242
    assert photo.params["caption"] == alert_html(telegram_event.text)
    assert_chart_png(photo.files["photo"])
    assert app.hub.alerts is not None and app.hub.asof is not None
    # the rule's own chart: its window, the threshold line and the crossing
    assert photo.files["photo"] == await app.hub.alerts.rule_chart(telegram_event.rule_id,
                                                                   app.hub.asof)
    assert threshold_rows(photo.files["photo"]) >= 1
    family = CHARTS["btc"]
    assert app.hub.charts is not None
    assert threshold_rows(await app.hub.charts.chart(family.name, family.default_window,
                                                     app.hub.asof)) == 0
    assert not standin.calls_of("sendMessage")  # the text went as the photo's caption
    printed = capsys.readouterr().out
    assert "[alert → console]" in printed and "[chart attached]" not in printed


async def test_firing_and_resolved_name_the_chart_only_where_images_can_go(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis = clean_real_redis
    service = alerts_service(redis, test_prefix, ("btc-100", "btc.price above 100 resolved=on"))
    for dest in (TG, DC, CONSOLE):
        await service.subscribe(dest, "btc-100")
    ev = evaluator(service, redis, test_prefix, ListOutbox())
    await save_btc(redis, test_prefix, {"2024-01-01": 90, "2024-01-02": 104})
    fired = await ev.evaluate(NOW)
    assert {e.destination: (e.kind, e.chart) for e in fired} == {
        TG: ("firing", "btc"), DC: ("firing", "btc"), CONSOLE: ("firing", "")}
    await save_btc(redis, test_prefix, {"2024-01-01": 90, "2024-01-02": 104, "2024-01-03": 95})
    resolved = await ev.evaluate(NOW + timedelta(hours=1))
    assert {e.destination: (e.kind, e.chart) for e in resolved} == {
        TG: ("resolved", "btc"), DC: ("resolved", "btc"), CONSOLE: ("resolved", "")}


async def test_the_daily_limit_notice_has_no_chart(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis = clean_real_redis
    service = alerts_service(redis, test_prefix, ("btc-100", "btc.price above 100"),
                             ("btc-low", "btc.drawdown below 1"), max_per_day=1)
    await service.subscribe(TG, "all")
    outbox = ListOutbox()
    await save_btc(redis, test_prefix, {"2024-01-01": 90, "2024-01-02": 104})
    events = await evaluator(service, redis, test_prefix, outbox).evaluate(NOW)
    assert sorted((e.kind, e.chart) for e in events) == [("firing", "btc"), ("limit", "")]
    assert outbox.events == events
