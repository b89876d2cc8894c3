"""The report for the platform lead (issue 22, part 5): hostile stored records first, then budgets per team and pool,
the daily trend with its episodes, the waste section, change/untagged/total rows and how a saving reads."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.advisor.report import CostLine, build_report, render_html, saving_sentence
from costwarden.core.episodes import DEDUP_PK as EPISODES_PK
from costwarden.core.keys import IDLE_SUMMARY_PK, IDLE_SUMMARY_SK, SAVINGS_PK, SAVINGS_SK
from costwarden.cost import ledger
from costwarden.services.advisor.report import month_heading
from costwarden.services.advisor.report_sections import add_sections, pool_statuses, saving_actions, waste_items
from costwarden.settings import parse_settings

NOW = datetime(2026, 12, 1, 7, tzinfo=UTC)
SETTINGS = parse_settings(
    {
        "teams": {
            "vision": {"monthly_usd": 2000, "owners": ["U0CAROL01"], "pools": {"production": 500, "experiment": 900}},
            "risk": {"monthly_usd": 9000},
        }
    }
)
STOP = "aws ec2 stop-instances --instance-ids"
IDLE = {
    "scanned_at": "2026-11-30T06:00:00+00:00",
    "findings": [
        {"id": "i-small", "team": "risk", "type": "ec2:instance", "region": "us-east-1", "kind": "idle",
         "monthly_usd": 100.0, "recommendation": "stop it", "commands": [f"{STOP} i-small"]},
        {"id": "i-gpu", "team": "vision", "type": "ec2:instance", "region": "us-west-2", "kind": "gpu_idle",
         "monthly_usd": 23924.5, "recommendation": "move the job", "commands": [f"{STOP} i-gpu"]},
    ],
}  # fmt: skip
SPOT = "running the 1,050 h of p3.8xlarge on-demand on spot"
SAVINGS = {
    "teams": {
        "vision": {
            "usd_month": 8694.0,
            "items": ["bucket vision-experiments: 457 USD/month with lifecycle rules (not useful today)"],
            "findings": [
                {"usd_month": 8694.0, "action": SPOT, "command": ""},
                {"usd_month": 457.0, "action": "adding lifecycle rules to bucket x", "command": "aws s3api x"},
            ],
        }
    }
}


def lines() -> list[CostLine]:
    out = []
    for month, scale in (("2026-11", 1.0), ("2026-10", 0.5)):
        out += [
            CostLine("vision", "lifecycle_phase", "training", month, 1800 * scale),
            CostLine("risk", "lifecycle_phase", "inference", month, 3000 * scale),
            CostLine("", "lifecycle_phase", "", month, 200 * scale),  # nobody's team tag
        ]
    return out


def report(store: MemoryStateStore | None = None):  # type: ignore[no-untyped-def]
    r = build_report(
        lines(),
        month="2026-11",
        today=NOW.date(),
        dimensions=("lifecycle_phase",),
        budgets=SETTINGS.monthly_budgets(),
        at_risk_ratio=0.9,
        over_budget_ratio=1.1,
        savings={"vision": (9151.0, SAVINGS["teams"]["vision"]["items"])},
        generated_at=NOW,
        heading=month_heading("2026-11", NOW.date()),
    )
    add_sections(r, SETTINGS, store or MemoryStateStore())
    return r


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"findings": "not a list"}, []),
        ({"findings": [None, 3, "x", {"id": ""}, {"team": "vision"}]}, []),
        ({"findings": [{"id": "i-1", "monthly_usd": "NaN", "commands": "no list"}]}, [("i-1", None, "")]),
        ({"findings": [{"id": "i-2", "monthly_usd": "abc", "commands": [None, "aws x"]}]}, [("i-2", None, "aws x")]),
    ],
)
def test_hostile_idle_records_give_rows_without_a_price_or_none(
    record: dict[str, Any], expected: list[tuple[str, float | None, str]]
) -> None:
    items, as_of = waste_items(SETTINGS, record)
    assert [(w.resource, w.usd_month, w.command) for w in items] == expected and as_of is None


@pytest.mark.parametrize(
    "record",
    [
        {"teams": "nope"},
        {"teams": {"vision": "nope"}},
        {"teams": {"vision": {"findings": {"not": "a list"}}}},
        {"teams": {"vision": {"findings": [{"usd_month": "inf", "action": "x"}, {"usd_month": 5}, "str"]}}},
        {"teams": {"vision": {"findings": [{"usd_month": -3, "action": "x"}]}}},
    ],
)
def test_hostile_savings_records_give_no_action(record: dict[str, Any]) -> None:
    assert saving_actions(SETTINGS, record) == []


def test_a_store_that_fails_leaves_its_section_empty_and_says_so() -> None:
    class Broken(MemoryStateStore):
        def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
            raise ConnectionError("table gone")

    store = Broken()
    store.put(SAVINGS_PK, SAVINGS_SK, {"teams": "nope"})
    r = report(store)
    assert r.episodes == [] and r.savings_actions == []
    assert r.notes == ["anomaly episodes could not be read (ConnectionError): that section is empty"]
    assert "anomaly episodes could not be read" in render_html(r)


def test_waste_lists_idle_findings_largest_first_with_owner_and_command() -> None:
    store = MemoryStateStore()
    store.put(IDLE_SUMMARY_PK, IDLE_SUMMARY_SK, IDLE)
    r = report(store)
    assert [(w.resource, w.owner, w.usd_month) for w in r.waste] == [
        ("i-gpu", "U0CAROL01", 23924.5),
        ("i-small", "team risk", 100.0),
    ]
    page = render_html(r)
    assert "Idle: 2 resources, $24,024/month (idle finder's scan of 2026-11-30)" in page
    assert f"<code>{STOP} i-gpu</code>" in page


def test_savings_read_save_x_per_month_by_and_no_internal_state() -> None:
    store = MemoryStateStore()
    store.put(SAVINGS_PK, SAVINGS_SK, SAVINGS)
    page = render_html(report(store))
    assert saving_sentence(8694.0, "doing it") == "save $8,694/month by doing it"
    assert (
        "<b>save $8,694/month by running the 1,050 h of p3.8xlarge on-demand on spot</b> (vision; owner U0CAROL01)"
        in page
    )
    assert "<code>aws s3api x</code>" in page
    assert "not useful today" not in page and "Savings: $9,151/month" in page


def test_budgets_per_team_and_pool_and_every_table_has_change_untagged_and_total() -> None:
    store = MemoryStateStore()
    store.put(EPISODES_PK, "vision|", {"severity": "critical", "start": "2026-11-19", "last": "2026-11-21"})
    store.put(EPISODES_PK, "risk|", {"severity": "warning", "start": "2026-10-02", "last": "2026-10-03"})  # October
    store.put(EPISODES_PK, "nlp|", {"severity": "warning", "start": "2026-11-05", "retracted": True})
    r = report(store)
    env = [CostLine("vision", "environment", e, m, usd) for e, m, usd in (
        ("production", "2026-11", 470.0), ("experiment", "2026-11", 1000.0), ("experiment", "2026-10", 500.0),
        ("sandbox", "2026-11", 99.0))]  # fmt: skip
    r.pools = pool_statuses(SETTINGS, env, month="2026-11", projection=1.0)
    assert [(p.pool, p.basis_usd, p.status, p.change_pct) for p in r.pools] == [
        ("production", 470.0, "AT_RISK", None),  # 94 % of 500; nothing in October
        ("experiment", 1000.0, "OVER_BUDGET", 100.0),  # 111 % of 900; 500 in October
    ]
    assert [p["share_pct"] for p in r.to_dict()["pools"]] == [94.0, 111.1]
    assert [(e.series, e.start) for e in r.episodes] == [("vision", "2026-11-19")]
    page = render_html(r)
    budgets = page.split("<h2>Budgets</h2>")[1].split("<h2>")[0]
    assert budgets.count('class="badge ') == 4  # two teams, two pools
    assert "experiment pool" in budgets and "production pool" in budgets
    for table in re.findall(r"<table>.*?</table>", page, re.S):
        assert "<th>change</th>" in table, table[:120]
    teams = page.split("<h2>Teams</h2>")[1].split("</table>")[0]
    assert '<tr class="untagged"><td><a href="#team-unowned">unowned (no team tag)</a></td><td>$200</td>' in teams
    assert '<tr class="total"><td>Total</td><td>$5,000</td><td>$2,500</td>' in teams
    assert "+100.0 %" in teams
    assert 'aria-label="Daily spend in 2026-11"' not in page  # no daily frame given: no trend chart


def test_daily_trend_is_the_ledger_and_marks_episodes() -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-01", "2026-11-01", "2026-11-03", "2026-10-31"]),
            "team": ["a", "b", "a", "a"],
            "cost_usd": [10.0, 5.0, 7.0, 99.0],
        }
    )
    days = ledger.daily_totals(frame, date(2026, 11, 1), 3)
    assert days.to_dict() == {"2026-11-01": 15.0, "2026-11-02": 0.0, "2026-11-03": 7.0}
    assert days.sum() == ledger.month_to_date(frame, date(2026, 11, 3)).sum()
    r = report()
    r.daily = list(days.items())
    store = MemoryStateStore()
    store.put(EPISODES_PK, "a|training", {"severity": "critical", "start": "2026-10-30", "last": "2026-11-02"})
    add_sections(r, SETTINGS, store)
    page = render_html(r)
    assert 'aria-label="Daily spend in 2026-11"' in page
    assert "<title>a / training: critical, 2026-10-30 to 2026-11-02</title>" in page
    assert "<li>a / training: critical, 2026-10-30 to 2026-11-02</li>" in page
