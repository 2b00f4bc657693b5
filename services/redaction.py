"""Keep secrets (bot tokens, API keys, passwords) out of every log line and stored error.

Two places a secret can leak, one module for both:
- Logs. PTB logs its API URL, which embeds the bot token, at DEBUG; httpx logs every URL at
  INFO; PTB's InvalidToken message quotes the rejected token, and whoever logs that
  exception prints it in the traceback. So redaction happens where every record is born: a
  LogRecord factory replaces each registered secret, in every form below, in the message
  and in the formatted traceback before any handler (console, file, caplog) sees it.
- Upstream error text, which is stored and shown by /status and replies: an upstream or a
  proxy's error page may quote the request it refused, key included. `redact` cleans it of
  the client's secrets (and the registered ones), URL query strings and `key=value`
  credentials.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

if TYPE_CHECKING:  # a type only: this module stays light to import
    from services.settings import Secrets

REDACTED = "<redacted>"
# A shorter value would blot out ordinary words; no real token or key is that short.
MIN_SECRET_CHARS = 6
# Request header or query parameter names whose values are credentials.
SECRET_NAME = re.compile(r"key|token|secret|passw|auth|signature", re.IGNORECASE)
# Bounded runs: each match attempt stops after a few KB, so the scan stays linear even on a
# page of one endless token (unbounded runs made a 100 KB page take seconds per request).
_URL_QUERY = re.compile(r"""(https?://[^\s?#"'<>]{1,2048})\?[^\s#"'<>]{0,8192}""")
_CREDENTIAL_PARAM = re.compile(
    r"""\b((?:api[_-]?)?key|apikey|access[_-]?token|token|secret|password)=[^&\s"'<>]{1,4096}""",
    re.IGNORECASE)
# The environment variables that hold secrets (Secrets reads them; a test keeps both in step).
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "DISCORD_BOT_TOKEN",
                    "COINGECKO_API_KEY", "COINGECKO_PRO_API_KEY", "FRED_API_KEY",
                    "STOOQ_API_KEY", "TIINGO_API_KEY")

_forms: set[str] = set()
_ordered: tuple[str, ...] = ()  # longest first, so a secret inside another is not split
_lock = threading.Lock()


def secret_forms(secret: str) -> set[str]:
    """The secret as written, URL-encoded (path, query, form) and JSON-escaped."""
    escaped = json.dumps(secret)[1:-1]
    return {secret, quote(secret), quote(secret, safe=""), quote_plus(secret), escaped,
            escaped.replace("/", "\\/")}


def _replace(text: str, forms: Iterable[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_secrets(text: str) -> str:
    """`text` with every registered secret replaced by <redacted> (what logs get)."""
    return _replace(text, _ordered)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Upstream text without these secrets or the registered ones, URL query strings or
    `key=value` credentials."""
    forms = {f for s in secrets if len(s) >= MIN_SECRET_CHARS for f in secret_forms(s)}
    text = _replace(redact_secrets(text), sorted(forms, key=len, reverse=True))
    text = _URL_QUERY.sub(r"\1", text)
    return _CREDENTIAL_PARAM.sub(rf"\1={REDACTED}", text)


def named_secrets(values: dict[str, str]) -> list[str]:
    """Values of headers or query parameters whose names say they are credentials."""
    return [value for name, value in values.items() if SECRET_NAME.search(name)]


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
    clean = redact_secrets(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        # What logging.Formatter.formatException would print; a handler uses exc_text as is.
        shown = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact_secrets(shown)
        if clean != shown:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = redact_secrets(record.stack_info)
