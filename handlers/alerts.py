"""/alerts, /subscribe, /unsubscribe, /alert add|rm|metrics, /mute, /unmute."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from handlers import alert_guided
from handlers.alert_metrics import metrics_reply
from handlers.args import no_args
from handlers.errors import UserError
from handlers.registry import CommandContext, CommandGroup, Param
from handlers.reply import Button, Reply, Table
from services.alerts.buttons import send_now_buttons
from services.alerts.conditions import Observation
from services.alerts.events import destination_id
from services.alerts.messages import shown, threshold, unit_of
from services.alerts.now import distance
from services.alerts.rules import GRAMMAR, RuleError, duration
from services.alerts.service import AlertService, RuleStatus, Standing
from services.alerts.subscriptions import SubscriptionError

commands = CommandGroup()
RULE_OR_ALL = Param("rule", "a rule id from /alerts, or all (the default)")
MUTE_HINT = "/mute 1d pauses alerts here; /unmute resumes them."


def _service(ctx: CommandContext) -> AlertService:
    return ctx.hub.alerts


def _dest(ctx: CommandContext) -> str:
    return destination_id(ctx.chat.platform, ctx.chat.chat_id)


@contextmanager
def _as_user_error() -> Iterator[None]:
    try:
        yield
    except (RuleError, SubscriptionError) as exc:
        raise UserError(str(exc)) from None


def _asof(ctx: CommandContext) -> date:
    return ctx.hub.asof or datetime.now(UTC).date()


async def _require_admin(ctx: CommandContext) -> None:
    if ctx.chat.is_group and not await ctx.chat.is_admin():
        raise UserError("only chat admins can change settings here")


def _state_text(status: RuleStatus, obs: Observation | None) -> str:
    state = status.state
    if obs is not None and obs.stale_since is not None:
        return f"stale since {obs.stale_since}"
    if state is None:
        if obs is None:
            return "no data yet"
        return "past the threshold" if obs.holds else "not past the threshold"
    if state.status == "firing" and state.fired_at is not None:
        return f"firing since {state.fired_at:%Y-%m-%d %H:%M} UTC"
    if not state.armed:
        return f"{state.status} (already across; waits for a fresh crossing)"
    return state.status


@commands.command(name="alerts", uses_setup=True)
async def alerts(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """This chat's alert rules.

    Alert rules for this chat: subscriptions and each rule's state.
    """
    no_args(args)
    view = await _service(ctx).overview(_dest(ctx))
    seen = await _service(ctx).observe([s.rule for s in view.rules], _asof(ctx))
    rows = tuple(_row(s, seen[s.rule.id]) for s in view.rules)
    notes = [f"{s.rule.id}: {s.rule.description}" for s in view.rules if s.rule.description]
    notes.append(f"Custom rules: {view.custom_count} of {view.custom_cap}. /subscribe all, "
                 "/alert add <rule>, /alert metrics.")
    if view.muted_for is not None:
        notes.append(f"Muted for another {duration(view.muted_for)}; /unmute resumes.")
    columns = ("id", "rule", "subscribed", "value", "threshold", "distance", "state")
    return Reply(title="Alert rules", tables=(Table(columns, rows),), notes=tuple(notes))


def _row(status: RuleStatus, obs: Observation | None) -> tuple[str, ...]:
    rule = status.rule.rule
    value = shown(obs.value, unit_of(rule)) if obs is not None else "-"
    gap = (distance(rule, obs) or "-") if obs is not None else "-"
    return (status.rule.id, rule.describe(), "yes" if status.subscribed else "no", value,
            threshold(rule), gap, _state_text(status, obs))


@commands.command(RULE_OR_ALL, changes_settings=True)
async def subscribe(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Get alerts here.

    Get alerts here when a rule fires (one rule id, or all).
    """
    if len(args) > 1:
        raise UserError("give one rule id, or all")
    with _as_user_error():
        ids = await _service(ctx).subscribe(_dest(ctx), args[0] if args else "all")
    now = await _service(ctx).standing_rows(_dest(ctx), ids, _asof(ctx))
    return Reply(title=f"Subscribed to {', '.join(ids) or 'no rules'}",
                 notes=(*(f"{s.rule_id}: {s.text}" for s in now), MUTE_HINT),
                 buttons=_send_now(now))


def _send_now(rows: list[Standing]) -> tuple[tuple[Button, ...], ...]:
    """A "Send it now" button per rule already past its threshold."""
    return tuple((Button(b.label, b.data),)
                 for b in send_now_buttons([s.rule_id for s in rows if s.holds]))


@commands.command(Param("rule", "a rule id from /alerts, or all"), changes_settings=True)
async def unsubscribe(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Stop alerts here.

    Stop alerts here for one rule id, or all.
    """
    if len(args) > 1:
        raise UserError("give one rule id, or all")
    if not args:  # never remove everything on a bare command: ask which
        ids = sorted(await _service(ctx).subscriptions.subscribed(_dest(ctx)))
        here = f"Alerts here: {', '.join(ids)}." if ids else "This chat gets no alerts."
        return Reply(title="Unsubscribe from which rule?", notes=(
            here, "/unsubscribe all stops every alert here; /unsubscribe <rule id> one."))
    with _as_user_error():
        ids = await _service(ctx).unsubscribe(_dest(ctx), args[0])
    return Reply(title=f"Unsubscribed from {', '.join(ids) or 'no rules'}")


@commands.command(
    Param("action", "add <rule>, rm <id>, chart <id> or metrics",
          choices=("add", "rm", "chart", "metrics"), required=True),
    Param("rule", f"for add, a rule: {GRAMMAR}; for rm, a rule id"),
    name="alert",
    uses_setup=lambda args: not args or args[0].lower() != "metrics",  # metrics: a catalogue
)
async def alert(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Add or remove an alert rule.

    Add or remove a custom alert rule, see its chart, or list the metrics rules can watch.
    Typed: /alert add btc below 60k. In Telegram, /alert add alone walks through metric,
    condition and value with buttons. In Discord, /alert add metric: condition: value: asks
    for each (metrics autocomplete), and /alert rule text: takes a rule written out.
    """
    action, rest = (args[0].lower(), args[1:]) if args else ("", ())
    if action == "metrics":
        return metrics_reply(_service(ctx).metrics(), rest, GRAMMAR)
    if action == "chart" and rest:
        return await _rule_chart(ctx, rest[0])
    if action == "add" and not rest:
        return await alert_guided.start(ctx, _require_admin)
    if action == "step" and rest:
        return await alert_guided.step(ctx, rest[0], _add, _require_admin)
    if action == "value" and rest:
        return await alert_guided.value(ctx, " ".join(rest), _add)
    if action == "now" and rest:
        return await _send_now_reply(ctx, rest[0])
    if action not in ("add", "rm") or not rest:
        raise UserError("expected add <rule>, rm <id>, chart <id> or metrics")
    if action == "add":
        return await _add(ctx, " ".join(rest))
    await _require_admin(ctx)
    with _as_user_error():
        removed = await _service(ctx).remove_rule(_dest(ctx), rest[0])
    return Reply(title=f"Removed rule {removed.id}: {removed.rule.describe()}")


async def _add(ctx: CommandContext, text: str) -> Reply:
    """Add a rule (typed or built by the guided walk): evaluated at once, its standing told."""
    await _require_admin(ctx)
    with _as_user_error():
        added = await _service(ctx).add_rule(_dest(ctx), text)
        now = await _service(ctx).standing_rows(_dest(ctx), [added.id], _asof(ctx))
    return Reply(title=f"Added rule {added.id}: {added.rule.describe()}",
                 notes=(now[0].text, "This chat is subscribed to it. " + MUTE_HINT),
                 buttons=_send_now(now))


async def _send_now_reply(ctx: CommandContext, rule_id: str) -> Reply:
    """The "Send it now" button: the rule's alert, queued for this chat once."""
    await _require_admin(ctx)
    with _as_user_error():
        sent = await _service(ctx).send_now(_dest(ctx), rule_id)
    if not sent.queued:
        return Reply(title=f"Already sent here for the data of {sent.point}")
    return Reply(title=f"Sending the {rule_id.lower()} alert for {sent.point} here")


async def _rule_chart(ctx: CommandContext, rule_id: str) -> Reply:
    """The rule's own chart: its window, the threshold line and the last crossing."""
    asof = _asof(ctx)
    with _as_user_error():
        rule = await _service(ctx).find_rule(rule_id, _dest(ctx))
        png = await _service(ctx).rule_chart(rule.id, asof, _dest(ctx))
    return Reply(title=f"{rule.id}: {rule.description or rule.rule.describe()}",
                 chart_png=png, asof=asof.isoformat())


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
    fired = await _service(ctx).take_muted(_dest(ctx))
    title = "Alerts resumed here" if was_muted else "Alerts were not muted here"
    if not fired:
        return Reply(title=title)
    return Reply(title=title, notes=(f"While muted, {len(fired)} alert"
                                     f"{'s' if len(fired) != 1 else ''} fired here:", *fired))
