"""Reply -> Discord messages: every message within Discord's limits, rows whole and in order."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_app.render import OutgoingMessage, render_messages
from bot.text import render_table
from handlers.reply import Reply, Table
from tests.e2e.discord_standin import message_problems


def payloads(messages: list[OutgoingMessage]) -> list[dict[str, Any]]:
    return [{"content": m.content, "embeds": [e.to_dict() for e in m.embeds],
             "attachments": [{"filename": "chart.png"}] if m.chart_png else []}
            for m in messages]


def valid_payloads(reply: Reply) -> list[dict[str, Any]]:
    sent = payloads(render_messages(reply))
    for payload in sent:
        assert message_problems(payload) == []
    return sent


def code_lines(sent: list[dict[str, Any]]) -> list[str]:
    text = "\n".join(e.get("description", "") for p in sent for e in p["embeds"])
    return [line for block in re.findall(r"```\n(.*?)\n```", text, flags=re.DOTALL)
            for line in block.splitlines()]


def row_order(sent: list[dict[str, Any]]) -> list[int]:
    """The '#N' first cells in the order shown: code-block lines, card headings, fields."""
    shown: list[int] = []
    for embed in (e for p in sent for e in p["embeds"]):
        for i, chunk in enumerate(embed.get("description", "").split("```")):
            for line in chunk.splitlines():
                pattern = r"#(\d+)(\s|$)" if i % 2 else r"\*\*\\?#(\d+)\*\*$"
                if m := re.match(pattern, line):
                    shown.append(int(m.group(1)))
        shown += [int(m.group(1)) for f in embed.get("fields", [])
                  if (m := re.fullmatch(r"\\?#(\d+)", f["name"]))]
    return shown


def test_user_error_is_one_plain_line() -> None:
    [sent] = valid_payloads(Reply(title="bad window 'x'\n(usage: /divergence [window])",
                                  error=True))
    assert sent == {"content": "bad window 'x' (usage: /divergence [window])", "embeds": [],
                    "attachments": []}


def test_overlong_error_is_clipped_to_the_content_limit() -> None:
    [sent] = valid_payloads(Reply(title="x" * 5000, error=True))
    assert len(sent["content"]) == 2000
    assert sent["content"].endswith("…")


def test_short_reply_is_one_embed_with_an_aligned_table_notes_and_footer() -> None:
    table = Table(("asset", "return"), (("NVDA", "+326.4%"), ("BTC", "+73.5%")), "Assets")
    reply = Reply(title="Divergence", tables=(table,), notes=("Price returns.",),
                  sources=("Yahoo Finance",), asof="2026-05-29")
    [sent] = valid_payloads(reply)
    [embed] = sent["embeds"]
    assert embed["title"] == "Divergence"
    assert embed["description"] == ("**Assets**\n```\n" + "\n".join(render_table(table)[1:])
                                    + "\n```\nPrice returns.")
    assert embed["footer"]["text"] == "Source: Yahoo Finance · as of 2026-05-29"


def test_markdown_in_notes_and_headings_is_escaped_and_backticks_cannot_end_a_block() -> None:
    table = Table(("name",), (("a`b```c",),), "big_*heading*")
    [sent] = valid_payloads(Reply(title="t", tables=(table,), notes=("_x_ **y**",)))
    description = sent["embeds"][0]["description"]
    assert description.startswith("**big\\_\\*heading\\***\n```\n")
    assert description.count("```") == 2
    assert description.endswith("```\n\\_x\\_ \\*\\*y\\*\\*")


def test_title_only_reply_is_a_valid_embed() -> None:
    [sent] = valid_payloads(Reply(title="Welcome"))
    [embed] = sent["embeds"]
    assert embed["title"] == "Welcome"
    assert "description" not in embed
    assert "footer" not in embed


def test_huge_title_footer_row_and_note_all_fit() -> None:
    reply = Reply(title="T" * 1000, sources=tuple(f"source {i}" for i in range(800)),
                  tables=(Table(("a", "b"), (("r1", "x" * 10_000), ("r2", "y"))),),
                  notes=("n" * 20_000,), asof="2026-05-29")
    sent = valid_payloads(reply)
    assert len(sent) > 1
    text = "".join(e.get("description", "") for p in sent for e in p["embeds"])
    assert text.count("n") == 20_000  # split, never dropped
    assert text.count("x") == 10_000
    assert text.index("**r1**") < text.index("**r2**")


def test_many_tables_page_at_ten_embeds_and_six_thousand_characters() -> None:
    tables = tuple(Table(("k", "v"), tuple((f"t{t}-r{r}", "z" * 12) for r in range(40)),
                         f"table {t}") for t in range(40))
    sent = valid_payloads(Reply(title="Many", tables=tables, sources=("s",)))
    assert all(len(p["embeds"]) <= 10 for p in sent)
    assert [p["embeds"][0]["title"] for p in sent] == [f"Many ({i}/{len(sent)})"
                                                       for i in range(1, len(sent) + 1)]
    assert "footer" in sent[-1]["embeds"][-1]
    assert not any("footer" in e for p in sent[:-1] for e in p["embeds"])
    rows = [line.split()[0] for line in code_lines(sent) if line.startswith("t")]
    assert rows == [f"t{t}-r{r}" for t in range(40) for r in range(40)]


def test_chart_goes_with_the_first_message_only() -> None:
    rows = tuple((f"r{i}", "x" * 80) for i in range(300))
    messages = render_messages(Reply(title="c", tables=(Table(("a", "b"), rows),),
                                     chart_png=b"png"))
    assert len(messages) > 1
    assert messages[0].chart_png == b"png"
    assert messages[0].embeds[0].image.url == "attachment://chart.png"
    assert all(m.chart_png is None for m in messages[1:])


cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=120)


@settings(max_examples=60, deadline=None, database=None)
@given(rows=st.lists(st.tuples(cells, cells, cells), max_size=200),
       title=st.text(max_size=400), heading=st.text(max_size=300),
       notes=st.lists(st.text(max_size=3000), max_size=4))
def test_any_reply_renders_within_limits_with_rows_in_order(
        rows: list[tuple[str, str, str]], title: str, heading: str, notes: list[str]) -> None:
    # "h " keeps a generated heading such as "#0" from reading as a row's card heading
    table = Table(("c1", "c2", "c3"), tuple((f"#{i}", *r) for i, r in enumerate(rows)),
                  "h " + heading)
    sent = valid_payloads(Reply(title=title or "t", tables=(table,), notes=tuple(notes)))
    assert row_order(sent) == list(range(len(rows)))


def test_a_table_wider_than_a_phone_becomes_fields_one_per_row() -> None:
    table = Table(("id", "rule", "state"),
                  (("btc-drawdown", "btc.drawdown crosses_below -30 hysteresis=5", "inactive"),
                   ("divergence", "spread(ai_basket.ytd, crypto_basket.ytd) above 100",
                    "firing")), "Rules")
    [sent] = valid_payloads(Reply(title="Alert rules", tables=(table,), notes=("n",)))
    rules, notes = sent["embeds"]
    assert rules["description"] == "**Rules**"
    assert [(f["name"], f["value"]) for f in rules["fields"]] == [
        ("btc-drawdown", "rule: btc.drawdown crosses\\_below -30 hysteresis=5\nstate: inactive"),
        ("divergence", "rule: spread(ai\\_basket.ytd, crypto\\_basket.ytd) above 100\n"
                       "state: firing")]
    assert notes["description"] == "n"
    assert code_lines([sent]) == []


def test_a_narrow_table_stays_an_aligned_code_block() -> None:
    table = Table(("signal", "value"), (("BTC from ATH", "-41.2%"),))
    [sent] = valid_payloads(Reply(title="b", tables=(table,)))
    assert code_lines([sent]) == render_table(table)
