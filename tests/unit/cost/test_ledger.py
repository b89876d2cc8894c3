"""The ledger: one answer per spend question, the same one the monitor, the digest, the budgets and the report give."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from costwarden.cost import ledger
from costwarden.cost.budget import budget_views
from costwarden.cost.detect import DetectParams, detect
from costwarden.cost.digest_input import team_rows

LAST = date(2026, 11, 21)  # a Saturday


def _frame(days: int = 60, *, spike: float = 0.0) -> pd.DataFrame:
    """vision: 1,000 on weekdays, 300 at weekends (a weekly rhythm), ``spike`` extra on ``LAST``; nlp: flat 200."""
    rows = []
    for i in range(days):
        day = LAST - timedelta(days=i)
        weekend = day.weekday() >= 5
        rows.append((pd.Timestamp(day), "vision", (300.0 if weekend else 1_000.0) + (spike if day == LAST else 0.0)))
        rows.append((pd.Timestamp(day), "nlp", 200.0))
    return pd.DataFrame(rows, columns=["date", "team", "cost_usd"])


# ------------------------------------------------------------------------------------------- hostile input first


def test_a_frame_without_a_cost_column_names_the_missing_column() -> None:
    frame = _frame().drop(columns=["cost_usd"])
    with pytest.raises(ledger.LedgerError, match=r"missing column\(s\) cost_usd"):
        ledger.month_to_date(frame, LAST)
    with pytest.raises(ledger.LedgerError, match="missing column"):
        ledger.baselines(frame, LAST, DetectParams())
    with pytest.raises(ledger.LedgerError, match=r"missing column\(s\) project"):
        ledger.month_totals(_frame(), ["team", "project"])


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_month_to_date_is_refused_by_name(amount: float) -> None:
    with pytest.raises(ledger.LedgerError, match=r"month to date: .* is not a finite amount"):
        ledger.projection(amount, LAST)


@pytest.mark.parametrize("elapsed", [-1, 31])
def test_days_elapsed_outside_the_month_is_refused(elapsed: int) -> None:
    with pytest.raises(ledger.LedgerError, match=r"days elapsed: -?\d+ is outside 0..30 for 2026-11"):
        ledger.projection(100.0, LAST, days_elapsed=elapsed)


def test_an_empty_frame_answers_empty_not_an_error() -> None:
    empty = _frame().iloc[0:0]
    assert ledger.month_to_date(empty, LAST).empty
    assert ledger.baselines(empty, LAST, DetectParams()).empty
    assert ledger.month_totals(empty, ["team"]).empty


# ------------------------------------------------------------------------------------------------ the questions


def test_month_to_date_is_the_first_through_the_day_asked() -> None:
    frame = _frame()
    mtd = ledger.month_to_date(frame, LAST)
    # 21 November 2026: 15 weekdays and 6 weekend days so far; nlp 21 days at 200.
    assert mtd.to_dict() == {"nlp": 21 * 200.0, "vision": 15 * 1_000.0 + 6 * 300.0}
    assert ledger.month_to_date(frame, date(2026, 11, 1)).to_dict() == {"nlp": 200.0, "vision": 300.0}  # a Sunday


def test_month_totals_are_the_month_to_date_on_the_months_last_day() -> None:
    frame = _frame(days=90)
    october = ledger.month_totals(frame, ["team"]).xs("2026-10", level="month")
    assert october.to_dict() == ledger.month_to_date(frame, date(2026, 10, 31)).to_dict()
    assert ledger.last_day_of_month(date(2026, 2, 10)) == date(2026, 2, 28)


def test_the_baseline_is_the_detectors_own_for_the_same_day() -> None:
    frame = _frame(spike=2_000.0)
    params = DetectParams()
    findings = detect(frame, ["team"], params, judge_from=LAST.isoformat())
    (vision,) = findings.loc[findings["team"] == "vision"].itertuples()
    base = ledger.baselines(frame, LAST, params)
    # The same weekday (Saturdays at 300), not the whole window's median (1,000): what the monitor calls "usual".
    assert base["vision"] == pytest.approx(vision.baseline_usd) == pytest.approx(300.0)
    assert base["nlp"] == pytest.approx(200.0)


def test_a_team_without_a_row_on_the_day_still_has_its_baseline() -> None:
    frame = _frame()
    frame = frame.loc[~((frame["team"] == "nlp") & (frame["date"] == pd.Timestamp(LAST)))]
    assert ledger.baselines(frame, LAST, DetectParams())["nlp"] == pytest.approx(200.0)


def test_a_team_without_history_has_no_baseline() -> None:
    frame = pd.DataFrame({"date": [pd.Timestamp(LAST)], "team": ["new"], "cost_usd": [50.0]})
    assert np.isnan(ledger.baselines(frame, LAST, DetectParams())["new"])


def test_projection_is_the_run_rate_over_the_true_month_length() -> None:
    heading = ledger.projection(2_100.0, date(2026, 2, 21))
    assert (heading.month, heading.days_elapsed, heading.days_in_month) == ("2026-02", 21, 28)
    assert heading.run_rate_usd == pytest.approx(100.0) and heading.projected_usd == pytest.approx(2_800.0)
    assert heading.factor == pytest.approx(28 / 21)
    nothing_yet = ledger.projection(0.0, date(2026, 3, 31), days_elapsed=0)
    assert (nothing_yet.projected_usd, nothing_yet.factor) == (0.0, 1.0)
    assert ledger.projection(3_100.0, date(2026, 3, 31)).factor == 1.0


def test_budgets_and_digest_rows_give_the_ledgers_numbers() -> None:
    frame = _frame(spike=2_000.0)
    (view,) = budget_views(frame, {"vision": 30_000.0}, LAST)
    heading = ledger.projection(float(ledger.month_to_date(frame, LAST)["vision"]), LAST)
    assert view.projected_usd == pytest.approx(heading.projected_usd, abs=0.01)
    rows = {r.team: r for r in team_rows(frame, last_day=LAST, baseline_days=30, views=[view], forecasts={})}
    assert rows["vision"].baseline_usd == pytest.approx(300.0)  # the detector's, not a 30-day median of 1,000
    assert rows["vision"].month_to_date_usd == pytest.approx(view.month_to_date_usd)
    assert rows["nlp"].projected_month_end_usd == pytest.approx(ledger.projection(21 * 200.0, LAST).projected_usd)


def test_the_rules_say_what_they_compute() -> None:
    assert ledger.baseline_rule(14) == (
        "baseline: median of the previous 14 days (of the same weekday when spend follows the week)"
    )
    assert "run rate" in ledger.PROJECTION_RULE and "30 days" in ledger.BASELINE_RULE
