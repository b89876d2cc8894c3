"""Short display strings shared by the digest's figures and its Slack rendering (one place, so they agree)."""

from __future__ import annotations

import math


def usd(amount: float | None, *, compact: bool = False) -> str:
    """``$1,234`` (or ``$1.2k`` / ``$3.45M`` when ``compact``); ``-$12`` for negatives; ``-`` for unknown."""
    if amount is None or math.isnan(amount):
        return "-"
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if compact:
        if value >= 999_500_000:
            return f"{sign}${value / 1e9:.2f}B"
        if value >= 999_500:
            return f"{sign}${value / 1e6:.2f}M"
        if value >= 9_999.5:
            return f"{sign}${value / 1e3:.1f}k"
    if value < 10 and value != int(value):
        return f"{sign}${value:,.2f}"
    return f"{sign}${value:,.0f}"


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


def signed_usd(amount: float) -> str:
    """``+$1,234`` / ``-$56``: a change, always with its sign."""
    return ("+" if amount >= 0 else "") + usd(amount, compact=True)


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
