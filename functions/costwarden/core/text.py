"""Short display strings shared by the digest's figures and its Slack rendering (one place, so they agree).

Money is not formatted here: every amount goes through ``costwarden.core.money`` (the one house style).
"""

from __future__ import annotations

import math


def pct(ratio: float | None) -> str:
    """A ratio as a whole percentage (``1.234`` -> ``123%``); ``-`` for unknown."""
    if ratio is None or math.isnan(ratio) or math.isinf(ratio):
        return "-"
    return f"{ratio * 100:,.0f}%"


def ratio_x(ratio: float | None) -> str:
    """``2.4x``; ``new`` when there is no baseline to compare with."""
    if ratio is None or math.isnan(ratio) or math.isinf(ratio):
        return "new"
    return f"{ratio:.1f}x"


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…" if limit > 0 else ""


def hours_until(seconds: float) -> str:
    """``in 5 h`` / ``in 2 d 3 h`` / ``now`` for a positive number of seconds."""
    if seconds <= 0:
        return "now"
    hours = math.ceil(seconds / 3600)
    if hours < 48:
        return f"in {hours} h"
    days, rest = divmod(hours, 24)
    return f"in {days} d {rest} h" if rest else f"in {days} d"
