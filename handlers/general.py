"""/start, /help, /brief and /status."""

from __future__ import annotations

from datetime import date, datetime

from handlers.args import no_args
from handlers.conventions import TOPIC, conventions_reply
from handlers.format import stamp_reply
from handlers.registry import CommandContext, CommandGroup, Param
from handlers.reply import Reply, Table
from handlers.staleness import brief_rows
from services.collector import NO_DATA
from services.errors import Unavailable
from services.families import FAMILY_BY_NAME
from services.freshness import ended_note
from services.metrics.aitokens import AiTokensReading
from services.metrics.btc import BtcReading
from services.metrics.divergence import DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.metrics.yields import YieldsReading
from services.sources.health import ProviderHealth
from services.store import Snapshot
from services.windows import SINCE_2024, YTD

commands = CommandGroup()
INTRO = ("flowwatch tracks capital leaving crypto for AI infrastructure: AI chip and memory "
         "stocks vs BTC/ETH, stablecoins parked in T-bills, the AI-token drawdown and "
         "hyperscaler capex. Every number comes with its source and as-of date.")
# What Telegram shows in an empty chat (at most 512 characters) and on the bot's profile
# (at most 120), and the one line a private chat gets for text that is not a command.
DESCRIPTION = INTRO + " Start with /brief for every signal on one screen; /help lists all."
SHORT_DESCRIPTION = "Capital leaving crypto for AI infrastructure: live numbers, sources, alerts."
PLAIN_TEXT_HINT = "I answer commands: try /brief, or /help for the list."


@commands.command()
async def start(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """What flowwatch is.

    What flowwatch is and where to begin.
    """
    return Reply(title="Welcome to flowwatch", notes=(INTRO, "Try /brief, or /help for all "
                                                      "commands."))


@commands.command(Param("command", "a command name for its details"), name="help")
async def help_(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Commands, or one in detail.

    List every command, or explain one.
    """
    if args and args[0].lower() == TOPIC:
        btc = (await ctx.hub.readings.get("btc", BtcReading)).reading
        return conventions_reply(ctx.hub.settings.baskets, btc.history_start)
    if args:
        spec = ctx.registry.get(args[0].lstrip("/").lower())
        if spec is None:
            return await ctx.registry.call(ctx, args[0].lstrip("/").lower()[:40], ())
        notes = tuple(f"{p.name}: {p.help}" for p in spec.params)
        admins = ("In groups, only admins can use it.",) if spec.changes_settings else ()
        return Reply(title=spec.usage, notes=(spec.details or spec.help, *notes, *admins))
    lines = tuple(f"/{spec.name} — {spec.help.rstrip('.')}" for spec in ctx.registry)
    return Reply(title="flowwatch commands",
                 notes=(*lines, "Details of one: /help <command>, e.g. /help divergence; "
                        "how the numbers are computed: /help conventions."))


@commands.command()
async def brief(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Every signal on one screen.

    One-screen digest of every signal.
    """
    no_args(args)
    r = ctx.hub.readings
    div = await r.get("divergence", DivergenceReading, SINCE_2024)
    ytd = await r.get("divergence", DivergenceReading, YTD)
    btc = (await r.get("btc", BtcReading)).reading
    st = (await r.get("stablecoins", StablecoinReading)).reading
    yl = (await r.get("yields", YieldsReading)).reading
    ai = (await r.get("aitokens", AiTokensReading, YTD)).reading
    d, y = div.reading, ytd.reading
    rows = brief_rows(d, y, btc, st, yl, ai)
    sources = tuple(dict.fromkeys((*d.sources, *btc.sources, *st.sources, *yl.sources,
                                   *ai.sources)))
    ended = ended_note(await r.series_ages(date.fromisoformat(d.asof)))
    return stamp_reply("flowwatch brief", [Table(("signal", "value"), rows)],
                       ["Details: /divergence /btc /stablecoins /yields /aitokens /capex",
                        *([ended] if ended else [])],
                       div.snapshot, sources, ctx.hub.mode)


@commands.command()
async def status(ctx: CommandContext, args: tuple[str, ...]) -> Reply:
    """Data freshness and health.

    Freshness and health of every data source and metric.
    """
    no_args(args)
    statuses = await ctx.hub.readings.source_statuses()
    snaps = await ctx.hub.readings.snapshots()
    if not statuses and not any(snaps.values()):
        raise Unavailable("nothing collected yet; try again in a minute")
    collector_notes, dead_since = await _collector_state(ctx)
    src_rows = tuple(
        (s.name, source_state(s.ok, dead_since), s.last_data_date or "n/a",
         s.last_ok_at or "never", s.error[:80])
        for s in statuses
    )
    asof = max((s.asof for s in snaps.values() if s), default=None)
    ages = await ctx.hub.readings.series_ages(date.fromisoformat(asof)) if asof else []
    stale_keys = {a.key for a in ages if a.stale and a.last}
    no_source = [a.key for a in ages if a.last is None]
    fam_rows = tuple(
        (name, family_state(s, dead_since), series_state(
            FAMILY_BY_NAME[name].inputs(ctx.hub.settings.baskets), stale_keys),
         s.asof if s else "", s.computed_at if s else "")
        for name, s in snaps.items()
    )
    providers = await ctx.hub.readings.provider_health()
    mode = f"replay of the bundled snapshot at {ctx.hub.asof}" if ctx.hub.mode == "replay" \
        else "live"
    series_rows = tuple(
        (a.key, a.last or "no data", "n/a" if a.age_days is None else f"{a.age_days}d",
         f"{a.limit_days}d", "STALE" if a.stale else "fresh") for a in ages if a.last)
    return Reply(
        title="flowwatch status",
        tables=(Table(("source", "state", "data to", "last ok", "error"), src_rows, "Sources"),
                Table(("metric", "state", "series", "as of", "computed"), fam_rows,
                      "Metrics"),
                *((provider_table(providers),) if providers else ()),
                Table(("series", "last data", "age", "limit", "state"), series_rows,
                      f"Series at {asof}" if asof else "Series")),
        notes=(*collector_notes, f"Mode: {mode}.",
               "A series is stale when its last data is older than its "
               "kind's limit (/help conventions).",
               *([f"No data at this date: {', '.join(no_source)}."] if no_source else []),
               *await _delivery_notes(ctx)),
    )


async def _collector_state(ctx: CommandContext) -> tuple[list[str], datetime | None]:
    """The collector's last run and its age, and when it stopped: NOT RUNNING once three
    runs (and a minute) were missed; every source and metric is then stale since that run."""
    run = await ctx.hub.readings.store.load_collector_run()
    if run is None:
        return [], None
    at, interval_s = run
    age = (ctx.hub.now() - at).total_seconds()
    when = f"last run {at:%Y-%m-%d %H:%M:%S} UTC, {_ago(age)} ago"
    if age > 3 * interval_s + 60:
        return [f"Collector NOT RUNNING: {when} (expected every {_ago(interval_s)}); "
                "everything above is as of that run."], at
    return [f"Collector: {when} (every {_ago(interval_s)})."], None


def source_state(ok: bool, dead_since: datetime | None) -> str:
    """ok, FAILING, or stale when the collector stopped: its "ok" is only that old."""
    if not ok:
        return "FAILING"
    return f"stale: not collected since {dead_since:%Y-%m-%d %H:%M} UTC" if dead_since else "ok"


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def family_state(snap: Snapshot | None, dead_since: datetime | None = None) -> str:
    """fresh, stale, or "no data" when an input's source never succeeded (never "fresh");
    never fresh either once the collector stopped."""
    if snap is None:
        return "n/a"
    if snap.stale and snap.stale_reason.startswith(NO_DATA):
        return NO_DATA
    return "stale" if snap.stale or dead_since else "fresh"


def series_state(inputs: list[str], stale_keys: set[str]) -> str:
    """How many of a family's series lag the as-of date beyond their limit."""
    lagging = [k for k in inputs if k in stale_keys]
    return f"{len(lagging)} of {len(inputs)} stale" if lagging else "all current"


def provider_table(providers: list[ProviderHealth]) -> Table:
    """Who serves each chain: state, calls against budget, and the error or cross-check."""
    rows = tuple(
        (f"{h.chain} {h.rank}. {h.provider}", h.state,
         ", ".join(h.served[:4]) + (f" +{len(h.served) - 4}" if len(h.served) > 4 else ""),
         h.usage or "-", (h.error or h.check)[:80])
        for h in providers)
    return Table(("provider", "state", "serves", "budget used", "note"), rows, "Providers")


async def _delivery_notes(ctx: CommandContext) -> list[str]:
    """The alert outbox backlog and the latest dead letters (why alerts were not sent)."""
    health = await ctx.hub.delivery.health()
    notes = [f"Alert outbox: {health.pending} pending, {health.dead_letters} dead letters."]
    notes += [f"Dead letter {d.at}: {d.reason[:120]}" for d in health.latest_dead]
    return notes
