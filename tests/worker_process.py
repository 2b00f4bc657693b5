"""A notifier worker process for the fan-out tests and bench:
`python -m tests.worker_process --redis-url URL --prefix P --consumer NAME`.

The app comes from the one composition root (bot/app.py `build_app`) and the notifier from
`bot.alerting.build_notifier`, as in `python -m bot run --role worker`; what this harness
adds is test scaffolding: the HTTP sender to the stand-ins (`--http-sender-url`), faster
rate limits (`--pacing-speedup`), the notifier's knobs and its outcome counts
(`--counts-file`). SIGTERM/SIGINT stop it
gracefully; after SIGKILL its pending entries are reclaimed by the other workers.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import logging
import signal
import sys
from pathlib import Path

import aiohttp

from bot.alerting import build_notifier
from bot.app import build_app
from services.alerts.attempts import NotifierSettings
from services.alerts.delivery import Sender
from services.alerts.pacing import DEFAULT_LIMITS, Pacer
from services.bundle import default_config
from services.redaction import protect_environment
from services.settings import ConfigError, Secrets, StoreSettings, load_settings
from tests.http_sender import HttpSender

logger = logging.getLogger("tests.worker_process")
HTTP_PLATFORMS = ("telegram", "discord")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.worker_process",
                                     description="Deliver queued alerts (one notifier worker).")
    parser.add_argument("--redis-url", required=True,
                        help="redis://, redis+cluster:// or redis+sentinel:// (see README)")
    parser.add_argument("--prefix", default="fw:", help="Redis key prefix")
    parser.add_argument("--consumer", required=True, help="this worker's consumer name")
    parser.add_argument("--http-sender-url", default="",
                        help="send through HTTP to this base URL instead of the terminal")
    parser.add_argument("--local-pacing", action="store_true",
                        help="pace platform-wide limits in this process at 1/--workers of "
                        "the rate, instead of on one schedule in Redis shared by all workers")
    parser.add_argument("--workers", type=int, default=1,
                        help="with --local-pacing: how many workers share the limits")
    parser.add_argument("--pacing-speedup", type=float, default=1.0,
                        help="run every rate limit this many times faster")
    parser.add_argument("--concurrency", type=int, default=4, help="sends per platform")
    parser.add_argument("--min-idle-ms", type=int, default=60_000,
                        help="reclaim entries other workers left untouched this long")
    parser.add_argument("--lease-ms", type=int, default=NotifierSettings.lease_ms)
    parser.add_argument("--send-timeout", type=float, default=NotifierSettings.send_timeout_s,
                        help="seconds (above the platform client's own timeouts)")
    parser.add_argument("--no-resend-after-crash", dest="resend_after_crash",
                        action="store_false", help="dead-letter an alert whose sender died "
                        "mid-send instead of sending it again (at-most-once)")
    parser.add_argument("--counts-file", type=Path,
                        help="on a graceful stop, write the notifier's outcome counts here")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every delivery")
    return parser


async def run_worker(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    notifier_settings = NotifierSettings(
        concurrency=args.concurrency, min_idle_ms=args.min_idle_ms, lease_ms=args.lease_ms,
        send_timeout_s=args.send_timeout, resend_after_crash=args.resend_after_crash,
        shared_pacing=not args.local_pacing)
    limits = {p: limit.faster(args.pacing_speedup) for p, limit in DEFAULT_LIMITS.items()}
    settings = load_settings(default_config()).model_copy(
        update={"store": StoreSettings(prefix=args.prefix)})
    app = await build_app(settings, Secrets(redis_url=args.redis_url), replay=True)
    try:
        async with aiohttp.ClientSession() as session:
            senders: dict[str, Sender] = {}
            if args.http_sender_url:
                senders = {p: HttpSender(session, args.http_sender_url, p,
                                         timeout_s=args.send_timeout)
                           for p in HTTP_PLATFORMS}
            notifier = build_notifier(app, senders, args.consumer,
                                      pacer=Pacer(limits, workers=args.workers),
                                      settings=notifier_settings)
            # Long-lived objects (modules, clients) out of the collector's way: a full
            # collection over them stalls the loop for 10-30 ms, enough to bunch paced sends.
            gc.freeze()
            logger.info("notifier worker started consumer=%s", args.consumer)
            await notifier.run(stop)
            if args.counts_file:
                args.counts_file.write_text(json.dumps(dataclasses.asdict(notifier.counts)))
    finally:
        await app.aclose()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every secret in the environment, as `python -m bot` does, and the password of the
    # --redis-url this worker was given (its REDIS_URL may be unset or another one).
    protect_environment(args.redis_url)
    try:
        asyncio.run(run_worker(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
