"""The bot half of bench.command_path: flowwatch or a bare echo bot, polling the stand-in.

Runs in its own process so the stand-in's work is not charged to the bot:
    python -m bench.tg_bot --kind flowwatch|echo --base-url URL --out FILE [--profile FILE]
Both use the same PTB Application (bot.telegram.frontend.build_application). flowwatch answers
from real Redis (the replay snapshot is refreshed into --prefix first) with Telegram pacing
lifted, since the stand-in has no limits to respect. Prints "ready" once polling; on SIGTERM
stops and writes each callback's (start, seconds, kind, process CPU time at its end) to
--out as JSON; start is on the same monotonic clock as the parent's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler

from bench.common import REDIS_URL, bench_settings
from bot.app import build_app
from bot.telegram.frontend import ALLOWED_UPDATES, TelegramFrontend, build_application
from bot.telegram.pacing import Pacer, PacingLimits
from handlers.registry import CommandContext, Registry
from handlers.reply import Reply
from services.settings import Secrets, Settings
from tests.e2e.telegram_standin import TOKEN

UNPACED = PacingLimits(overall=(10**9, 1.0), per_chat=(10**9, 1.0), per_group=(10**9, 1.0))
# A typical flowwatch reply: ~600 characters of HTML, Refresh and Chart buttons.
RICH_TEXT = "\n".join(["<b>Divergence since 2024-01-01</b>", "<pre>", *(
    f"{name:<10} {i * 37.3 - 80:+8.1f}%  {i * 11.1:+7.1f}%" for i, name in enumerate(
        ("NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS", "BTC", "ETH", "S&amp;P 500",
         "AI basket", "Crypto", "Spread"))), "</pre>",
    "Returns are price returns on split-adjusted closes; SK Hynix in KRW.",
    "<i>Source: Yahoo Finance, Coinbase, FRED SP500 · as of 2026-05-29 (UTC)</i>"])
RICH_MARKUP = InlineKeyboardMarkup([[InlineKeyboardButton("Refresh", callback_data="r:/x"),
                                     InlineKeyboardButton("Chart", callback_data="c:/x")]])
Samples = list[tuple[float, float, str, float]]  # start, seconds, kind, CPU time at end
Callback = Callable[[Update, Any], Coroutine[Any, Any, None]]


class TimedRegistry(Registry):
    """The registry, timing each command: parse, services and their Redis reads."""

    def __init__(self, registry: Registry, samples: Samples) -> None:
        super().__init__(registry)
        self.samples = samples

    async def call(self, ctx: CommandContext, name: str, args: tuple[str, ...]) -> Reply:
        start = time.monotonic()
        reply = await super().call(ctx, name, args)
        kind = f"error: {reply.title}" if reply.error else "handler"
        self.samples.append((start, time.monotonic() - start, kind, time.process_time()))
        return reply


def timed(callback: Callback, samples: Samples) -> Callback:
    """A PTB callback timed whole: handler, render and the sendMessage round trip."""

    async def run(update: Update, context: Any) -> None:
        start = time.monotonic()
        await callback(update, context)
        samples.append((start, time.monotonic() - start, "callback", time.process_time()))

    return run


def time_commands(handlers: list[BaseHandler[Any, Any, Any]], samples: Samples) -> None:
    for handler in handlers:
        if isinstance(handler, CommandHandler):
            handler.callback = timed(handler.callback, samples)


async def echo(update: Update, context: Any) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await context.bot.send_message(message.chat_id, message.text,
                                       reply_parameters=ReplyParameters(message.message_id))


async def echo_rich(update: Update, context: Any) -> None:
    """What-if baseline: no handler work, but a reply shaped like flowwatch's."""
    message = update.effective_message
    if message is not None:
        await context.bot.send_message(
            message.chat_id, RICH_TEXT, parse_mode=ParseMode.HTML, reply_markup=RICH_MARKUP,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_parameters=ReplyParameters(message.message_id,
                                             allow_sending_without_reply=True))


async def run_echo(args: argparse.Namespace, stop: asyncio.Event, samples: Samples) -> None:
    telegram = bot_settings(args).telegram  # the same PTB settings as flowwatch's
    application = build_application(TOKEN, args.base_url, webhook=False,
                                    concurrent_updates=telegram.concurrent_updates,
                                    connections=telegram.connections)
    callback = echo_rich if args.kind == "echo-rich" else echo
    application.add_handler(CommandHandler(args.commands.split(","), timed(callback, samples)))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        print("ready", flush=True)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


async def run_flowwatch(args: argparse.Namespace, stop: asyncio.Event,
                        samples: Samples) -> None:
    secrets = Secrets(redis_url=args.redis_url, telegram_bot_token=TOKEN,
                      telegram_api_base_url=args.base_url)
    app = await build_app(bot_settings(args), secrets)  # its own Redis client
    try:
        await app.refresh()
        app.registry = TimedRegistry(app.registry, samples)
        frontend = TelegramFrontend(app, secrets, Pacer(UNPACED))
        time_commands(frontend.application.handlers[0], samples)
        async with frontend:
            print("ready", flush=True)
            await stop.wait()
    finally:
        await app.aclose()


def bot_settings(args: argparse.Namespace) -> Settings:
    """config.yaml's settings, with the what-if telegram.* values of the command line."""
    settings = bench_settings(args.prefix)
    what_if = {k: v for k, v in (("concurrent_updates", args.concurrent_updates),
                                 ("connections", args.connections)) if v}
    return settings.model_copy(update={"telegram": settings.telegram.model_copy(update=what_if)})


async def main(args: argparse.Namespace) -> Samples:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    samples: Samples = []
    run = run_flowwatch if args.kind == "flowwatch" else run_echo
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    await run(args, stop, samples)
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    return samples


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("flowwatch", "echo", "echo-rich"), required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--commands", default="divergence,btc,stablecoins,yields,aitokens,capex")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--profile", default="", help="write cProfile stats to this file")
    parser.add_argument("--concurrent-updates", type=int, default=0,
                        help="what-if: telegram.concurrent_updates N instead of config.yaml's")
    parser.add_argument("--connections", type=int, default=0,
                        help="what-if: telegram.connections N instead of config.yaml's")
    logging.basicConfig(level=logging.ERROR)  # error replies are counted, not logged each
    arguments = parser.parse_args()
    Path(arguments.out).write_text(json.dumps(asyncio.run(main(arguments))))
