"""/status says when the collector last ran, and that it is not running once it missed
three runs.

The finding: 123 s after the collector died (12 missed collections) `/status` still said
7 of 7 ok and fresh. The collector now records each run (time and interval); /status shows
its age, and "Collector NOT RUNNING" once three intervals (and a minute) went by.
"""

from __future__ import annotations

import asyncio
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


async def test_status_reports_a_running_then_a_dead_collector(replay_app: App) -> None:
    loop_stop = asyncio.Event()
    task = asyncio.create_task(collect_and_evaluate(replay_app, loop_stop))
    await until_async(replay_app.store.load_collector_run)  # the loop recorded its run
    loop_stop.set()
    await task
    assert "Collector: last run" in await status_notes(replay_app)
    # The collector died 123 s ago with a 10 s interval: 12 runs missed.
    await replay_app.store.save_collector_run(datetime.now(UTC) - timedelta(seconds=123), 10)
    notes = await status_notes(replay_app)
    assert "Collector NOT RUNNING" in notes and "2 min ago" in notes
