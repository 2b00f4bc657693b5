"""Keep secrets (bot tokens, API keys, passwords) out of every log line.

PTB logs its API URL, which embeds the bot token, at DEBUG; httpx logs every URL at INFO;
PTB's InvalidToken message quotes the rejected token, and whoever logs that exception (the
runner restarting a failed front-end, say) prints it in the traceback. Any logger can carry
a secret, with or without a traceback, so redaction happens where every record is born: a
LogRecord factory replaces each registered secret, and its URL-encoded forms, in the message
and in the formatted traceback before any handler (console, file, pytest's caplog) sees it.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

if TYPE_CHECKING:  # a type only: this module stays light (the notifier worker imports it)
    from services.settings import Secrets

REDACTED = "<redacted>"
# A shorter value would blot out ordinary words; no real token or key is that short.
MIN_SECRET_CHARS = 6

_forms: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first, so a secret inside another is not split
_lock = threading.Lock()


def secret_forms(secret: str) -> set[str]:
    """The secret as written and as it appears in a URL path, query or form body."""
    return {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}


def redact(text: str) -> str:
    """`text` with every registered secret replaced by <redacted>."""
    for form in _ordered:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def protect_secrets(*secrets: str | None) -> None:
    """Redact these values from every log record from now on (unset or short ones skipped)."""
    global _ordered  # noqa: PLW0603 - one process-wide set, like the logging module's own state
    new = {f for s in secrets if s and len(s) >= MIN_SECRET_CHARS for f in secret_forms(s)}
    if not new:
        return
    with _lock:
        _forms.update(new)
        _ordered = tuple(sorted(_forms, key=len, reverse=True))
        _install()


# The environment variables that hold secrets (Secrets reads them; a test keeps both in step).
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "DISCORD_BOT_TOKEN",
                    "COINGECKO_API_KEY", "COINGECKO_PRO_API_KEY", "FRED_API_KEY",
                    "STOOQ_API_KEY", "TIINGO_API_KEY")


def protect_logs(secrets: Secrets) -> None:
    """Redact every secret these settings hold, and the Redis password, in every log line."""
    protect_secrets(secrets.telegram_bot_token, secrets.telegram_webhook_secret,
                    secrets.discord_bot_token, secrets.coingecko_api_key, secrets.fred_api_key,
                    urlsplit(secrets.redis_url or "").password)


def protect_environment(*redis_urls: str) -> None:
    """The same for every secret variable of the environment and REDIS_URL, plus the
    passwords of `redis_urls` (a worker's --redis-url)."""
    urls = (os.environ.get("REDIS_URL") or "", *redis_urls)
    protect_secrets(*(os.environ.get(name) for name in SECRET_VARIABLES),
                    *(urlsplit(url).password for url in urls))


def protect_token(token: str) -> None:
    """Redact the bot token everywhere; httpx's per-request INFO lines go quiet as well."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    protect_secrets(token)


def _install() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_secrets", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _scrub(record)
        return record

    redacting_factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)


def _scrub(record: logging.LogRecord) -> None:
    if not _ordered:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when a handler emits it
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        # What logging.Formatter.formatException would print; a handler uses exc_text as is.
        shown = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(shown)
        if clean != shown:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
