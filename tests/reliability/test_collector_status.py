"""/status says when the collector last ran, and that it is not running once it missed
three runs.

The finding: 123 s after the collector died (12 missed collections) `/status` still said
7 of 7 ok and fresh. The collector now records each run (time and interval); /status shows
its age, and "Collector NOT RUNNING" once three intervals (and a minute) went by; every
source that said "ok" then says "stale: not collected since ...", and no metric is fresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

from bot.alerting import collect_and_evaluate
from bot.app import App
from handlers.registry import Chat
from tests.waiting import until_async

CHAT = Chat("telegram", "77", "7")


async def status_notes(app: App) -> str:
    reply = await app.registry.run_text(app.context(CHAT), "/status")
    assert not reply.error, reply.title
    return " ".join(reply.notes)


async def status_tables(app: App) -> dict[str, list[tuple[str, ...]]]:
    """Each table's rows, by title (Sources, Metrics, ...)."""
    reply = await app.registry.run_text(app.context(CHAT), "/status")
    return {t.heading.split()[0]: [tuple(map(str, r)) for r in t.rows] for t in reply.tables}


async def test_status_reports_a_running_then_a_dead_collector(replay_app: App) -> None:
    loop_stop = asyncio.Event()
    task = asyncio.create_task(collect_and_evaluate(replay_app, loop_stop))
    await until_async(replay_app.store.load_collector_run)  # the loop recorded its run
    loop_stop.set()
    await task
    assert "Collector: last run" in await status_notes(replay_app)
    running = await status_tables(replay_app)
    assert {row[1] for row in running["Sources"]} == {"ok"}
    assert "fresh" in {row[1] for row in running["Metrics"]}
    # The collector died 123 s ago with a 10 s interval: 12 runs missed.
    died = datetime(2026, 12, 3, 6, 0, 5, tzinfo=UTC)
    await replay_app.store.save_collector_run(died, 10)
    replay_app.hub = dataclasses.replace(replay_app.hub,
                                         now=lambda: died + timedelta(seconds=123))
    notes = await status_notes(replay_app)
    assert "Collector NOT RUNNING" in notes and "2 min ago" in notes
    dead = await status_tables(replay_app)
    assert {row[1] for row in dead["Sources"]} == {
        "stale: not collected since 2026-12-03 06:00 UTC"}
    assert "fresh" not in {row[1] for row in dead["Metrics"]}


async def test_a_collector_within_its_interval_keeps_sources_ok(replay_app: App) -> None:
    ran = datetime(2026, 12, 3, 6, 0, 5, tzinfo=UTC)
    await replay_app.store.save_collector_run(ran, 10)
    replay_app.hub = dataclasses.replace(replay_app.hub, now=lambda: ran + timedelta(seconds=89))
    assert "Collector: last run 2026-12-03 06:00:05 UTC, 89 s ago" in await status_notes(
        replay_app)
    assert {row[1] for row in (await status_tables(replay_app))["Sources"]} == {"ok"}
