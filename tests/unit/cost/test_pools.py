"""Pools (issue 15): the environment mapping, untagged spend kept apart, production projected, experiment on
actual spend with its thresholds alerted once each per month."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from costwarden.cost.budget import BudgetStatus
from costwarden.cost.frame import UNTAGGED
from costwarden.cost.pools import (
    EXPERIMENT,
    EXPERIMENT_PK,
    PRODUCTION,
    PRODUCTION_PK,
    PoolBudget,
    due_alerts,
    month_spend,
    pool_of,
    state_keys,
    team_pools,
)
from costwarden.settings import Settings

MAPPING = Settings().budgets.pools.environments
LAST = date(2026, 3, 12)


def _frame(
    rows: list[tuple[str, str, str, float]], team_key: str = "team", env_key: str = "environment"
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime([r[0] for r in rows]),
            team_key: [r[1] for r in rows],
            env_key: [r[2] for r in rows],
            "cost_usd": [r[3] for r in rows],
            "estimated": False,
        }
    )


def test_the_default_mapping_and_untagged_spend_belongs_to_no_pool() -> None:
    assert pool_of("staging", MAPPING) == PRODUCTION
    assert pool_of("development", MAPPING) == EXPERIMENT
    assert pool_of(UNTAGGED, MAPPING) is None
    assert pool_of("sandbox", MAPPING) is None


def test_month_spend_counts_only_this_month_with_configured_key_names() -> None:
    frame = _frame(
        [
            ("2026-02-28", "nlp", "experiment", 999.0),
            ("2026-03-01", "nlp", "experiment", 10.0),
            ("2026-03-12", "nlp", "experiment", 5.0),
            ("2026-03-13", "nlp", "experiment", 77.0),
        ],
        team_key="owner",
        env_key="stage",
    )
    assert month_spend(frame, team_key="owner", environment_key="stage", last_day=LAST) == {"nlp": {"experiment": 15.0}}


def test_on_track_in_production_over_in_experiment_and_untagged_shown_apart() -> None:
    spend = {"nlp": {"production": 1200.0, "staging": 100.0, "experiment": 4250.0, UNTAGGED: 300.0, "sandbox": 20.0}}
    [view] = team_pools(spend, {"nlp": PoolBudget(production=10_000, experiment=5_000)}, MAPPING, LAST)
    assert view.production.month_to_date_usd == 1300.0
    assert view.production.status is BudgetStatus.ON_TRACK  # 1,300 in 12 days -> 3,358 of 10,000 projected
    assert view.experiment.month_to_date_usd == 4250.0
    assert view.experiment.actual_share == 0.85
    assert view.experiment.reached == (0.8,)
    assert view.experiment.status is BudgetStatus.AT_RISK
    assert view.unassigned == {UNTAGGED: 300.0, "sandbox": 20.0}
    assert view.unassigned_usd == 320.0


def test_experiment_thresholds_alert_once_each_and_the_highest_when_several_are_new() -> None:
    budgets = {"nlp": PoolBudget(experiment=1_000)}
    stored: dict[tuple[str, str], dict[str, object] | None] = {}

    def run(spent: float) -> list[float]:
        views = team_pools({"nlp": {"experiment": spent}}, budgets, MAPPING, LAST)
        got = due_alerts(views, {k: stored.get(k) for k in state_keys(views)})
        for alert in got:
            stored[(alert.pk, alert.sk)] = alert.data
        return [float(a.data["ratio"]) for a in got]

    assert run(799.99) == []
    assert run(800.0) == [0.8]
    assert run(950.0) == []
    assert run(1000.0) == [1.0]
    assert run(1500.0) == []
    stored.clear()  # a new month: nothing remembered
    assert run(1200.0) == [1.0]  # both crossed at once: one alert, the highest
    assert (EXPERIMENT_PK, "nlp#2026-03") in stored


def test_production_pool_alerts_when_its_projection_worsens() -> None:
    budgets = {"web": PoolBudget(production=3_100)}
    views = team_pools({"web": {"production": 1_200.0}}, budgets, MAPPING, LAST)  # 100/day -> 3,100: 100 %
    [alert] = due_alerts(views, {})
    assert alert.pool == PRODUCTION and (alert.pk, alert.data["status"]) == (PRODUCTION_PK, "AT_RISK")
    assert due_alerts(views, {(PRODUCTION_PK, "web#2026-03"): {"status": "AT_RISK"}}) == []


def test_a_pool_without_budget_is_shown_not_judged() -> None:
    [view] = team_pools({"nlp": {"production": 50.0}}, {"nlp": PoolBudget(experiment=10.0)}, MAPPING, LAST)
    assert view.production.status is None and view.production.month_to_date_usd == 50.0
    assert due_alerts([view], {}) == []


@pytest.mark.parametrize("ratios", [(), (0.0,), (-1.0,), (6.0,)])
def test_bad_experiment_ratios_are_refused(ratios: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="experiment_alert_ratios"):
        Settings.model_validate({"budgets": {"pools": {"experiment_alert_ratios": list(ratios)}}})


def test_an_unknown_pool_name_is_refused() -> None:
    with pytest.raises(ValueError, match="environments"):
        Settings.model_validate({"budgets": {"pools": {"environments": {"sandbox": "research"}}}})
