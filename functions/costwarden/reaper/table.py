"""The reaper's decisions as an aligned text table: what ``costwarden reap`` prints (one account or the whole
organization) and what the demo shows, from one place."""

from __future__ import annotations

from typing import Any

COLUMNS = ("status", "action", "type", "region", "team", "expires_at", "id", "reason")


def render_table(rows: list[dict[str, Any]], *, account: bool = False) -> str:
    """The decisions as an aligned text table (``--format table``, the demo); ``account``: a first ACCOUNT column."""
    columns = (("account", *COLUMNS) if account else COLUMNS)[:-1]
    widths = {c: max([len(c)] + [len(str(r.get(c) or "")) for r in rows]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns) + "  REASON"]
    for row in rows:
        cells = [str(row.get(c) or "-").ljust(widths[c]) for c in columns]
        lines.append("  ".join(cells) + "  " + str(row["reason"]))
    return "\n".join(lines)
