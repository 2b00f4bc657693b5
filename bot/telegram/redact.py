"""Keep the bot token out of logs: PTB logs its API URL at DEBUG, httpx every URL at INFO."""

from __future__ import annotations

import logging

# Loggers that format request URLs (which embed the token) into their records.
URL_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore")
REDACTED = "<token>"


class TokenRedactor(logging.Filter):
    """Rewrites any record that contains the token before a handler formats it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, REDACTED), None
        return True


def protect_token(token: str) -> None:
    """Redact the token on every URL-logging logger; httpx's per-request lines go quiet."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in URL_LOGGERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactor) and f.token == token for f in log.filters):
            log.addFilter(TokenRedactor(token))
