"""Idle findings as an aligned text table, USD first: what ``costwarden idle`` prints and what the demo shows, from
one place."""

from __future__ import annotations

from typing import Any

COLUMNS = ("monthly_usd", "kind", "type", "region", "team", "id")


def render_table(rows: list[dict[str, Any]]) -> str:
    """Findings as an aligned table, USD first (``--format table``, the demo)."""

    def cell(row: dict[str, Any], column: str) -> str:
        if column == "monthly_usd":
            return "-" if row["monthly_usd"] is None else f"{row['monthly_usd']:,.2f}"
        return str(row.get(column) or "-")

    widths = {c: max([len(c)] + [len(cell(r, c)) for r in rows]) for c in COLUMNS}
    head = "  ".join(
        ("USD/MONTH" if c == "monthly_usd" else c.upper()).ljust(max(widths[c], 9 if c == "monthly_usd" else 0))
        for c in COLUMNS
    )
    lines = [head + "  EVIDENCE"]
    for row in rows:
        cells = [
            cell(row, c).rjust(max(widths[c], 9)) if c == "monthly_usd" else cell(row, c).ljust(widths[c])
            for c in COLUMNS
        ]
        lines.append("  ".join(cells) + "  " + str(row["evidence"]))
    return "\n".join(lines)
