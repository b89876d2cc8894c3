"""The digest's facts from the cost monitor's own frame: month to date, baselines, untagged share, open episodes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from costwarden.cost.budget import BudgetStatus, BudgetView
from costwarden.cost.digest_input import open_anomalies, team_rows, untagged_share
from costwarden.cost.frame import UNTAGGED

LAST_DAY = date(2026, 3, 19)


def _frame(costs: dict[str, float], days: int = 40, spike: tuple[str, float] | None = None) -> pd.DataFrame:
    rows = []
    for i in range(days):
        day = LAST_DAY - timedelta(days=i)
        for team, level in costs.items():
            amount = level + (spike[1] if spike and team == spike[0] and day == LAST_DAY else 0.0)
            rows.append({"date": pd.Timestamp(day), "team": team, "cost_usd": amount, "estimated": False})
    return pd.DataFrame(rows)


def test_team_rows_month_to_date_baseline_and_budget() -> None:
    daily = _frame({"vision": 100.0, "nlp": 10.0}, spike=("vision", 200.0))
    view = BudgetView(
        team="vision",
        month="2026-03",
        budget_usd=3_000.0,
        month_to_date_usd=2_100.0,
        days_elapsed=19,
        days_in_month=31,
        run_rate_usd=110.5,
        projected_usd=3_426.3,
        projected_share=1.142,
        status=BudgetStatus.OVER_BUDGET,
    )
    rows = {r.team: r for r in team_rows(daily, last_day=LAST_DAY, baseline_days=30, views=[view], forecasts={})}
    vision, nlp = rows["vision"], rows["nlp"]
    assert vision.month_to_date_usd == pytest.approx(19 * 100 + 200)
    assert (vision.yesterday_usd, vision.baseline_usd, vision.change_ratio) == (300.0, 100.0, 3.0)
    assert (vision.budget_status, vision.budget_usd, vision.projected_month_end_usd) == ("OVER_BUDGET", 3000.0, 3426.3)
    assert nlp.budget_status == "NO_BUDGET" and nlp.budget_usd is None
    assert nlp.projected_month_end_usd == pytest.approx(10.0 * 31)  # run rate over the true month length


def test_missing_days_count_as_zero_in_the_baseline() -> None:
    daily = _frame({"vision": 100.0}, days=40)
    sparse = daily.loc[daily["date"].dt.day % 2 == 0]  # spends every other day only
    (row,) = team_rows(sparse, last_day=LAST_DAY, baseline_days=30, views=[], forecasts={})
    assert row.baseline_usd in (0.0, 50.0, 100.0)
    assert row.yesterday_usd == 0.0  # the 19th is odd: no row, so zero spend


def test_untagged_share_against_the_week_before() -> None:
    daily = _frame({"vision": 90.0, UNTAGGED: 10.0}, days=14)
    later = daily["date"] > pd.Timestamp(LAST_DAY - timedelta(days=7))
    daily.loc[later & (daily["team"] == UNTAGGED), "cost_usd"] = 30.0
    share = untagged_share(daily, last_day=LAST_DAY)
    assert share is not None
    assert share.previous_share_pct == pytest.approx(10.0)
    assert share.share_pct == pytest.approx(100 * 30 / 120)
    assert share.untagged_usd == pytest.approx(7 * 30.0)


def test_untagged_share_without_spend_is_none() -> None:
    assert untagged_share(_frame({"vision": 0.0}, days=14), last_day=LAST_DAY) is None


def _episode(severity: str, start: str, last: str, cost_usd: float, baseline_usd: float, **more: Any) -> dict[str, Any]:
    """An anomaly episode as the cost monitor stores it, alerted on its first day (``more``: the other fields)."""
    return {
        "severity": severity,
        "start": start,
        "last": last,
        "alert_date": start,
        "retracted": False,
        "cost_usd": cost_usd,
        "baseline_usd": baseline_usd,
        "ratio": cost_usd / baseline_usd,
        **more,
    }


def test_open_anomalies_skip_retracted_and_closed_episodes() -> None:
    state = {
        "vision|": _episode("critical", "2026-03-18", "2026-03-19", 900.0, 300.0, alert_estimated=False),
        "nlp|": _episode("warning", "2026-03-19", "2026-03-19", 90.0, 50.0, alert_estimated=True, retracted=True),
        "recsys|": _episode("warning", "2026-03-01", "2026-03-02", 900.0, 500.0, alert_estimated=False),
        "search|training": _episode("warning", "2026-03-19", "2026-03-19", 400.0, 200.0, alert_estimated=True),
    }
    found = open_anomalies(state, last_day=LAST_DAY, root_causes={"vision|": ["+600 USD in Amazon SageMaker"]})
    assert [(a.team, a.severity, a.impact_usd, a.top_service, a.estimated) for a in found] == [
        ("vision", "critical", 600.0, "+600 USD in Amazon SageMaker", False),
        ("search (training)", "warning", 200.0, None, True),
    ]


def test_open_anomaly_keeps_the_driver_found_when_it_was_alerted() -> None:
    state = {
        "vision|": _episode(
            "critical", "2026-03-18", "2026-03-19", 900.0, 300.0, top_driver="+580 USD in Amazon SageMaker"
        ),
    }
    (found,) = open_anomalies(state, last_day=LAST_DAY)
    assert found.top_service == "+580 USD in Amazon SageMaker"
