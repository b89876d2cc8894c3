"""core.alerts: the one builder, its details order, its truncation, and lists that are empty or too long."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from costwarden.core.alerts import build, truncate
from costwarden.core.keys import ReapedKey
from costwarden.models.alert import AlertKind, Severity

NOW = datetime(2026, 12, 7, 6, tzinfo=UTC)
KEY = ReapedKey("run-1", "vision")


def test_details_are_figures_items_then_extra() -> None:
    event = build(
        AlertKind.REAPED,
        Severity.INFO,
        "vision",
        KEY,
        title="t",
        summary="s",
        figures={"Done": 3, "Run": "run-1"},
        items=["a", "b", "c"],
        max_items=2,
        extra={"url": None},
        now=NOW,
    )
    assert list(event.details) == ["figures", "items", "url"]
    assert event.details["figures"] == {"Done": "3", "Run": "run-1"}
    assert event.details["items"] == ["a", "b", "... and 1 more"]
    assert event.dedup_key == "reaped#run-1#vision" and event.occurred_at == NOW


def test_no_items_given_means_no_items_key_and_empty_items_stay_empty() -> None:
    bare = build(AlertKind.SAVINGS, Severity.CRITICAL, "t", KEY, title="t", summary="", figures={})
    assert bare.details == {"figures": {}}
    empty = build(AlertKind.SAVINGS, Severity.INFO, "t", KEY, title="t", summary="", figures={}, items=[], max_items=5)
    assert empty.details == {"figures": {}, "items": []}


@pytest.mark.parametrize(
    ("lines", "limit", "total", "out"),
    [
        ([], 3, None, []),
        (["a"], 3, None, ["a"]),
        (["a", "b", "c"], 3, None, ["a", "b", "c"]),
        (["a", "b", "c", "d"], 3, None, ["a", "b", "c", "... and 1 more"]),
        (["a", "b"], 0, None, ["... and 2 more"]),
        (["a", "b"], 2, 50, ["a", "b", "... and 48 more"]),  # a slice of a longer list
        (["a", "b"], 5, 1, ["a", "b"]),  # a total below what is there counts what is there
    ],
)
def test_truncate(lines: list[str], limit: int, total: int | None, out: list[str]) -> None:
    assert truncate(lines, limit, total=total) == out


@pytest.mark.parametrize("limit", [-1, 1.5, True, "3"])
def test_truncate_refuses_a_limit_that_is_not_a_count(limit: object) -> None:
    with pytest.raises(ValueError, match="truncate: limit"):
        truncate(["a"], limit)  # type: ignore[arg-type]


def test_five_thousand_items_become_one_readable_list() -> None:
    lines = [f"resource {i}" for i in range(5_000)]
    event = build(
        AlertKind.REAP_BLOCKED,
        Severity.CRITICAL,
        "ops",
        KEY,
        title="t",
        summary="s",
        figures={},
        items=lines,
        max_items=50,
    )
    assert len(event.details["items"]) == 51 and event.details["items"][-1] == "... and 4950 more"
