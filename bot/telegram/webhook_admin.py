"""`python -m bot webhook set|delete|info`: the only code that changes the Telegram webhook.

Webhook replicas behind a load balancer share one registration. Each replica used to call
setWebhook when it started and deleteWebhook when it stopped, so stopping one (a deploy, a
scale-down) unregistered the webhook for all of them. Now a replica only serves the
webhook; an operator (or a release step) registers it once with `webhook set` and removes
it with `webhook delete`. A replica that finds it missing or different says so at start.
"""

from __future__ import annotations

from telegram import Bot

from bot.telegram.frontend import check_config
from bot.telegram.sender import DEFAULT_BASE_URL
from bot.telegram.webhook import ALLOWED_UPDATES
from services.redaction import protect_token
from services.settings import Secrets, TelegramSettings

ACTIONS = ("set", "delete", "info")


async def manage_webhook(action: str, settings: TelegramSettings, secrets: Secrets) -> str:
    """Do `action` and return one line saying what the webhook is now."""
    if action not in ACTIONS:
        raise ValueError(f"unknown webhook action {action!r}; use set, delete or info")
    check_config(settings.model_copy(update={"mode": "webhook"}) if action == "set"
                 else settings, secrets)
    token = secrets.telegram_bot_token or ""
    protect_token(token)
    base = (secrets.telegram_api_base_url or DEFAULT_BASE_URL).rstrip("/")
    async with Bot(token, base_url=base) as bot:
        if action == "set":
            await bot.set_webhook(settings.webhook_url or "",
                                  secret_token=secrets.telegram_webhook_secret,
                                  allowed_updates=ALLOWED_UPDATES)
            return f"webhook set: {settings.webhook_url} (secret token set)"
        if action == "delete":
            await bot.delete_webhook()
            return "webhook deleted: updates now wait for polling"
        info = await bot.get_webhook_info()
        return (f"webhook: {info.url or '(none)'} pending_updates={info.pending_update_count}"
                + (f" last_error={info.last_error_message}" if info.last_error_message else ""))

