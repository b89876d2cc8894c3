"""The one money format: every amount a person reads (Slack, e-mail, CLI tables, the HTML report) comes from here.

House style, chosen once so an alert, the digest and the CLI say the same amount the same way:

* ``usd(5245.4)`` -> ``$5,245``: whole dollars. Cost decisions are taken on dollars, and a column of cents is
  noise that hides the size of the number.
* under $10 the cents stay when there are any (``usd(3.456)`` -> ``$3.46``; ``usd(4)`` and ``usd(4.001)`` ->
  ``$4``): there a whole-dollar figure would hide most of the amount (``$0`` for a $0.40 day).
* ``usd(2538, cents=True)`` -> ``$2,538.00``: only where cents matter, i.e. rates and per-item prices a person
  compares or multiplies (a Savings Plan's ``$0.12/h``, the prices and savings in ``costwarden advise``'s tables).
* ``usd(169_100, compact=True)`` -> ``$169.1k`` (``$3.45M``, ``$1.20B``, ``$2.00T``): only for tight Slack table
  cells and one-line headlines, from $10k up (below that the plain form is already short).
* ``signed_usd(-56)`` -> ``-$56``, ``signed_usd(169_100)`` -> ``+$169.1k``: a change, always signed and compact (it
  sits next to the figure it changed, in a table cell or a headline).

Hostile amounts never raise: ``None``, NaN, +-inf and anything that is not a number read ``-`` (unknown; a
non-finite figure is no figure); negatives read ``-$12`` (credits, refunds); an amount that rounds to zero has no
sign (``$0``, never ``-$0``); beyond a quadrillion dollars (no real bill, so bad input) the figure is written in
scientific notation (``$1.00e+18``) so it cannot blow up a table cell or a Slack field. ``Decimal`` and ``int``
amounts are accepted as they are.
"""

from __future__ import annotations

import math
from typing import SupportsFloat

UNKNOWN = "-"
#: From here on an amount is nonsense input, written in scientific notation (a quadrillion dollars).
ABSURD_USD = 1e15
#: Below this the plain form keeps its cents when it has any.
SMALL_USD = 10
#: Compact tiers, largest first: (threshold, divisor, suffix). Thresholds sit at the rounding edge of the tier below
#: (``$999.5k`` would print as ``$1000.0k``), so the suffix changes exactly where the digits would overflow.
_TIERS = ((999.5e9, 1e12, "T"), (999_500_000, 1e9, "B"), (999_500, 1e6, "M"), (9_999.5, 1e3, "k"))
_COMPACT_DIGITS = {"k": 1, "M": 2, "B": 2, "T": 2}


def _number(amount: SupportsFloat | str | None) -> float | None:
    """The amount as a finite float, or ``None`` when it is no figure (None, NaN, inf, not a number, a bool)."""
    if amount is None or isinstance(amount, bool):
        return None
    try:
        value = float(amount)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _digits(value: float, *, cents: bool, compact: bool) -> str:
    """The unsigned figure of ``value >= 0`` without the dollar sign."""
    if value >= ABSURD_USD:
        return f"{value:.2e}"
    if compact:
        for threshold, divisor, suffix in _TIERS:
            if value >= threshold:
                return f"{value / divisor:.{_COMPACT_DIGITS[suffix]}f}{suffix}"
    if cents or (value < SMALL_USD and round(value, 2) != round(value)):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def usd(amount: SupportsFloat | str | None, *, cents: bool = False, compact: bool = False) -> str:
    """``$1,234``; ``$2,538.00`` with ``cents``; ``$169.1k`` with ``compact``; ``-$12``; ``-`` for unknown."""
    value = _number(amount)
    if value is None:
        return UNKNOWN
    text = _digits(abs(value), cents=cents, compact=compact)
    negative = value < 0 and any(c in "123456789" for c in text.split("e")[0])
    return f"{'-' if negative else ''}${text}"


def signed_usd(amount: SupportsFloat | str | None) -> str:
    """``+$1,234`` / ``-$56`` / ``+$169.1k``: a change, always with its sign, compact (it sits beside a figure)."""
    text = usd(amount, compact=True)
    if text == UNKNOWN or text.startswith("-"):
        return text
    return "+" + text
