"""The checks behind `python -m bot doctor` and the summary `run` logs at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import aiohttp

from bot.app import App
from services.settings import Secrets
from services.sources.checks import FAIL, OK, Check
from services.sources.doctor import platform_check, run_doctor

logger = logging.getLogger(__name__)
TELEGRAM_API = "https://api.telegram.org/bot"
DISCORD_API = "https://discord.com/api/v10"
RUN_LIMIT_S = 30.0  # `run` does not wait longer than this for its start-up summary


async def doctor_checks(app: App, secrets: Secrets) -> list[Check]:
    """Every configured provider, then every configured platform (token valid)."""
    session = app.session or aiohttp.ClientSession()
    platforms: list[Awaitable[Check]] = []
    if secrets.telegram_bot_token:
        base = secrets.telegram_api_base_url or TELEGRAM_API
        platforms.append(platform_check(session, "telegram",
                                        f"{base}{secrets.telegram_bot_token}/getMe", {}))
    if secrets.discord_bot_token:
        base = (secrets.discord_api_base_url or DISCORD_API).rstrip("/")
        platforms.append(platform_check(session, "discord", f"{base}/users/@me",
                                        {"Authorization": f"Bot {secrets.discord_bot_token}"}))
    try:
        checks = await run_doctor(app.collector.chains, app.collector.today(),
                                  tuple(platforms))
    finally:
        if app.session is None:
            await session.close()
    if not app.collector.chains:
        checks.insert(0, Check("sources", OK, "replay mode: no upstream is called"))
    return checks


async def log_summary(app: App, secrets: Secrets) -> None:
    """What `doctor` prints, as log lines, without holding `run` up for long."""
    try:
        checks = await asyncio.wait_for(doctor_checks(app, secrets), RUN_LIMIT_S)
    except TimeoutError:
        logger.warning("doctor: no summary within %.0f s", RUN_LIMIT_S)
        return
    for check in checks:
        logger.log(logging.WARNING if check.level == FAIL else logging.INFO, "doctor: %s",
                   check.line())
