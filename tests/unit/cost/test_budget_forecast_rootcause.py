"""Budgets (true month lengths, status thresholds, worsening), forecasts (bands, trend), root-cause drivers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from costwarden.cost.budget import BudgetStatus, budget_views, classify, project, worsened
from costwarden.cost.forecast import forecast
from costwarden.cost.rootcause import Driver, drivers


@pytest.mark.parametrize(
    ("last_day", "days_in_month"), [(date(2026, 2, 14), 28), (date(2028, 2, 14), 29), (date(2026, 4, 15), 30)]
)
def test_projection_uses_true_days_in_month(last_day: date, days_in_month: int) -> None:
    view = project("ml", 10_000, month_to_date=100.0 * last_day.day, last_day=last_day)
    assert view.days_in_month == days_in_month
    assert view.run_rate_usd == 100.0
    assert view.projected_usd == pytest.approx(100.0 * days_in_month)


def test_status_thresholds() -> None:
    assert classify(0.9) is BudgetStatus.ON_TRACK
    assert classify(0.91) is BudgetStatus.AT_RISK
    assert classify(1.1) is BudgetStatus.AT_RISK
    assert classify(1.11) is BudgetStatus.OVER_BUDGET


def test_alert_only_when_status_worsens() -> None:
    at_risk = project("ml", 3_000, month_to_date=1_500, last_day=date(2026, 3, 15))
    assert at_risk.status is BudgetStatus.AT_RISK
    assert worsened(at_risk, None)
    assert not worsened(at_risk, {"status": "AT_RISK"})
    assert not worsened(at_risk, {"status": "OVER_BUDGET"})


def test_budget_views_from_daily_frame_only_for_budgeted_teams() -> None:
    days = pd.date_range("2026-02-20", "2026-03-10")
    daily = pd.DataFrame({"date": days.repeat(2), "team": ["ml", "web"] * len(days), "cost_usd": 100.0})
    views = budget_views(daily, {"ml": 3_000}, date(2026, 3, 10))
    assert [(v.team, v.month_to_date_usd, v.days_elapsed) for v in views] == [("ml", 1_000.0, 10)]
    assert views[0].projected_usd == pytest.approx(3_100.0) and views[0].status is BudgetStatus.AT_RISK


def _daily(values: np.ndarray, start: str = "2026-01-01", team: str = "ml") -> pd.DataFrame:
    return pd.DataFrame({"date": pd.date_range(start, periods=len(values)), "team": team, "cost_usd": values})


def test_forecast_follows_a_trend_with_bands_around_it() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(70)
    values = (1000 + 10 * t) * rng.normal(1, 0.03, 70)
    values[50] = 20_000  # a spike does not bend a Theil-Sen trend
    last = date(2026, 1, 1) + timedelta(days=69)
    (result,) = forecast(_daily(values), last)
    assert result.slope_usd_per_day == pytest.approx(10, rel=0.2)
    months = result.months
    assert [m.month for m in months] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    for m in months:
        assert m.low_usd <= m.expected_usd <= m.high_usd
    # April: 30 days around 1000 + 10 * (90..119)
    assert months[1].expected_usd == pytest.approx(sum(1000 + 10 * d for d in range(90, 120)), rel=0.08)
    assert months[3].high_usd - months[3].low_usd > months[1].high_usd - months[1].low_usd  # wider further out
    assert months[0].actual_to_date_usd == pytest.approx(values[59:].sum(), rel=1e-6)


def test_forecast_keeps_weekly_rhythm_and_skips_short_histories() -> None:
    days = pd.date_range("2026-01-05", periods=56)
    weekly = np.where(days.day_of_week >= 5, 200.0, 1000.0)
    frame = pd.concat([_daily(weekly, "2026-01-05"), _daily(np.full(5, 50.0), "2026-02-25", team="new")])
    results = {r.team: r for r in forecast(frame, date(2026, 3, 1))}
    assert set(results) == {"ml"}
    march = results["ml"].months[0]
    expected_march = sum(200.0 if d.day_of_week >= 5 else 1000.0 for d in pd.date_range("2026-03-01", "2026-03-31"))
    assert march.expected_usd == pytest.approx(expected_march, rel=0.02)


def _service_pages(day: str, before: float, after: float) -> list[dict[str, object]]:
    results = []
    for d in pd.date_range(pd.Timestamp(day) - pd.Timedelta(days=7), day):
        sm = after if d == pd.Timestamp(day) else before
        results.append(
            {
                "TimePeriod": {"Start": d.date().isoformat()},
                "Groups": [
                    {"Keys": ["Amazon SageMaker"], "Metrics": {"AmortizedCost": {"Amount": str(sm)}}},
                    {"Keys": ["Amazon Simple Storage Service"], "Metrics": {"AmortizedCost": {"Amount": "40"}}},
                ],
            }
        )
    return [{"ResultsByTime": results[:4]}, {"ResultsByTime": results[4:]}]


def test_drivers_rank_services_by_increase() -> None:
    found = drivers(_service_pages("2026-03-10", 200.0, 3380.0), "2026-03-10", "AmortizedCost")
    assert found == [Driver("Amazon SageMaker", 3380.0, 200.0)]
    assert found[0].line() == "+$3,180 in Amazon SageMaker"  # money in the one format (core.money)
    assert drivers(_service_pages("2026-03-10", 200.0, 200.0), "2026-03-10", "AmortizedCost") == []
