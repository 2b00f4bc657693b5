"""/alerts, /subscribe, /unsubscribe, /alert add|rm|metrics, /mute, /unmute."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from handlers.alert_metrics import metrics_reply
from handlers.args import no_args
from handlers.errors import UserError
from handlers.registry import CommandContext, CommandGroup, Param
from handlers.reply import Reply, Table
from services.alerts.events import destination_id
from services.alerts.rules import GRAMMAR, RuleError, duration
from services.alerts.service import AlertService, RuleStatus
from services.alerts.subscriptions import SubscriptionError
from services.errors import Unavailable

commands = CommandGroup()
RULE_OR_ALL = Param("rule", "a rule id from /alerts, or all (the default)")
MUTE_HINT = "/mute 1d pauses alerts here; /unmute resumes them."


def _service(ctx: CommandContext) -> AlertService:
    if ctx.hub.alerts is None:
        raise Unavailable("alerts are not set up on this bot")
    return ctx.hub.alerts


def _dest(ctx: CommandContext) -> str:
    return destination_id(ctx.chat.platform, ctx.chat.chat_id)


@contextmanager
def _as_user_error() -> Iterator[None]:
    try:
        yield
    except (RuleError, SubscriptionError) as exc:
        raise UserError(str(exc)) from None


async def _require_admin(ctx: CommandContext) -> None:
    if ctx.chat.is_group and not await ctx.chat.is_admin():
        raise UserError("only chat admins can change settings here")


def _state_text(status: RuleStatus) -> str:
    state = status.state
    if state is None:
        return "not evaluated yet"
    if state.status == "firing" and state.fired_at is not None:
        return f"firing since {state.fired_at:%Y-%m-%d %H:%M} UTC"
    if not state.armed:
        return f"{state.status} (already across; waits for a fresh crossing)"
    return state.status


@commands.command(name="alerts")
async def alerts(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """This chat's alert rules.

    Alert rules for this chat: subscriptions and each rule's state.
    """
    no_args(args)
    view = await _service(ctx).overview(_dest(ctx))
    rows = tuple((s.rule.id, s.rule.rule.describe(), "yes" if s.subscribed else "no",
                  _state_text(s)) for s in view.rules)
    notes = [f"{s.rule.id}: {s.rule.description}" for s in view.rules if s.rule.description]
    notes.append(f"Custom rules: {view.custom_count} of {view.custom_cap}. /subscribe all, "
                 "/alert add <rule>, /alert metrics.")
    if view.muted_for is not None:
        notes.append(f"Muted for another {duration(view.muted_for)}; /unmute resumes.")
    return Reply(title="Alert rules", tables=(Table(("id", "rule", "subscribed", "state"),
                                                    rows),), notes=tuple(notes))


@commands.command(RULE_OR_ALL, changes_settings=True)
async def subscribe(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Get alerts here.

    Get alerts here when a rule fires (one rule id, or all).
    """
    if len(args) > 1:
        raise UserError("give one rule id, or all")
    with _as_user_error():
        ids = await _service(ctx).subscribe(_dest(ctx), args[0] if args else "all")
    return Reply(title=f"Subscribed to {', '.join(ids) or 'no rules'}", notes=(MUTE_HINT,))


@commands.command(RULE_OR_ALL, changes_settings=True)
async def unsubscribe(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Stop alerts here.

    Stop alerts here for one rule id, or all.
    """
    if len(args) > 1:
        raise UserError("give one rule id, or all")
    with _as_user_error():
        ids = await _service(ctx).unsubscribe(_dest(ctx), args[0] if args else "all")
    return Reply(title=f"Unsubscribed from {', '.join(ids) or 'no rules'}")


@commands.command(
    Param("action", "add <rule>, rm <id> or metrics", choices=("add", "rm", "metrics"),
          required=True),
    Param("rule", f"for add, a rule: {GRAMMAR}; for rm, a rule id"),
    name="alert",
)
async def alert(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Add or remove an alert rule.

    Add or remove a custom alert rule, or list the metrics rules can watch.
    """
    action, rest = (args[0].lower(), args[1:]) if args else ("", ())
    if action == "metrics":
        return metrics_reply(_service(ctx).metrics(), rest, GRAMMAR)
    if action not in ("add", "rm") or not rest:
        raise UserError("expected add <rule>, rm <id> or metrics")
    await _require_admin(ctx)
    with _as_user_error():
        if action == "add":
            added = await _service(ctx).add_rule(_dest(ctx), " ".join(rest))
            return Reply(title=f"Added rule {added.id}: {added.rule.describe()}",
                         notes=("This chat is subscribed to it. " + MUTE_HINT,))
        removed = await _service(ctx).remove_rule(_dest(ctx), rest[0])
    return Reply(title=f"Removed rule {removed.id}: {removed.rule.describe()}")


@commands.command(Param("duration", "how long, like 30m, 6h, 1d (at most 30d)", required=True),
                  changes_settings=True)
async def mute(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Pause alerts here.

    Pause alerts in this chat for a while.
    """
    if len(args) != 1:
        raise UserError("give one duration, like 6h or 1d")
    with _as_user_error():
        span = await _service(ctx).mute(_dest(ctx), args[0])
    return Reply(title=f"Alerts muted here for {duration(span)}", notes=("/unmute resumes.",))


@commands.command(changes_settings=True)
async def unmute(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Resume alerts here.

    Resume alerts in this chat.
    """
    no_args(args)
    was_muted = await _service(ctx).unmute(_dest(ctx))
    return Reply(title="Alerts resumed here" if was_muted else "Alerts were not muted here")
