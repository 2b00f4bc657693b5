"""Argument parsing shared by handlers; every failure is a UserError naming the bad value."""

from __future__ import annotations

from handlers.errors import UserError
from handlers.registry import Param
from services.windows import WINDOW_HELP, Window, WindowError, parse_window

WINDOW = Param("window", f"one of {WINDOW_HELP}", choices=("ytd", "30d", "90d", "1y",
                                                            "since:2024-01-01"))


def no_args(args: tuple[str, ...]) -> None:
    if args:
        raise UserError(f"this command takes no arguments (got '{_short(args[0])}')")


def window_arg(args: tuple[str, ...], default: Window) -> Window:
    if len(args) > 1:
        raise UserError(f"expected one window, got {len(args)} arguments")
    if not args:
        return default
    try:
        return parse_window(args[0])
    except WindowError as exc:
        raise UserError(str(exc)) from None


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"
