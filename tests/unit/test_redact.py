"""Log redaction registers every secret the settings know, and stays light to import."""

from __future__ import annotations

import subprocess
import sys

from services.redaction import SECRET_VARIABLES
from services.settings import Secrets


def test_every_secret_setting_is_a_redacted_variable() -> None:
    secret_fields = {name.upper() for name in Secrets.model_fields if not name.endswith("_url")}
    assert set(SECRET_VARIABLES) == secret_fields  # REDIS_URL: its password is redacted


def test_the_notifier_worker_loads_no_chat_sdk() -> None:
    """The worker registers secrets without importing python-telegram-bot or discord.py."""
    probe = ("import sys, tests.worker_process; "
             "print(sorted(m for m in ('telegram', 'discord') if m in sys.modules))")
    command = [sys.executable, "-c", probe]
    done = subprocess.run(command, capture_output=True, text=True, check=True,  # noqa: S603
                          timeout=60)
    assert done.stdout.strip() == "[]"
