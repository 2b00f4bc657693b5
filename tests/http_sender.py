"""The tests' HTTP sender: POSTs each alert to a local delivery stand-in.

`HttpSender` speaks the stand-ins' protocol (tests/integration/delivery_standin.py,
bench/limit_standin.py): POST `{base_url}/{platform}/send` with `{"chat_id", "text"}` and an
Idempotency-Key header, answered in Telegram's or Discord's error shape. Test scaffolding, so
it lives here rather than beside the production senders.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from services.alerts.delivery import DISCORD_GONE_CODES, DeliveryResult, proves_gone
from services.alerts.events import AlertEvent


def result_from_http(status: int, body: dict[str, Any]) -> DeliveryResult:
    """Map an HTTP answer in Telegram's or Discord's shape to a DeliveryResult."""
    parameters = body.get("parameters") or {}
    error = str(body.get("description") or body.get("message") or f"HTTP {status}")
    if 200 <= status < 300:
        return DeliveryResult.ok()
    if status == 429:
        seconds = parameters.get("retry_after", body.get("retry_after", 1.0))
        return DeliveryResult.rate_limited(float(seconds), bool(body.get("global", False)))
    if parameters.get("migrate_to_chat_id"):
        return DeliveryResult.migrated(str(parameters["migrate_to_chat_id"]))
    if proves_gone(error) or body.get("code") in DISCORD_GONE_CODES:
        return DeliveryResult.gone(error)
    return DeliveryResult.failed(error, retryable=status >= 500 or status == 408)


class HttpSender:
    """POSTs `{"chat_id", "text"}` to `{base_url}/{platform}/send` with an Idempotency-Key.

    A generic webhook-style sender; the tests' delivery stand-in speaks it too.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str, platform: str,
                 timeout_s: float = 10.0) -> None:
        self.session = session
        self.url = f"{base_url.rstrip('/')}/{platform}/send"
        self.platform = platform
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult:
        payload = {"chat_id": chat_id, "text": text, "has_image": image is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            async with self.session.post(self.url, json=payload, headers=headers,
                                         timeout=self.timeout) as response:
                status, text = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}", retryable=True)
        return result_from_http(status, _json_object(text))


def _json_object(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:  # an HTML error page from a proxy: the status code says enough
        return {}
    return body if isinstance(body, dict) else {}
