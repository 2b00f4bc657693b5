"""/thesis: the capital-rotation story as claims, each with a verdict and since when."""

from __future__ import annotations

from datetime import date

from handlers.errors import UserError
from handlers.format import stamp_reply
from handlers.registry import CommandContext, CommandGroup, Param
from handlers.reply import Reply, Table
from services.alerts.messages import shown
from services.errors import Unavailable
from services.freshness import ended_note
from services.metrics.catalog import metric_unit
from services.store import Snapshot
from services.thesis.published import AGREES, DISAGREES, LATER, PublishedCheck
from services.thesis.scorecard import HOLDS, NO_DATA, STALE, ClaimResult, Number
from services.thesis.service import Scorecard

commands = CommandGroup()
MARK = {HOLDS: "✅ holds", NO_DATA: "· no data"}
EXPLAIN = ("Each claim is a rule in the /alert grammar (config.yaml, thesis:), replayed over "
           "the whole history through the alert evaluator; 'since' is the date its verdict "
           "last flipped. Alert on a flip: /alert add thesis.3 crosses_below 1.")


def verdict_text(result: ClaimResult) -> str:
    if result.verdict == STALE:
        return "⚠ stale"
    return MARK.get(result.verdict, "✗ does not hold")


def since_text(result: ClaimResult) -> str:
    if result.verdict == STALE:
        last = f"; last current verdict: {result.last_fresh}" if result.last_fresh else ""
        return f"stale since {result.since or 'n/a'} ({', '.join(result.stale_inputs)}{last})"
    if result.since is None:
        return "n/a"
    return f"since {result.since}" + (" (start of data)" if result.since_start else "")


def number_text(n: Number) -> str:
    text = f"{n.value} ({n.day})" if n.day else n.value
    if n.coverage:
        text += f", {n.coverage}"
    return text + (f" ⚠ stale since {n.stale_since}" if n.stale_since else "")


def why_notes(results: tuple[ClaimResult, ...]) -> list[str]:
    return [f"Claim {r.n}, no data: {r.no_data}." for r in results
            if r.verdict == NO_DATA and r.no_data]


def claim_table(result: ClaimResult) -> Table:
    rows: list[tuple[str, str]] = [(verdict_text(result), since_text(result)),
                                   ("test", result.test)]
    rows += [(n.metric, number_text(n)) for n in result.numbers]
    return Table(("", ""), tuple(rows), heading=f"{result.n}. {result.title}")


def published_text(c: PublishedCheck) -> str:
    """'data +979.9%: agrees', 'data $64.6B: disagrees; reached on 2026-04-03', 'no data'."""
    if c.verdict == LATER:
        return "published after the as-of date"
    if c.data_value is None:
        return "no data: no source has this figure at that date"
    text = f"data {shown(c.data_value, metric_unit(c.figure.metric))}: {c.verdict}"
    if c.verdict == DISAGREES:
        text += (f"; the data reached it on {c.nearest}" if c.nearest
                 else "; the data never reached it")
    return text


def published_table(result: ClaimResult) -> Table:
    rows = tuple((f"{c.figure.date} {c.figure.what} ({c.figure.source})", published_text(c))
                 for c in result.published)
    agree = sum(c.verdict == AGREES for c in result.published)
    return Table(("published", "the data"), rows,
                 heading=f"Published figures: {agree} of {len(rows)} agree with the data")


async def _reference(ctx: CommandContext) -> tuple[Snapshot, list[str]]:
    """The snapshot whose as-of date the scorecard is read at, and stale-family notes."""
    snaps = {name: s for name, s in (await ctx.hub.readings.snapshots()).items() if s}
    if not snaps:
        raise Unavailable("no data collected yet; try again in a minute")
    ref = snaps.get("divergence") or max(snaps.values(), key=lambda s: s.asof)
    notes = [f"⚠ {name} is stale: {s.stale_reason}" for name, s in snaps.items()
             if s.stale and s is not ref]
    return ref, notes


async def _scorecard(ctx: CommandContext, wanted: int | None) -> tuple[Scorecard, Snapshot,
                                                                        list[str]]:
    thesis = ctx.hub.thesis
    claims = thesis.claims()
    if wanted is not None:
        claims = [c for c in claims if c.n == wanted]
        if not claims:
            known = ", ".join(str(c.n) for c in thesis.claims()) or "none"
            raise UserError(f"no claim {wanted}; claims: {known}")
    ref, notes = await _reference(ctx)
    card = await thesis.scorecard(date.fromisoformat(ref.asof), claims)
    ended = ended_note(await ctx.hub.readings.series_ages(date.fromisoformat(ref.asof)))
    return card, ref, [*notes, *([ended] if ended else [])]


def _claim_number(args: tuple[str, ...]) -> int | None:
    if not args:
        return None
    if len(args) > 1:
        raise UserError(f"unexpected '{args[1][:30]}'")
    if not args[0].isdigit() or len(args[0]) > 3:
        raise UserError(f"bad claim number '{args[0][:30]}'")
    return int(args[0])


@commands.command(Param("claim", "a claim number: its full verdict history"))
async def thesis(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Fact-check the story.

    Fact-check the rotation story: each claim, its verdict and since when.
    """
    wanted = _claim_number(args)
    card, ref, notes = await _scorecard(ctx, wanted)
    tables = [claim_table(r) for r in card.claims]
    if wanted is None:
        held = sum(r.verdict == HOLDS for r in card.claims)
        title = f"Thesis scorecard: {held} of {len(card.claims)} claims hold"
        return stamp_reply(title, tables, [*why_notes(card.claims), EXPLAIN, *notes], ref,
                           card.sources, ctx.hub.mode)
    result = card.claims[0]
    flips = tuple((f.day.isoformat(), "holds" if f.holds else "does not hold")
                  for f in result.flips)
    first = f"from {result.flips[0].day}" if result.flips else "no history"
    if result.published:
        tables.append(published_table(result))
    tables.append(Table(("date", "verdict"), flips,
                        heading=f"Every flip ({len(flips) - 1 if flips else 0}, {first})"))
    return stamp_reply(f"Thesis claim {result.n}", tables,
                       [*why_notes(card.claims), EXPLAIN, *notes], ref, card.sources,
                       ctx.hub.mode)
