"""Detection rules on small hand-made series: each archetype that must (not) alert, one at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from costwarden.cost.detect import DetectParams, detect, judge, to_cells

START = "2026-01-05"  # a Monday


def frame(series: dict[str, list[float]], start: str = START) -> pd.DataFrame:
    rows = [
        (pd.Timestamp(start) + pd.Timedelta(days=i), team, cost)
        for team, values in series.items()
        for i, cost in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["date", "team", "cost_usd"])


def flat(days: int, level: float = 1000.0, seed: int = 0, noise: float = 0.03) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(level * rng.normal(1.0, noise, days))


def test_one_day_spike_is_critical_with_all_fields() -> None:
    values = flat(40)
    values[35] = 2500.0
    findings = detect(frame({"ml": values}), ["team"])
    assert len(findings) == 1
    row = findings.iloc[0]
    assert row["date"] == str((pd.Timestamp(START) + pd.Timedelta(days=35)).date())
    assert row["team"] == "ml" and row["severity"] == "critical" and not row["estimated"]
    assert row["baseline_usd"] == pytest.approx(1000, rel=0.05)
    assert row["ratio"] == pytest.approx(2.5, rel=0.06)
    assert row["impact_usd"] == pytest.approx(1500, rel=0.06)
    assert row["zscore"] > 3


def test_warning_between_ratios() -> None:
    values = flat(40)
    values[30] = 1700.0
    findings = detect(frame({"ml": values}), ["team"])
    assert findings["severity"].tolist() == ["warning"]


def test_impact_floor_silences_tiny_teams() -> None:
    values = [3.0] * 30 + [9.0] + [3.0] * 5
    assert detect(frame({"tiny": values}), ["team"]).empty
    assert len(detect(frame({"tiny": values}), ["team"], DetectParams(min_impact_usd=1.0))) == 1


def test_min_history_days() -> None:
    values = [100.0] * 6 + [900.0]
    assert detect(frame({"new": values}), ["team"]).empty
    values = [100.0] * 7 + [900.0]
    assert len(detect(frame({"new": values}), ["team"])) == 1


def test_quiet_weekends_and_weekly_retraining_day_are_normal() -> None:
    days = 63
    dates = pd.date_range(START, periods=days)
    weekend = [200.0 if d.day_of_week >= 5 else 1000.0 for d in dates]
    retrain = [4000.0 if d.day_of_week == 2 else 1000.0 for d in dates]
    assert detect(frame({"weekend": weekend, "retrain": retrain}), ["team"]).empty
    # ...but a spike on the retraining day (2x its usual) and on a Saturday (3x its usual) still alert.
    retrain[51] = 8000.0  # a Wednesday
    weekend[61] = 700.0  # a Saturday
    assert dates[51].day_of_week == 2 and dates[61].day_of_week == 5
    findings = detect(frame({"weekend": weekend, "retrain": retrain}), ["team"])
    assert sorted(findings["team"]) == ["retrain", "weekend"]


def test_refund_days_and_past_spikes_do_not_distort_the_baseline() -> None:
    values = flat(40)
    values[20] = -5000.0  # refund
    values[25] = 9000.0  # past spike
    values[26] = 8000.0
    values[38] = 1800.0
    findings = detect(frame({"ml": values}), ["team"])
    judged_day = findings[findings["date"] == str((pd.Timestamp(START) + pd.Timedelta(days=38)).date())]
    assert judged_day["baseline_usd"].iloc[0] == pytest.approx(1000, rel=0.05)
    assert judged_day["severity"].iloc[0] == "warning"
    # a refund day itself is never an anomaly
    assert str((pd.Timestamp(START) + pd.Timedelta(days=20)).date()) not in set(findings["date"])


def test_noisy_team_needs_more_than_the_ratio() -> None:
    rng = np.random.default_rng(3)
    values = list(1000 * np.clip(rng.normal(1, 0.35, 40), 0.3, None))
    values[39] = 1600.0  # 1.6x: within this team's own noise
    findings = detect(frame({"noisy": values}), ["team"])
    assert str((pd.Timestamp(START) + pd.Timedelta(days=39)).date()) not in set(findings["date"])


def test_sustained_step_stops_alerting_once_it_is_the_new_normal() -> None:
    values = flat(90)
    values[40:] = [v * 3 for v in values[40:]]
    findings = detect(frame({"ml": values}), ["team"])
    first = pd.Timestamp(START) + pd.Timedelta(days=40)
    days = pd.to_datetime(findings["date"])
    assert days.min() == first
    assert days.max() < first + pd.Timedelta(days=20)  # ongoing episode, then the new level is the baseline


def test_day_judged_is_excluded_from_its_own_baseline() -> None:
    values = [100.0] * 10 + [10_000.0]
    result = judge(to_cells(frame({"a": values}), ["team"]), DetectParams())
    assert result.baseline[10] == 100.0


def test_missing_days_after_first_appearance_are_zero_and_before_are_no_history() -> None:
    data = frame({"a": [100.0] * 20})
    data = data.drop(index=[12])  # no row on day 12: zero spend that day
    data.loc[19, "cost_usd"] = 1000.0  # judged against days 0..18, day 12 among them
    cells = to_cells(pd.concat([data, frame({"b": [5.0]}, start="2026-01-20")]), ["team"])
    a = int((cells.labels["team"] == "a").to_numpy().argmax())
    assert len(cells) == 19 + 1  # days with rows only: a's day 12 is not stored, b has one cell
    result = judge(cells, DetectParams(min_history_days=3))
    last_of_a = int(np.flatnonzero(cells.series == a)[-1])
    assert result.history[last_of_a] == 19  # day 12 counts as history (0 spend)...
    assert result.baseline[last_of_a] == 100.0  # ...and is one zero among eighteen 100s
    b_cell = int(np.flatnonzero(cells.series != a)[0])
    assert result.history[b_cell] == 0  # b's days before its first are no history


def test_two_keys_and_judge_from() -> None:
    values = flat(40)
    values[20] = 3000.0
    values[35] = 3000.0
    data = frame({"ml": values})
    data["lifecycle_phase"] = "training"
    findings = detect(data, ["team", "lifecycle_phase"])
    assert len(findings) == 2 and set(findings["lifecycle_phase"]) == {"training"}
    later = detect(
        data, ["team", "lifecycle_phase"], judge_from=str((pd.Timestamp(START) + pd.Timedelta(days=30)).date())
    )
    assert len(later) == 1


def test_estimated_flag_is_carried() -> None:
    values = flat(30)
    values[29] = 3000.0
    data = frame({"ml": values})
    data["estimated"] = data["date"] == data["date"].max()
    assert detect(data, ["team"])["estimated"].tolist() == [True]


def test_empty_frame() -> None:
    assert detect(frame({}), ["team"]).empty
