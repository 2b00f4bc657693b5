"""Rules as people type them, rewritten into the canonical grammar before parsing.

`btc above 100k`, `btc drawdown < -30%`, `btc > 100,000`, `stablecoins crosses above 300b`
all become canonical rules (`btc.price above 100000`, ...): bare family names and two-word
metric names map to metric ids, `>`/`<`/`>=`/`<=` and "crosses above" to conditions, and
numbers may carry thousands separators, $ and % signs and k/m/b suffixes.
"""

from __future__ import annotations

import re
from collections.abc import Container

from services.metrics.catalog import metric_unit

# A bare name -> its metric id, where "<name>.price" is not the obvious reading.
ALIASES = {
    "bitcoin": "btc.price", "ethereum": "eth.price", "ether": "eth.price",
    "sp500": "spx.price", "s&p": "spx.price", "hynix": "000660.ks.price",
    "stablecoins": "stablecoins.supply", "stables": "stablecoins.supply",
    "divergence": "divergence.spread.since", "yields": "yields.spread",
    "tbill": "yields.tbill_3m", "aitokens": "aitokens.index", "capex": "capex.to_sector_cap",
}
OPERATORS = {">": "above", ">=": "above", "<": "below", "<=": "below",
             "crosses above": "crosses_above", "crosses below": "crosses_below",
             "rises above": "crosses_above", "falls below": "crosses_below",
             "drops below": "crosses_below", "goes above": "crosses_above",
             "new ath": "new_ath", "new high": "new_ath", "change up": "change_up",
             "change down": "change_down"}
SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "t": 1e12}
_OPERATOR = re.compile(r"(>=|<=|>|<)")
_AMOUNT = re.compile(r"^([-+]?)\$?(\d[\d,]*(?:\.\d+)?|\.\d+)(k|m|bn|b|t)?%?$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_amount(token: str) -> float | None:
    """'100k' -> 100000, '100,000' -> 100000, '1.5m', '$2b', '-30%' -> -30; None if not."""
    match = _AMOUNT.match(token.strip().lower())
    if not match:
        return None
    sign, digits, suffix = match.groups()
    if "," in digits and not _GROUPED.match(digits):
        return None  # '1,00' is not a number anyone means
    value = float(digits.replace(",", "")) * SUFFIXES.get(suffix or "", 1.0)
    return -value if sign == "-" else value


def metric_id(words: list[str], known: Container[str]) -> tuple[str, int]:
    """The metric named at the start of `words` and how many words it took; ('', 0) when
    the words name none (then the parser reports the first word as unknown)."""
    first = words[0]
    if first in known:
        return first, 1
    if len(words) > 1 and f"{first}.{words[1]}" in known:  # "btc drawdown", "btc ytd"
        return f"{first}.{words[1]}", 2
    if first in ALIASES and ALIASES[first] in known:
        return ALIASES[first], 1
    if f"{first}.price" in known:  # "btc", "nvda"
        return f"{first}.price", 1
    return "", 0


def canonical(text: str, known: Container[str]) -> str:
    """The rule in canonical words (lower case, single spaces); unknown parts left as typed
    so the parser can name them."""
    words = " ".join(text.split()).lower()
    if not words or words.startswith("spread("):
        return words
    parts = _OPERATOR.sub(r" \1 ", words).split()  # "btc>100k" -> "btc > 100k"
    name, used = metric_id(parts, known)
    rest = parts[used:] if name else parts[1:]
    head = name or parts[0]
    joined = " ".join(rest)
    for phrase, condition in sorted(OPERATORS.items(), key=lambda kv: -len(kv[0])):
        if joined == phrase or joined.startswith(phrase + " "):
            joined = condition + joined[len(phrase):]
            break
    per_unit = 1e9 if name and metric_unit(name) == "USD bn" else 1.0
    return " ".join((head, *_amounts(joined.split(), per_unit)))


def _amounts(tokens: list[str], per_unit: float = 1.0) -> list[str]:
    """Numbers in canonical form; ranges (A..B) and options (x=V) too. A number with a
    k/m/b suffix is in dollars: a metric kept in $ billions (per_unit 1e9) gets it divided."""

    def amount(token: str) -> float | None:
        value = parse_amount(token)
        if value is not None and per_unit != 1.0 and token.rstrip("%")[-1:].isalpha():
            return value / per_unit
        return value

    out = []
    for token in tokens:
        name, sep, raw = token.partition("=")
        if sep:
            value = amount(raw) if name == "hysteresis" else None
            out.append(f"{name}={_plain(value)}" if value is not None else token)
        elif ".." in token:
            low, _, high = token.partition("..")
            a, b = amount(low), amount(high)
            out.append(f"{_plain(a)}..{_plain(b)}" if a is not None and b is not None
                       else token)
        else:
            value = amount(token)
            out.append(_plain(value) if value is not None else token)
    return out


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
