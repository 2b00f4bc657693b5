"""One registry of command specs, read by every front-end and by /help."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ExecAbortError, OutOfMemoryError, ReadOnlyError, RedisError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from handlers.errors import UserError
from handlers.reply import Reply, error_reply
from services.errors import Unavailable

if TYPE_CHECKING:
    from services.hub import ServiceHub

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 300
APOLOGY = "Sorry, something went wrong answering that. It has been logged; please try again."
STORE_DOWN = "data store temporarily unavailable; try again in a minute"
# Redis unreachable (down, restarting, loading its data, timing out) or a read-only replica
# mid-failover: not a bug, not the user's fault; it passes, and redis-py reconnects.
STORE_OUTAGE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError)


async def _always_admin() -> bool:
    return True


@dataclass(frozen=True)
class Chat:
    """Who asked: enough for replies, permissions and per-chat settings."""

    platform: str
    chat_id: str
    user_id: str = ""
    is_group: bool = False
    is_admin: Callable[[], Awaitable[bool]] = field(default=_always_admin, compare=False)


@dataclass(frozen=True)
class CommandContext:
    hub: ServiceHub
    chat: Chat
    registry: Registry


@dataclass(frozen=True)
class Param:
    name: str
    help: str
    choices: tuple[str, ...] = ()
    required: bool = False


Handler = Callable[[CommandContext, tuple[str, ...]], Awaitable[Reply]]
ArgsTest = Callable[[tuple[str, ...]], bool]


def _never(args: tuple[str, ...]) -> bool:
    return False


def _always(args: tuple[str, ...]) -> bool:
    return True


@dataclass(frozen=True)
class CommandSpec:
    name: str
    help: str
    handler: Handler
    params: tuple[Param, ...] = ()
    changes_settings: bool = False
    details: str = ""  # what /help <command> adds to the one-line help
    # True for the arguments with which the command reads or changes this chat's alert or
    # digest set-up: a chat parked as gone is restored before it runs (see Registry.call).
    uses_setup: ArgsTest = _never

    @property
    def usage(self) -> str:
        parts = [f"/{self.name}"]
        for p in self.params:
            parts.append(f"<{p.name}>" if p.required else f"[{p.name}]")
        return " ".join(parts)


class CommandGroup:
    """Collects the commands of one handler module. The docstring's first line is the short
    help (the /help list, the command menus); the paragraph after it, the details."""

    def __init__(self) -> None:
        self.specs: list[CommandSpec] = []

    def command(
        self, *params: Param, name: str = "", changes_settings: bool = False,
        uses_setup: bool | ArgsTest | None = None,
    ) -> Callable[[Handler], Handler]:
        """`uses_setup` defaults to `changes_settings` (every such command acts on it)."""
        setup = changes_settings if uses_setup is None else uses_setup
        setup_test = setup if callable(setup) else _always if setup else _never

        def register(fn: Handler) -> Handler:
            doc = (fn.__doc__ or "").strip().splitlines()
            self.specs.append(
                CommandSpec(
                    name=name or fn.__name__,
                    help=doc[0].strip() if doc else fn.__name__,
                    handler=fn,
                    params=params,
                    changes_settings=changes_settings,
                    uses_setup=setup_test,
                    details=" ".join(line.strip() for line in doc[1:] if line.strip()),
                )
            )
            return fn

        return register


def parse_command(text: str) -> tuple[str, tuple[str, ...]]:
    """Split '/name@Bot arg1 arg2' into ('name', ('arg1', 'arg2'))."""
    words = text.strip().split()
    if not words or not words[0].startswith("/") or len(words[0]) < 2:
        raise UserError("commands start with '/'; try /help")
    name = words[0][1:].split("@", 1)[0].lower()
    return name, tuple(words[1:])


def encodable(text: str) -> str:
    """The text with any lone surrogate as '?'. A client bug can send one (JSON may escape
    it); it cannot be encoded as UTF-8, so it would fail the reply, the log and Redis."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


async def _restore(ctx: CommandContext) -> bool:
    """A command from a chat parked as gone (it had blocked or removed the bot) proves the
    bot is back: its alert subscriptions and digest are restored. True if they were. One
    read when the chat is not parked."""
    alerts = ctx.hub.alerts
    if alerts is None or ctx.chat.platform in ("console", "digest"):
        return False
    restored = await alerts.restore_destination(f"{ctx.chat.platform}:{ctx.chat.chat_id}")
    return restored is not None


async def _welcome_back(ctx: CommandContext) -> bool:
    """`_restore` after a command that does not use the store's set-up; an outage is only
    logged (the command has been answered)."""
    try:
        return await _restore(ctx)
    except RedisError as exc:
        logger.debug("restore check failed chat=%s: %s", ctx.chat.chat_id, exc)  # an outage
        return False


def store_refused(exc: RedisResponseError) -> bool:
    """Redis refused the write as a whole (maxmemory with noeviction; a replica; a
    transaction discarded for one of those): an outage of the store, not a bug."""
    text = str(exc)
    return isinstance(exc, OutOfMemoryError | ExecAbortError) or text.startswith(
        ("OOM", "READONLY", "MISCONF", "EXECABORT"))


@dataclass
class CommandCounts:
    """What this registry's commands came to, for an operator (and a test) to read back."""

    store_down: int = 0  # answered "temporarily unavailable": the store was out
    failed: int = 0  # an unhandled exception: answered with the apology, logged with traceback


class Registry:
    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self.counts = CommandCounts()
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"command /{spec.name} registered twice")
            self._specs[spec.name] = spec

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def get(self, name: str) -> CommandSpec | None:
        return self._specs.get(name)

    async def run_text(self, ctx: CommandContext, text: str) -> Reply:
        """Answer one line of chat input; never raises."""
        if len(text) > MAX_INPUT_CHARS:
            return error_reply(
                f"input too long ({len(text)} characters; at most {MAX_INPUT_CHARS})", "/help"
            )
        try:
            name, args = parse_command(text)
        except UserError as exc:
            return error_reply(exc.message, exc.usage)
        return await self.call(ctx, name, args)

    async def call(self, ctx: CommandContext, name: str, args: tuple[str, ...]) -> Reply:
        """Run a command by name; user errors become a one-line reply, bugs an apology."""
        name, args = encodable(name), tuple(encodable(a) for a in args)
        spec = self._specs.get(name)
        if spec is None:
            name = " ".join(name.split())  # echoed on one line, whatever the caller passed
            shown = name if len(name) <= 30 else name[:30] + "…"
            return error_reply(f"unknown command /{shown}; try /help")
        setup = spec.uses_setup(args)
        try:
            # A command on the set-up sees (and changes) the restored one, and runs once: it
            # goes to the store anyway, so with Redis down this is the one wait, answered
            # below as an outage without running the command.
            if setup:
                await _restore(ctx)
            if spec.changes_settings and ctx.chat.is_group and not await ctx.chat.is_admin():
                raise UserError("only chat admins can change settings here")
            reply = await spec.handler(ctx, args)
        except UserError as exc:
            return error_reply(exc.message, exc.usage or spec.usage)
        except Unavailable as exc:
            if isinstance(exc.__cause__, RedisError):
                self._log_outage(ctx, name, exc.__cause__)
            return error_reply(str(exc))
        except STORE_OUTAGE as exc:
            self._log_outage(ctx, name, exc)
            return error_reply(STORE_DOWN)
        except RedisResponseError as exc:
            if not store_refused(exc):
                return self._failed(ctx, name)
            self._log_outage(ctx, name, exc)
            return error_reply(STORE_DOWN)
        except Exception:
            return self._failed(ctx, name)
        # Any other command: the store answered (or was not needed), so checking whether this
        # chat comes back after the answer costs no outage wait before it; never run again.
        if not setup:
            await _welcome_back(ctx)
        return reply.with_command(" ".join((f"/{name}", *args)))

    def _failed(self, ctx: CommandContext, name: str) -> Reply:
        """A bug: logged with its traceback (called from inside the except), the apology."""
        logger.exception("command failed: /%s platform=%s chat=%s",
                         name, ctx.chat.platform, ctx.chat.chat_id)
        self.counts.failed += 1
        return error_reply(APOLOGY)

    def _log_outage(self, ctx: CommandContext, name: str, exc: BaseException) -> None:
        """One line, no traceback: an outage is expected and every command would repeat it."""
        self.counts.store_down += 1
        logger.warning("command answered 'temporarily unavailable': /%s platform=%s chat=%s "
                       "error=%s: %s", name, ctx.chat.platform, ctx.chat.chat_id,
                       type(exc).__name__, exc)
