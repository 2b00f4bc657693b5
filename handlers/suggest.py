"""What a parameter may be, as the user types it, for clients that suggest values (Discord
autocomplete): this chat's rule ids, claim numbers, time zones, the metrics rules watch.

Suggestions are a convenience, never a closed set: the handler stays the one validator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import cache
from zoneinfo import available_timezones

from handlers.registry import CommandContext
from services.alerts.events import destination_id
from services.alerts.guided import families
from services.alerts.subscriptions import AlertRule

MAX_SUGGESTIONS = 25  # Discord's limit on autocomplete choices
LABEL_MAX = 100  # and on a choice's name
Suggestion = tuple[str, str]  # (what the list shows, what the option gets)
Suggester = Callable[[CommandContext, str], Awaitable[list[Suggestion]]]


def _label(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[:LABEL_MAX - 1] + "…"


def ranked(items: Iterable[Suggestion], typed: str) -> list[Suggestion]:
    """Items whose value starts with `typed` first, then those containing it in the value
    or the label (case-insensitive); at most 25."""
    word = typed.strip().lower()
    first, then = [], []
    for label, value in items:
        if value.lower().startswith(word):
            first.append((_label(label), value))
        elif word in value.lower() or word in label.lower():
            then.append((_label(label), value))
    return [*first, *then][:MAX_SUGGESTIONS]


def _dest(ctx: CommandContext) -> str:
    return destination_id(ctx.chat.platform, ctx.chat.chat_id)


def _rule_item(rule: AlertRule) -> Suggestion:
    return f"{rule.id}: {rule.description or rule.rule.describe()}", rule.id


async def visible_rules(ctx: CommandContext, typed: str) -> list[Suggestion]:
    """The config defaults and this chat's own rules."""
    rules = await ctx.hub.alerts.subscriptions.visible_rules(_dest(ctx))
    return ranked(map(_rule_item, rules), typed)


async def rules_or_all(ctx: CommandContext, typed: str) -> list[Suggestion]:
    items = [("all: every rule", "all"),
             *map(_rule_item, await ctx.hub.alerts.subscriptions.visible_rules(_dest(ctx)))]
    return ranked(items, typed)


async def subscribed_or_all(ctx: CommandContext, typed: str) -> list[Suggestion]:
    """What this chat is subscribed to (what /unsubscribe can stop), and all."""
    subs = ctx.hub.alerts.subscriptions
    here = await subs.subscribed(_dest(ctx))
    rules = [r for r in await subs.visible_rules(_dest(ctx)) if r.id in here]
    return ranked([("all: every alert here", "all"), *map(_rule_item, rules)], typed)


async def own_rules(ctx: CommandContext, typed: str) -> list[Suggestion]:
    """The custom rules this chat added (what /alert rm can remove)."""
    rules = await ctx.hub.alerts.subscriptions.visible_rules(_dest(ctx))
    return ranked(map(_rule_item, (r for r in rules if r.owner)), typed)


async def claims(ctx: CommandContext, typed: str) -> list[Suggestion]:
    return ranked(((f"{c.n}. {c.title}", str(c.n)) for c in ctx.hub.thesis.claims()), typed)


async def metrics(ctx: CommandContext, typed: str) -> list[Suggestion]:
    """The metric ids alert rules can watch, with unit and meaning."""
    items = [(f"{m.id} ({m.unit}): {m.description}", m.id) for m in ctx.hub.alerts.metrics()]
    return ranked(items, typed)


async def metric_families(ctx: CommandContext, typed: str) -> list[Suggestion]:
    names = dict.fromkeys(families(ctx.hub.alerts.metrics()).values())
    return ranked(((name, name) for name in names), typed)


@cache
def _zone_names() -> tuple[str, ...]:
    return ("UTC", *sorted(z for z in available_timezones()
                           if "/" in z and not z.startswith(("Etc/", "SystemV/"))))


def zones(typed: str) -> list[Suggestion]:
    """IANA zones whose name, or city (the part after the last /), starts with `typed`."""
    word = typed.strip().lower().replace(" ", "_")
    hits = [z for z in _zone_names() if z.lower().startswith(word)]
    hits += [z for z in _zone_names() if z not in hits
             and z.rsplit("/", 1)[-1].lower().startswith(word)]
    return [(z, z) for z in hits[:MAX_SUGGESTIONS]]


async def time_zones(_: CommandContext, typed: str) -> list[Suggestion]:
    return zones(typed)


MUTE_SPANS = (("30 minutes", "30m"), ("1 hour", "1h"), ("6 hours", "6h"), ("1 day", "1d"),
              ("7 days", "7d"), ("30 days", "30d"))


async def mute_spans(_: CommandContext, typed: str) -> list[Suggestion]:
    return ranked(MUTE_SPANS, typed) or list(MUTE_SPANS)


# (command, parameter) -> its suggester; front-ends that can suggest use these.
SUGGESTERS: dict[tuple[str, str], Suggester] = {
    ("subscribe", "rule"): rules_or_all,
    ("unsubscribe", "rule"): subscribed_or_all,
    ("thesis", "claim"): claims,
    ("digest", "tz"): time_zones,
    ("mute", "duration"): mute_spans,
}
