"""`/alert add` with no rule: the guided walk (services/alerts/guided.py) as replies with
buttons. A button press arrives as `/alert step <data>`, a typed value as `/alert value V`
(or a reply to the walk's message, which the front-end turns into that command)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.errors import UserError
from handlers.registry import CommandContext
from handlers.reply import Button, Reply
from services.alerts.events import destination_id
from services.alerts.guided import GROUP_ADMINS, GuideError, Screen, owner_of

# Front-ends that show buttons under a reply (Discord's guided add is its own subcommands).
GUIDED_PLATFORMS = ("telegram",)
AddRule = Callable[[CommandContext, str], Awaitable[Reply]]


def _where(ctx: CommandContext) -> tuple[str, str]:
    if not ctx.chat.user_id:
        raise UserError("a guided set-up needs a user; type the rule: /alert add btc below 60k")
    return destination_id(ctx.chat.platform, ctx.chat.chat_id), ctx.chat.user_id


def _reply(screen: Screen) -> Reply:
    rows = tuple(tuple(Button(c.label, c.data) for c in row) for row in screen.rows)
    return Reply(title=screen.title, notes=screen.notes, buttons=rows)


async def start(ctx: CommandContext, require_admin: Callable[[CommandContext], Awaitable[None]]
                ) -> Reply:
    """The first step, for admins only in groups (as a typed /alert add)."""
    if ctx.chat.platform not in GUIDED_PLATFORMS:
        raise UserError("give a rule, like /alert add btc below 60k (see /alert metrics)")
    dest, user = _where(ctx)
    await require_admin(ctx)
    return _reply(await ctx.hub.alerts.guide().start(dest, user))


async def step(ctx: CommandContext, data: str, add: AddRule,
               require_admin: Callable[[CommandContext], Awaitable[None]]) -> Reply:
    """A pressed button: the next step, or the rule added through `add` at the last. The
    walk of an anonymous admin (sent as the group) is carried on by any admin."""
    dest, user = _where(ctx)
    if owner_of(data) == GROUP_ADMINS:
        await require_admin(ctx)
        user = GROUP_ADMINS
    try:
        screen = await ctx.hub.alerts.guide().press(dest, user, data)
    except GuideError as exc:
        raise UserError(str(exc), exc.usage) from None
    return await add(ctx, screen.rule) if screen.rule else _reply(screen)


async def value(ctx: CommandContext, text: str, add: AddRule) -> Reply:
    """A typed value for the walk waiting here: the rule added through `add`."""
    dest, user = _where(ctx)
    try:
        screen = await ctx.hub.alerts.guide().typed(dest, user, text)
    except GuideError as exc:
        raise UserError(str(exc), exc.usage) from None
    return await add(ctx, screen.rule)
