"""The Telegram front-end (python-telegram-bot v22): the only package that imports telegram."""

from __future__ import annotations

import os

# Opt in to PTB's future behaviour: time periods (RetryAfter.retry_after, ...) as timedelta.
# Without it, merely constructing RetryAfter emits a PTBDeprecationWarning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.telegram.frontend import (
    TelegramConfigError,
    TelegramFrontend,
    check_config,
    run_telegram,
)

__all__ = ["TelegramConfigError", "TelegramFrontend", "check_config", "run_telegram"]
