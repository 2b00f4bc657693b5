"""Hypothesis strategies for hostile chat input: near-valid values of every parameter kind,
rule texts built from the grammar's own tokens, and plain junk."""

from __future__ import annotations

from hypothesis import strategies as st

from handlers.registry import CommandSpec, Param
from services.alerts.rules import CONDITIONS
from services.metrics.catalog import BASE_IDS

# Every code point, lone surrogates included: a client bug can send one (JSON may carry it
# escaped), and the registry must answer it like any other bad input.
CHARS = st.characters()
TRICKY = ["", " ", "\n", "\t", "\u2028", "\u200b", "\x00", "\x1c", "\x85", "&", "<b>", "</pre>",
          "<", ">", "&amp;", "`", "```", "*", "_", "~", "|", "\\", "'", '"', "@", "/", "%s",
          "{}", "ﷺ", "👩‍👩‍👧‍👦", "\u202e", "Ⅻ", "١٢", "\U0001d7d9\U0001d7d8d", "İ", "ß", "ǅ"]

junk = st.one_of(st.text(CHARS, max_size=40), st.sampled_from(TRICKY),
                 st.text(CHARS, min_size=200, max_size=6000))
# Telegram splits a message into arguments on whitespace; Discord passes an option as typed.
word = st.text(CHARS, min_size=1, max_size=60).map(lambda s: "".join(s.split())).filter(bool)
long_word = st.text(st.characters(min_codepoint=33, max_codepoint=0x10FFFF,
                                  exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
                    min_size=100, max_size=400).map(lambda s: "".join(s.split())).filter(bool)

numbers = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400",
                     "-0", "+0", "0x10", "1_000", "١٢", "½", "1,5", ".5", "5.", "--5", "+-5",
                     "1e", "e1", "1.7976931348623157e308", "-1.7976931348623157e308", "0"]),
)
# Every duration parse_duration accepts (up to 99999w) must survive storage: see
# test_rule_grammar.test_long_durations_survive_storage.
MAX_WEEKS = 99999
durations = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", st.integers(-5, 10**6), st.sampled_from("mhdsyMHD")),
    st.integers(-5, MAX_WEEKS).map(lambda n: f"{n}w"),
    st.sampled_from(["1d", "30d", "31d", "0m", "1m", "59s", "14285w", "100000w", "1.5h",
                     "d", "1", "-1d", "1dd", " 1d", "\uff11d", "99999d", "99999h"]),
)
windows = st.one_of(
    st.sampled_from(["ytd", "YTD", "30d", "90d", "1y", "1Y", "0d", "3660d", "3661d", "9999d",
                     "10000d", "since:", "since:2024-01-01", "since:2024-02-30",
                     "since:0001-01-01", "since:9999-12-31", "since:20240101",
                     "since:2024-W01-1", "since:2024-01-01T00:00", "SINCE:2025-01-01",
                     "since: 2024-01-01", "since:2024-13-01"]),
    st.dates().map(lambda d: f"since:{d.isoformat()}"),
    st.integers(-10, 20000).map(lambda n: f"{n}d"),
)
METRIC_IDS = sorted(BASE_IDS)
metric_ids = st.one_of(st.sampled_from(METRIC_IDS), word)
finite = st.one_of(st.integers(-10**6, 10**6).map(float),
                   st.floats(allow_nan=False, allow_infinity=False, width=64))
options = st.one_of(
    st.builds(lambda k, v: f"{k}={v}",
              st.sampled_from(["for", "cooldown", "hysteresis", "resolved", "For", "x", ""]),
              st.one_of(durations, numbers, st.sampled_from(["on", "off", "ON", ""]), word)),
    st.sampled_from(["for=", "=", "==", "resolved=on=off", "hysteresis=-0"]),
)
ranges = st.one_of(st.builds(lambda a, b: f"{a}..{b}", numbers, numbers),
                   st.sampled_from(["..", "1..", "..1", "1...2", "1..2..3", "5..5"]))
rule_tokens = st.one_of(metric_ids, st.sampled_from([*CONDITIONS, "in", "spread(", ")"]),
                        numbers, durations, ranges, options, word)


@st.composite
def valid_rule_tokens(draw: st.DrawFn) -> list[str]:
    """The tokens of a rule the grammar accepts (the exits/hysteresis room check aside)."""
    if draw(st.integers(0, 3)):
        subject = [draw(st.sampled_from(METRIC_IDS))]
    else:
        a, b = draw(st.sampled_from(METRIC_IDS)), draw(st.sampled_from(METRIC_IDS))
        subject = [f"spread({a},", f"{b})"] if draw(st.booleans()) else [f"spread({a},{b})"]
    condition = draw(st.sampled_from(CONDITIONS))
    if condition in ("change_up", "change_down"):
        middle = [repr(abs(draw(finite)) + 0.5), "in", f"{draw(st.integers(1, 3660))}d"]
    elif condition in ("enters", "exits"):
        low, high = sorted(draw(st.lists(finite, min_size=2, max_size=2, unique=True)))
        middle = [f"{low!r}..{high!r}"]
    elif condition == "new_ath":
        middle = []
    else:
        middle = [repr(draw(finite))]
    chosen = draw(st.sets(st.sampled_from(["for", "cooldown", "hysteresis", "resolved"])))
    values = {"for": st.one_of(st.builds(lambda n, u: f"{n}{u}", st.integers(0, 99999),
                                         st.sampled_from("mhd")),
                               st.integers(0, MAX_WEEKS).map(lambda n: f"{n}w")),
              "hysteresis": finite.map(lambda v: repr(abs(v))),
              "resolved": st.sampled_from(["on", "off"])}
    values["cooldown"] = values["for"]
    tail = [f"{name}={draw(values[name])}" for name in sorted(chosen)]
    return [*subject, condition, *middle, *tail]


@st.composite
def rule_texts(draw: st.DrawFn) -> str:
    """Valid rules, and rules broken in one or two places (a token replaced, dropped,
    added or moved), in any case and spacing."""
    tokens = draw(valid_rule_tokens())
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 1, 2]))):
        at = draw(st.integers(0, len(tokens)))
        how = draw(st.sampled_from(["replace", "drop", "insert", "swap"]))
        if how == "insert" or at == len(tokens):
            tokens.insert(at, draw(rule_tokens))
        elif how == "replace":
            tokens[at] = draw(rule_tokens)
        elif how == "drop":
            del tokens[at]
        else:
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[at], tokens[j] = tokens[j], tokens[at]
    if draw(st.integers(0, 4)) == 0:
        tokens = [t.upper() for t in tokens]
    return draw(st.sampled_from([" ", "  ", "\t", " \n "])).join(tokens)


def _param_values(param: Param) -> st.SearchStrategy[str]:
    by_name: dict[str, st.SearchStrategy[str]] = {
        "window": windows, "duration": durations,
        "rule": st.one_of(rule_texts(), st.sampled_from(
            ["all", "ALL", "c1", "c0", "c-1", "c99999999999999999999", "btc-drawdown"])),
        "command": st.one_of(st.sampled_from(["/help", "help", "/", "@", "HELP", "/btc@bot"]),
                             word),
    }
    known = [st.sampled_from(param.choices)] if param.choices else []
    return st.one_of(*known, by_name.get(param.name, word), word, long_word, junk)


@st.composite
def command_args(draw: st.DrawFn, spec: CommandSpec) -> tuple[str, ...]:
    """Arguments for one command: its parameters' (near-)valid values, junk, too many."""
    args = [draw(_param_values(p)) for p in spec.params if draw(st.integers(0, 4))]
    args += draw(st.lists(st.one_of(word, junk), max_size=3 if draw(st.booleans()) else 0))
    if spec.name == "alert" and args and draw(st.booleans()):
        args = [args[0], *draw(rule_texts()).split()]  # Telegram splits the rule into words
    if draw(st.booleans()):  # Telegram: no argument holds whitespace
        args = [w for a in args for w in a.split()]
    return tuple(args)


def command_line(names: list[str]) -> st.SearchStrategy[str]:
    """A whole chat message, as the console and Telegram's Refresh button pass it."""
    prefix = st.one_of(st.sampled_from([f"/{n}" for n in names]),
                       st.sampled_from([f"/{n.upper()}@flowwatch_bot" for n in names]),
                       st.sampled_from(["/", "//", "@", "", " /", "/@", "/@bot", "/ btc"]), word)
    rest = st.lists(st.one_of(word, windows, rule_tokens, junk), max_size=5)
    return st.builds(lambda p, r: " ".join([p, *r]), prefix, rest)
