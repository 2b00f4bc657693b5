"""Keep API keys out of upstream error text, which is stored and shown by /status and replies.

Logs are redacted process-wide (bot/redact.py); this cleans the text itself, since
an upstream or a proxy's error page may quote the request it refused, key included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "<redacted>"
MIN_SECRET_CHARS = 6  # shorter values would blank out ordinary words; real keys are longer
# Request header or query parameter names whose values are credentials.
SECRET_NAME = re.compile(r"key|token|secret|passw|auth|signature", re.IGNORECASE)
# Bounded runs: each match attempt stops after a few KB, so the scan stays linear even on a
# page of one endless token (unbounded runs made a 100 KB page take seconds per request).
_URL_QUERY = re.compile(r"""(https?://[^\s?#"'<>]{1,2048})\?[^\s#"'<>]{0,8192}""")
_CREDENTIAL_PARAM = re.compile(
    r"""\b((?:api[_-]?)?key|apikey|access[_-]?token|token|secret|password)=[^&\s"'<>]{1,4096}""",
    re.IGNORECASE)


def secret_forms(secret: str) -> set[str]:
    """The secret as written, URL-encoded (path, query, form) and JSON-escaped."""
    escaped = json.dumps(secret)[1:-1]
    return {secret, quote(secret), quote(secret, safe=""), quote_plus(secret), escaped,
            escaped.replace("/", "\\/")}


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` without the secrets, URL query strings or `key=value` credentials."""
    forms = {f for s in secrets if len(s) >= MIN_SECRET_CHARS for f in secret_forms(s)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    text = _URL_QUERY.sub(r"\1", text)
    return _CREDENTIAL_PARAM.sub(rf"\1={REDACTED}", text)


def named_secrets(values: dict[str, str]) -> list[str]:
    """Values of headers or query parameters whose names say they are credentials."""
    return [value for name, value in values.items() if SECRET_NAME.search(name)]
