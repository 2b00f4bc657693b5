"""Reply -> Telegram HTML: layout, escaping, and splitting that never breaks a tag or a row."""

from __future__ import annotations

import pytest

from bot.telegram.render import MESSAGE_LIMIT, render_html, tg_len
from bot.telegram.send import refresh_markup
from bot.text import render_table
from handlers.reply import Reply, Table, error_reply
from tests.e2e.telegram_standin import parse_entities


def metric_reply(rows: int = 3, **kw: object) -> Reply:
    table = Table(("asset", "return"), tuple((f"T{i}<&>", f"+{i}.0%") for i in range(rows)),
                  heading="AI chips & memory")
    fields: dict[str, object] = {"title": "Divergence <since> 2024", "tables": (table,),
                                 "notes": ("Price returns & more.",), "sources": ("Yahoo",),
                                 "asof": "2026-05-29", "command": "/divergence"}
    fields.update(kw)
    return Reply(**fields)  # type: ignore[arg-type]


def test_metric_reply_layout() -> None:
    [html] = render_html(metric_reply())
    assert html == (
        "<b>Divergence &lt;since&gt; 2024</b>\n\n"
        "<b>AI chips &amp; memory</b>\n\n"
        "<pre>asset  return\nT0&lt;&amp;&gt;   +0.0%\nT1&lt;&amp;&gt;   +1.0%\n"
        "T2&lt;&amp;&gt;   +2.0%</pre>\n\n"
        "Price returns &amp; more.\n\n"
        "<i>Source: Yahoo · as of 2026-05-29</i>")
    parse_entities(html, "HTML")


def test_error_reply_is_one_plain_line() -> None:
    [html] = render_html(error_reply("unknown window 'x<y'", "/divergence [window]"))
    assert html == "unknown window 'x&lt;y' (usage: /divergence [window])"


@pytest.mark.parametrize("limit", [MESSAGE_LIMIT, 300])
def test_split_keeps_rows_whole_in_order_and_each_part_valid(limit: int) -> None:
    reply = metric_reply(500)
    parts = render_html(reply, limit)
    assert len(parts) > 1
    shown: list[str] = []
    for part in parts:
        assert tg_len(part) <= limit
        shown += parse_entities(part, "HTML").splitlines()
    header, *rows = render_table(Table(reply.tables[0].columns, reply.tables[0].rows))
    assert [line for line in shown if line.startswith("T")] == rows
    assert parts[0].startswith("<b>Divergence")
    assert parts[-1].endswith("</i>")
    # every part after the first continues the table with its header repeated
    assert all(p.startswith(f"<pre>{header}\n") for p in parts[1:-1])


@pytest.mark.parametrize("text", ["&" * 9000, "📈" * 3000, "word " * 2000])
def test_over_long_line_is_cut_between_characters_never_inside_an_entity(text: str) -> None:
    parts = render_html(Reply(title="t", notes=(text,)))
    assert all(tg_len(p) <= MESSAGE_LIMIT for p in parts)
    plain = [parse_entities(p, "HTML") for p in parts]
    assert plain[0] == "t"
    assert "".join(plain[1:]) == text


def test_refresh_button_only_on_metric_replies_whose_command_fits() -> None:
    markup = refresh_markup(metric_reply())
    assert markup is not None
    assert markup.inline_keyboard[0][0].callback_data == "r:/divergence"
    assert refresh_markup(metric_reply(sources=())) is None
    assert refresh_markup(error_reply("bad")) is None
    assert refresh_markup(metric_reply(command="/divergence " + "é" * 30)) is None  # > 64 bytes
