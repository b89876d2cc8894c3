"""The digest's "Savings on the table" line, from what the advisor's weekly run stored."""

from __future__ import annotations

from costwarden.adapters.state import MemoryStateStore
from costwarden.core.keys import SAVINGS_PK, SAVINGS_SK
from costwarden.demo.example_digest import example_input
from costwarden.digest.compose import compose_digest
from costwarden.digest.sources import load_savings_on_table


def test_line_for_the_fleet_and_for_a_team() -> None:
    store = MemoryStateStore()
    assert load_savings_on_table(store) is None
    store.put(
        SAVINGS_PK,
        SAVINGS_SK,
        {
            "at": "2026-11-23T06:00:00+00:00",
            "teams": {"vision": {"usd_month": 4000.4, "items": []}, "nlp": {"usd_month": 1000, "items": []}},
        },
    )
    savings = load_savings_on_table(store)
    inp = example_input().model_copy(update={"savings": savings})
    fleet = compose_digest(inp, top_n=15)
    assert fleet.details["figures"]["Savings on the table"] == "$5,000/month"
    assert "Savings on the table: $5,000/month" in fleet.summary
    team = compose_digest(inp, top_n=15, team="vision")
    assert team.details["figures"]["Savings on the table"] == "$4,000/month"


def test_no_line_before_the_advisor_ran() -> None:
    inp = example_input().model_copy(update={"savings": None})
    event = compose_digest(inp, top_n=15)
    assert "Savings on the table" not in event.details["figures"] and "Savings" not in event.summary
