"""`python -m bot`: run, console, ask, collect and backtest, each with --help."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

from bot.alerting import console_alerts
from bot.app import App, AsofError, build_app
from bot.console import ask_once, run_console
from bot.doctor import doctor_checks, log_summary
from bot.log_limit import limit_repeats
from bot.runner import ROLES
from services.alerts.backtest import BacktestError, run_backtest, terminal_progress
from services.alerts.rules import RuleError, parse_rule
from services.bundle import default_config
from services.engine import build_catalog
from services.redaction import protect_logs
from services.settings import ConfigError, Secrets, Settings, load_settings
from services.sources import SourceError
from services.sources.checks import FAIL

logger = logging.getLogger("bot")
ANSWER_DEADLINE_S = 3.0  # ask/console in live mode: the wait for upstreams before answering
DEFAULT_CONFIG = default_config()


def _asof(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text[:40]!r}; use YYYY-MM-DD") from None


def build_parser(prog: str = "python -m bot") -> argparse.ArgumentParser:
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--replay", action="store_true",
                      help="serve the bundled snapshot (the default unless config.yaml "
                           "says mode: live)")
    data.add_argument("--asof", type=_asof, metavar="YYYY-MM-DD",
                      help="replay as of this date (implies --replay; default: latest "
                           "date all core series share)")
    parser = argparse.ArgumentParser(prog=prog, description=(
        "flowwatch: capital leaving crypto for AI infrastructure, in live numbers."))
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config.yaml path")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("console", parents=[data], help="chat with the bot in this terminal")
    ask = sub.add_parser("ask", parents=[data], help="answer one command and exit "
                                                     "(non-zero on a user error)")
    ask.add_argument("text", help='the chat command, e.g. "/divergence ytd"')
    sub.add_parser("collect", parents=[data], help="compute and store every metric once")
    sub.add_parser("doctor", help="probe every configured provider and platform; one line "
                                  "per check with the fix, non-zero exit on a failure")
    run = sub.add_parser("run", parents=[data], help="run the bot: collector, alert "
                                                     "delivery and every configured front-end")
    run.add_argument("--role", choices=ROLES, default="all",
                     help="what this process runs: collector (collection and alert "
                          "evaluation, one leader across processes), worker (alert delivery), "
                          "web (chat front-ends) or all of them (default)")
    hook = sub.add_parser("webhook", help="register (set), remove (delete) or show (info) "
                                          "the Telegram webhook; replicas never change it")
    hook.add_argument("action", choices=("set", "delete", "info"))
    test = sub.add_parser("backtest", help="replay an alert rule over the bundled snapshot")
    test.add_argument("rule", help='an alert rule, e.g. "btc.drawdown crosses_below -30"')
    test.add_argument("--from", dest="start", type=_asof, metavar="YYYY-MM-DD",
                      help="first day (default: the first day the metric has a value)")
    test.add_argument("--to", dest="end", type=_asof, metavar="YYYY-MM-DD",
                      help="last day (default: the snapshot's as-of date)")
    return parser


def entry_point() -> None:
    """The `flowwatch` console script (the same commands as `python -m bot`)."""
    sys.exit(main(prog="flowwatch"))


def main(argv: list[str] | None = None, prog: str = "python -m bot") -> int:
    args = build_parser(prog).parse_args(argv)
    load_dotenv()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect_logs(Secrets.from_env())
    limit_repeats()
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_dispatch(args, settings))
    except (AsofError, ConfigError, SourceError) as exc:  # SourceError: an unreadable snapshot
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug: through logging, so the traceback is redacted like any line
        logging.getLogger("bot").critical("flowwatch stopped on an unexpected error",
                                          exc_info=True)
        return 1


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backtest":  # reads the snapshot only: no app, no Redis
        return await _backtest(args, settings)
    if args.command == "webhook":  # talks to Telegram only
        return await _webhook(args, settings)
    replay = True if getattr(args, "replay", False) or getattr(args, "asof", None) else None
    if args.command == "doctor":  # probes the live providers whatever the mode
        replay = False
    app = await build_app(settings, Secrets.from_env(), asof=getattr(args, "asof", None),
                          replay=replay)
    try:
        return await _COMMANDS[args.command](app, args)
    finally:
        await app.aclose()


def _deadline(app: App) -> float | None:
    """Live commands answer within seconds: upstreams slower than this are left for the
    next collection and the answer comes from stored or bundled data, marked stale."""
    return ANSWER_DEADLINE_S if app.hub.mode == "live" else None


async def _console(app: App, _args: argparse.Namespace) -> int:
    await app.refresh(deadline=_deadline(app))
    check_alerts = console_alerts(app)
    await check_alerts()
    await run_console(app, check_alerts)
    return 0


async def _ask(app: App, args: argparse.Namespace) -> int:
    await app.refresh(deadline=_deadline(app))
    text, is_error = await ask_once(app, args.text)
    print(text)
    return 1 if is_error else 0


async def _collect(app: App, _args: argparse.Namespace) -> int:
    result = await app.refresh(force=True)  # asked for: every chain, due or not
    print(f"collected as of {result.asof}: fresh {', '.join(result.families_ok) or 'none'}")
    for name, reason in result.families_stale.items():
        print(f"stale {name}: {reason}")
    return 1 if result.failed_sources else 0


async def _backtest(args: argparse.Namespace, settings: Settings) -> int:
    progress = terminal_progress if sys.stdout.isatty() else None
    try:
        catalog = build_catalog(settings.baskets, settings.thesis)
        result = await run_backtest(settings, catalog, parse_rule(args.rule, catalog),
                                    args.start, args.end, progress)
    except (RuleError, BacktestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join([*result.lines(), result.summary()]))
    return 0


async def _webhook(args: argparse.Namespace, settings: Settings) -> int:
    from telegram.error import TelegramError  # noqa: PLC0415 - imports the platform SDK

    from bot.telegram import TelegramConfigError  # noqa: PLC0415
    from bot.telegram.webhook_admin import manage_webhook  # noqa: PLC0415

    try:
        print(await manage_webhook(args.action, settings.telegram, Secrets.from_env()))
    except TelegramConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TelegramError as exc:
        print(f"error: telegram refused {args.action}: {exc.message}", file=sys.stderr)
        return 1
    return 0


async def _run(app: App, args: argparse.Namespace) -> int:
    from bot.runner import run_forever  # noqa: PLC0415 - imports the platform SDKs

    if app.hub.mode == "live":
        await log_summary(app, Secrets.from_env())
    return await run_forever(app, Secrets.from_env(), args.role)


async def _doctor(app: App, _args: argparse.Namespace) -> int:
    checks = await doctor_checks(app, Secrets.from_env())
    for check in checks:
        print(check.line())
    failed = sum(c.level == FAIL for c in checks)
    print(f"{len(checks)} checks, {failed} failed")
    return 1 if failed else 0


_COMMANDS = {"console": _console, "ask": _ask, "collect": _collect, "run": _run,
             "doctor": _doctor}
