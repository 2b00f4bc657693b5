"""Render a Reply as plain text (terminal chat, `ask`, logs)."""

from __future__ import annotations

from handlers.reply import Reply, Table

NUMERIC_START = set("+-$₩0123456789")


def is_numeric_column(table: Table, col: int) -> bool:
    """Right-align a column when every value in it reads as a number."""
    cells = [r[col] for r in table.rows if col < len(r) and r[col] not in ("", "n/a")]
    return bool(cells) and all(c[0] in NUMERIC_START for c in cells)


def render_table(table: Table) -> list[str]:
    lines = [table.heading] if table.heading else []
    rows = [table.columns, *table.rows] if any(table.columns) else list(table.rows)
    if not rows:
        return lines
    ncols = max(map(len, rows))
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(ncols)]
    right = [i > 0 and is_numeric_column(table, i) for i in range(ncols)]
    for row in rows:
        cells = [c.rjust(widths[i]) if right[i] else c.ljust(widths[i])
                 for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_text(reply: Reply) -> str:
    lines = [reply.title]
    for table in reply.tables:
        lines.append("")
        lines.extend(render_table(table))
    if reply.notes:
        lines.append("")
        lines.extend(reply.notes)
    if reply.footer:
        lines.append("")
        lines.append(reply.footer)
    return "\n".join(lines)
