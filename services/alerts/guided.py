"""Guided rule creation: `/alert add` with no rule walks through metric, condition and value
with buttons, then hands the rule text to the same add path as a typed `/alert add`.

Platform-free: each step is a Screen (a line, notes, rows of buttons) and a button's data is
"g:<user>:<nonce>:<action>" (≤ 64 bytes, Telegram's limit). The pending step lives in Redis
per (chat, user) for TTL_S; a button of an older walk (another nonce), of an expired one or
of another user answers one line and changes nothing.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

from redis.asyncio import Redis

from services.alerts.messages import shown
from services.alerts.rule_words import parse_amount
from services.alerts.rules import number
from services.keys import Keys
from services.metrics.catalog import metric_unit

PREFIX = "g:"
TTL_S = 600
PAGE = 9  # family buttons per page: three rows of three
PER_ROW = 3
CONDITIONS = (("above", "is above"), ("below", "is below"),
              ("crosses_above", "crosses above"), ("crosses_below", "crosses below"))
UPWARD = ("above", "crosses_above")
USUAL = {".price": 0, ".drawdown": 1, ".ytd": 2, ".since": 3}  # button order in a family
POINT_UNITS = ("%", "pp", "bp")  # suggested values move by points, others by percent
# The walk of a message an anonymous admin sent as the group: any admin may carry it on.
GROUP_ADMINS = "admins"
EXPIRED = "this set-up has expired or is finished; start again"
FOREIGN = "this set-up is someone else's; start your own"


class Metric(Protocol):
    @property
    def id(self) -> str: ...


class GuideError(ValueError):
    """One line for the user (a stale button, a bad value) and the command to use."""

    def __init__(self, problem: str, usage: str = "/alert add") -> None:
        super().__init__(problem)
        self.usage = usage


@dataclass(frozen=True)
class Choice:
    label: str
    data: str


@dataclass(frozen=True)
class Screen:
    title: str
    notes: tuple[str, ...] = ()
    rows: tuple[tuple[Choice, ...], ...] = ()
    rule: str = ""  # set on the last step: the rule text to add
    cancelled: bool = False


@dataclass(frozen=True)
class Step:
    nonce: str
    stage: str = "family"  # family | metric | condition | value | typing
    page: int = 0
    family: str = ""
    metric: str = ""
    condition: str = ""
    now: float | None = None  # the metric's current value, for the suggestions
    values: tuple[float, ...] = field(default=())


def families(metrics: Iterable[Metric]) -> dict[str, str]:
    """Each metric id's family: an asset with a price ('000660.ks' for '000660.ks.drawdown'),
    else the id's first part ('divergence' for 'divergence.spread.ytd')."""
    ids = [m.id for m in metrics]
    assets = {i.removesuffix(".price") for i in ids if i.endswith(".price")}
    out = {}
    for metric_id in ids:
        parts = metric_id.split(".")
        owners = [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]
        out[metric_id] = next((p for p in owners if p in assets), parts[0])
    return out


def nice(value: float) -> float:
    """Two significant digits: 95796 -> 96000, 0.4123 -> 0.41."""
    if value == 0:
        return 0.0
    digits = 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def point_step(now: float) -> float:
    """1, 2 or 5 times a power of ten, about a tenth of the value (at least 0.1)."""
    size = max(abs(now) * 0.1, 0.1)
    power = 10 ** math.floor(math.log10(size))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= size))


def suggestions(now: float | None, unit: str, upward: bool) -> tuple[float, ...]:
    """Three thresholds beyond the current value in the condition's direction: round
    points for percent-like metrics, about 5%, 10% and 20% away for the others."""
    if now is None:
        return ()
    if unit == "verdict":
        return (0.5,)
    sign = 1 if upward else -1
    if unit in POINT_UNITS:
        step = point_step(now)
        first = (math.floor(now / step) + 1) * step if upward else (
            math.ceil(now / step) - 1) * step
        found = [round(first + sign * n * step, 6) for n in range(3)]
    else:
        found = [nice(now * (1 + sign * pct * (1 if now >= 0 else -1)))
                 for pct in (0.05, 0.1, 0.2)]
    return tuple(dict.fromkeys(v for v in found if (v > now if upward else v < now)))


class Guide:
    """The walk's steps for one chat; `current(metric)` gives a metric's value now."""

    def __init__(self, redis: Redis, keys: Keys, metrics: Iterable[Metric],
                 current: Callable[[str], Awaitable[float | None]], ttl_s: int = TTL_S) -> None:
        self.redis, self.keys, self.ttl_s, self.current = redis, keys, ttl_s, current
        self.family_of = families(metrics)
        self.names = list(dict.fromkeys(self.family_of.values()))

    async def start(self, dest: str, user: str) -> Screen:
        step = Step(nonce=secrets.token_hex(3))
        await self._save(dest, user, step)
        return self._screen(user, step)

    async def waiting(self, dest: str, user: str) -> bool:
        """True while this user's walk here waits for a typed value."""
        step = await self._load(dest, user)
        return step is not None and step.stage in ("value", "typing")

    async def press(self, dest: str, user: str, data: str) -> Screen:
        owner, nonce, action = _parse(data)
        if owner != user:
            raise GuideError(FOREIGN)
        step = await self._load(dest, user)
        if step is None or step.nonce != nonce:
            raise GuideError(EXPIRED)
        if action == "x":
            await self.redis.delete(self.keys.alert_guided(dest, user))
            return Screen("Cancelled: no rule was added.", cancelled=True)
        step = await self._apply(step, action)
        if step.stage == "done":
            await self.redis.delete(self.keys.alert_guided(dest, user))
            return Screen("", rule=_rule_text(step, number(step.values[0])))
        await self._save(dest, user, step)
        return self._screen(user, step)

    async def typed(self, dest: str, user: str, text: str) -> Screen:
        """A typed value for the waiting walk: the rule, or GuideError with an example."""
        step = await self._load(dest, user)
        if step is None or step.stage not in ("value", "typing"):
            raise GuideError("no set-up here is waiting for a value; start one")
        token = text.strip()
        if parse_amount(token) is None:
            example = _example(step)
            raise GuideError(f"'{token[:20]}' is not a number; send one like {example}",
                             f"/alert value {example}")
        await self.redis.delete(self.keys.alert_guided(dest, user))
        return Screen("", rule=_rule_text(step, token.lower()))

    async def _apply(self, step: Step, action: str) -> Step:
        kind, arg = action[:1], action[1:]
        index = int(arg) if arg.isdigit() else -1
        if kind == "b":
            return _back(step, self._members(step.family))
        if kind == "p" and step.stage == "family" and 0 <= index * PAGE < len(self.names):
            return replace(step, page=index)
        if kind == "f" and step.stage == "family" and 0 <= index < len(self.names):
            members = self._members(self.names[index])
            step = replace(step, family=self.names[index], stage="metric")
            return await self._pick(step, members[0]) if len(members) == 1 else step
        members = self._members(step.family)
        if kind == "m" and step.stage == "metric" and 0 <= index < len(members):
            return await self._pick(step, members[index])
        if kind == "c" and step.stage == "condition" and 0 <= index < len(CONDITIONS):
            condition = CONDITIONS[index][0]
            values = suggestions(step.now, metric_unit(step.metric), condition in UPWARD)
            return replace(step, condition=condition, stage="value", values=values)
        if kind == "v" and step.stage == "value" and 0 <= index < len(step.values):
            return replace(step, stage="done", values=(step.values[index],))
        if kind == "t" and step.stage == "value":
            return replace(step, stage="typing")
        raise GuideError(EXPIRED)  # a button of a screen this walk has left

    async def _pick(self, step: Step, metric: str) -> Step:
        return replace(step, metric=metric, stage="condition", now=await self.current(metric))

    def _members(self, family: str) -> list[str]:
        """The family's metrics, the usual ones first: price, drawdown, ytd, since."""
        members = [m for m, f in self.family_of.items() if f == family]
        return sorted(members, key=lambda m: USUAL.get(m.removeprefix(family), len(USUAL)))

    def _screen(self, user: str, step: Step) -> Screen:
        def button(label: str, action: str) -> Choice:
            return Choice(label, f"{PREFIX}{user}:{step.nonce}:{action}")

        cancel, back = button("Cancel", "x"), button("← Back", "b")
        if step.stage == "family":
            start = step.page * PAGE
            names = [button(n, f"f{start + i}")
                     for i, n in enumerate(self.names[start:start + PAGE])]
            paging = ([button("← Prev", f"p{step.page - 1}")] if step.page else []) + (
                [button("More →", f"p{step.page + 1}")] if start + PAGE < len(self.names) else [])
            return Screen("New alert 1/3: what should it watch?",
                          ("Pick one; /alert metrics explains each.",),
                          (*_rows(names), *([tuple(paging)] if paging else []), (cancel,)))
        if step.stage == "metric":
            picks = [button(m.removeprefix(step.family).lstrip(".") or m, f"m{i}")
                     for i, m in enumerate(self._members(step.family))]
            return Screen(f"New alert 1/3: which {step.family} metric?", (),
                          (*_rows(picks), (back, cancel)))
        now = _now(step)
        if step.stage == "condition":
            picks = [button(label, f"c{i}") for i, (_, label) in enumerate(CONDITIONS)]
            return Screen(f"New alert 2/3: {step.metric} is {now}. Alert when it…",
                          ("'is above/below' fires at the next check if it already is; "
                           "'crosses' waits for a crossing.",),
                          (*_rows(picks, 2), (back, cancel)))
        label = dict(CONDITIONS)[step.condition]
        if step.stage == "typing":
            return Screen(f"New alert 3/3: {step.metric} {label} what?",
                          (f"Now {now}. Reply to this message with the value, e.g. "
                           f"{_example(step)}, or send /alert value {_example(step)}.",),
                          ((back, cancel),))
        unit = metric_unit(step.metric)
        picks = [button(shown(v, unit) if unit != "verdict" else number(v), f"v{i}")
                 for i, v in enumerate(step.values)]
        return Screen(f"New alert 3/3: {step.metric} {label} what?",
                      (f"Now {now}. Pick a value, or reply to this message with your own, "
                       f"e.g. {_example(step)}.",),
                      (*_rows(picks), (button("Type a value", "t"),), (back, cancel)))

    async def _save(self, dest: str, user: str, step: Step) -> None:
        await self.redis.set(self.keys.alert_guided(dest, user), json.dumps(asdict(step)),
                             ex=self.ttl_s)

    async def _load(self, dest: str, user: str) -> Step | None:
        raw = await self.redis.get(self.keys.alert_guided(dest, user))
        if raw is None:
            return None
        try:
            fields = json.loads(raw)
            return Step(**{**fields, "values": tuple(fields.get("values", ()))})
        except (ValueError, TypeError):
            return None  # written by another version: the walk starts again


def owner_of(data: str) -> str:
    """Whose walk a button belongs to ('' for data that is not a guided button's)."""
    return data.removeprefix(PREFIX).partition(":")[0] if data.startswith(PREFIX) else ""


def _parse(data: str) -> tuple[str, str, str]:
    owner, _, rest = data.removeprefix(PREFIX).partition(":")
    nonce, _, action = rest.partition(":")
    if not data.startswith(PREFIX) or not owner or not nonce or not action:
        raise GuideError(EXPIRED)
    return owner, nonce, action[:8]


def _back(step: Step, members: list[str]) -> Step:
    if step.stage == "typing":
        return replace(step, stage="value")
    if step.stage == "value":
        return replace(step, stage="condition", condition="", values=())
    if step.stage == "condition" and len(members) > 1:
        return replace(step, stage="metric", metric="", now=None)
    return replace(step, stage="family", family="", metric="", now=None)


def _rows(buttons: list[Choice], per_row: int = PER_ROW) -> tuple[tuple[Choice, ...], ...]:
    return tuple(tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row))


def _now(step: Step) -> str:
    if step.now is None:
        return "not known yet (no data)"
    return shown(step.now, metric_unit(step.metric))


def _example(step: Step) -> str:
    return number(step.values[0]) if step.values else "100"


def _rule_text(step: Step, value: str) -> str:
    return f"{step.metric} {step.condition} {value}"
