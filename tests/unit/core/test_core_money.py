"""core.money: the one house style, and amounts that are not amounts (NaN, inf, huge, negative, not a number)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from costwarden.core.money import signed_usd, usd


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (5245, "$5,245"),
        (5245.4, "$5,245"),
        (123_935.2, "$123,935"),
        (0, "$0"),
        (4.0, "$4"),
        (3.456, "$3.46"),
        (0.4, "$0.40"),
        (10.4, "$10"),
        (-12, "-$12"),
        (-0.001, "$0"),  # rounds to zero: no sign
        (-0.0, "$0"),
        (Decimal("2538.004"), "$2,538"),
        ("17.5", "$18"),
    ],
)
def test_whole_dollars_with_cents_only_under_ten(amount: object, text: str) -> None:
    assert usd(amount) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(("amount", "text"), [(2538, "$2,538.00"), (0.12, "$0.12"), (-3.1, "-$3.10"), (0, "$0.00")])
def test_cents_where_cents_matter(amount: float, text: str) -> None:
    assert usd(amount, cents=True) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (9_999, "$9,999"),
        (9_999.5, "$10.0k"),
        (169_100, "$169.1k"),
        (999_499, "$999.5k"),
        (999_500, "$1.00M"),
        (3_450_000, "$3.45M"),
        (1.2e9, "$1.20B"),
        (2e12, "$2.00T"),
        (-169_100, "-$169.1k"),
    ],
)
def test_compact_for_tight_cells(amount: float, text: str) -> None:
    assert usd(amount, compact=True) == text


@pytest.mark.parametrize("amount", [None, math.nan, math.inf, -math.inf, "abc", "", [], object(), True, 10**400])
def test_what_is_not_a_figure_reads_unknown(amount: object) -> None:
    assert usd(amount) == "-"  # type: ignore[arg-type]
    assert usd(amount, cents=True, compact=True) == "-"  # type: ignore[arg-type]
    assert signed_usd(amount) == "-"  # type: ignore[arg-type]


@pytest.mark.parametrize("compact", [False, True])
def test_absurd_amounts_stay_short(compact: bool) -> None:
    assert usd(1e300, compact=compact) == "$1.00e+300"
    assert usd(-1e18, compact=compact) == "-$1.00e+18"
    assert len(usd(9.99e14)) < 30  # just under the limit: digits with commas, still bounded


def test_signed_change() -> None:
    assert signed_usd(1234) == "+$1,234"
    assert signed_usd(-56) == "-$56"
    assert signed_usd(0) == "+$0"
    assert signed_usd(-0.001) == "+$0"
    assert signed_usd(169_100) == "+$169.1k"
