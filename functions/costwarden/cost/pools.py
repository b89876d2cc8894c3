"""Production and experiment pools per team (issue 15): month to date, projection, status, and when to say so.

Spend is split by the ``environment`` tag through ``budgets.pools.environments`` (production/staging ->
production, development/experiment -> experiment by default). Spend whose environment is missing or mapped to no
pool is its own line (``unassigned``): it is shown, never guessed into a pool.

The two pools are judged differently, because they are different money:

- **production**: today's rule of the whole-team budget (``cost.budget.project``: AT_RISK / OVER_BUDGET on the
  projected month end); an alert when the status worsens within the month (state ``dedup#pool-production``).
- **experiment**: a pool the team may spend freely, so a projection says little (a sweep burns it in ten days).
  An alert when *actual* month-to-date spend crosses each of ``experiment_alert_ratios`` (80 % and 100 %), once
  each per month (state ``dedup#pool-experiment``, sk ``<team>#<YYYY-MM>`` holds the highest ratio alerted).
  When a run finds several thresholds crossed for the first time, one alert names the highest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from costwarden.cost.budget import BudgetStatus, BudgetView, project
from costwarden.cost.frame import COST, DATE, UNTAGGED

PRODUCTION = "production"
EXPERIMENT = "experiment"
POOLS = (PRODUCTION, EXPERIMENT)
PRODUCTION_PK = "dedup#pool-production"
EXPERIMENT_PK = "dedup#pool-experiment"


@dataclass(frozen=True)
class PoolView:
    """One pool of one team this month. ``budget_usd`` is None for a pool without a budget (shown, not judged)."""

    pool: str
    month_to_date_usd: float
    budget_usd: float | None = None
    projected_usd: float | None = None
    projected_share: float | None = None
    actual_share: float | None = None
    status: BudgetStatus | None = None
    reached: tuple[float, ...] = ()
    """Experiment pool: the alert ratios actual month-to-date spend has reached, lowest first."""

    @property
    def crossed(self) -> float | None:
        """The highest alert ratio reached (None: none yet)."""
        return self.reached[-1] if self.reached else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value if self.status else None
        out["crossed"] = self.crossed
        return out


@dataclass(frozen=True)
class TeamPools:
    team: str
    month: str
    days_elapsed: int
    days_in_month: int
    production: PoolView
    experiment: PoolView
    unassigned_usd: float = 0.0
    unassigned: dict[str, float] = field(default_factory=dict)
    """Environment value (``(untagged)`` when absent) -> month-to-date USD of spend in no pool."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "month": self.month,
            "days_elapsed": self.days_elapsed,
            "days_in_month": self.days_in_month,
            PRODUCTION: self.production.as_dict(),
            EXPERIMENT: self.experiment.as_dict(),
            "unassigned_usd": self.unassigned_usd,
            "unassigned": dict(self.unassigned),
        }


@dataclass(frozen=True)
class PoolBudget:
    """What a team configured (``teams.<team>.pools``), as plain numbers for this module."""

    production: float | None = None
    experiment: float | None = None


def pool_of(environment: str, mapping: Mapping[str, str]) -> str | None:
    """The pool an ``environment`` tag value belongs to; None for untagged or unmapped spend (never guessed)."""
    if environment == UNTAGGED:
        return None
    return mapping.get(environment)


def month_spend(
    frame: pd.DataFrame, *, team_key: str, environment_key: str, last_day: date
) -> dict[str, dict[str, float]]:
    """team -> environment -> USD from the 1st through ``last_day``, from a long frame keyed by team and env."""
    first = pd.Timestamp(last_day.replace(day=1))
    if frame.empty:
        return {}
    in_month = frame.loc[(frame[DATE] >= first) & (frame[DATE] <= pd.Timestamp(last_day))]
    sums = in_month.groupby([team_key, environment_key], sort=True)[COST].sum()
    out: dict[str, dict[str, float]] = {}
    for (team, environment), amount in sums.items():
        out.setdefault(str(team), {})[str(environment)] = float(amount)
    return out


def reached_ratios(month_to_date: float, budget: float, ratios: Sequence[float]) -> tuple[float, ...]:
    """The ``ratios`` actual spend has reached (``>=``; a cent of rounding does not hide a threshold), lowest first."""
    return tuple(sorted(r for r in ratios if round(month_to_date, 2) >= round(r * budget, 2)))


def _experiment_status(crossed: float | None) -> BudgetStatus:
    if crossed is None:
        return BudgetStatus.ON_TRACK
    return BudgetStatus.OVER_BUDGET if crossed >= 1.0 else BudgetStatus.AT_RISK


def _view(
    pool: str,
    team: str,
    spent: float,
    budget: float | None,
    last_day: date,
    *,
    at_risk_ratio: float,
    over_budget_ratio: float,
    ratios: Sequence[float],
) -> PoolView:
    if budget is None:
        return PoolView(pool=pool, month_to_date_usd=round(spent, 2))
    projection: BudgetView = project(
        team, budget, spent, last_day, at_risk_ratio=at_risk_ratio, over_budget_ratio=over_budget_ratio
    )
    reached = reached_ratios(spent, budget, ratios) if pool == EXPERIMENT else ()
    return PoolView(
        pool=pool,
        month_to_date_usd=projection.month_to_date_usd,
        budget_usd=projection.budget_usd,
        projected_usd=projection.projected_usd,
        projected_share=projection.projected_share,
        actual_share=round(spent / budget, 4),
        status=projection.status if pool == PRODUCTION else _experiment_status(reached[-1] if reached else None),
        reached=reached,
    )


def team_pools(
    spend: Mapping[str, Mapping[str, float]],
    budgets: Mapping[str, PoolBudget],
    mapping: Mapping[str, str],
    last_day: date,
    *,
    at_risk_ratio: float = 0.9,
    over_budget_ratio: float = 1.1,
    ratios: Sequence[float] = (0.8, 1.0),
) -> list[TeamPools]:
    """One ``TeamPools`` per team with a pool budget, sorted by team; teams without pools are left to the budget."""
    out: list[TeamPools] = []
    days_in_month = pd.Timestamp(last_day).days_in_month
    for team in sorted(budgets):
        configured = budgets[team]
        by_env = spend.get(team, {})
        totals = dict.fromkeys(POOLS, 0.0)
        unassigned: dict[str, float] = {}
        for environment, amount in by_env.items():
            pool = pool_of(environment, mapping)
            if pool is None:
                unassigned[environment] = round(unassigned.get(environment, 0.0) + amount, 2)
            else:
                totals[pool] += amount
        views = {
            pool: _view(
                pool,
                team,
                totals[pool],
                getattr(configured, pool),
                last_day,
                at_risk_ratio=at_risk_ratio,
                over_budget_ratio=over_budget_ratio,
                ratios=ratios,
            )
            for pool in POOLS
        }
        out.append(
            TeamPools(
                team=team,
                month=f"{last_day:%Y-%m}",
                days_elapsed=last_day.day,
                days_in_month=int(days_in_month),
                production=views[PRODUCTION],
                experiment=views[EXPERIMENT],
                unassigned_usd=round(sum(unassigned.values()), 2),
                unassigned=dict(sorted(unassigned.items())),
            )
        )
    return out


def percent(ratio: float) -> str:
    """``0.8`` -> ``80``: the threshold as it appears in state keys and titles."""
    return f"{round(ratio * 100):d}"


@dataclass(frozen=True)
class PoolAlert:
    """An alert to publish and the one state item to write once it went out."""

    team: TeamPools
    pool: str
    pk: str
    sk: str
    data: dict[str, Any]


def state_keys(views: Iterable[TeamPools]) -> list[tuple[str, str]]:
    """Every state item ``due_alerts`` may read for ``views`` (the caller fetches them from its store)."""
    keys: list[tuple[str, str]] = []
    for view in views:
        if view.production.status is not None:
            keys.append((PRODUCTION_PK, f"{view.team}#{view.month}"))
        if view.experiment.reached:
            keys.append((EXPERIMENT_PK, f"{view.team}#{view.month}"))
    return keys


def due_alerts(
    views: Iterable[TeamPools], stored: Mapping[tuple[str, str], Mapping[str, Any] | None]
) -> list[PoolAlert]:
    """Alerts this run owes, given what state holds (``stored[(pk, sk)]`` for ``state_keys``).

    Production: the status worsened since the last alert this month (a new month starts from ON_TRACK).
    Experiment: the highest threshold reached is above the highest already alerted this month. Several thresholds
    first reached in one run make one alert (the highest): nobody needs "80 %" after "100 %".
    """
    alerts: list[PoolAlert] = []
    for view in views:
        prod = view.production
        if prod.status is not None:
            pk, sk = PRODUCTION_PK, f"{view.team}#{view.month}"
            previous = stored.get((pk, sk))
            before = BudgetStatus(str(previous["status"])) if previous else BudgetStatus.ON_TRACK
            if prod.status.rank > before.rank:
                alerts.append(PoolAlert(view, PRODUCTION, pk, sk, {"status": prod.status.value}))
        crossed = view.experiment.crossed
        if crossed is not None:
            pk, sk = EXPERIMENT_PK, f"{view.team}#{view.month}"
            previous = stored.get((pk, sk))
            alerted = float(previous["ratio"]) if previous else 0.0
            if crossed > alerted:
                data = {"ratio": crossed, "usd": view.experiment.month_to_date_usd}
                alerts.append(PoolAlert(view, EXPERIMENT, pk, sk, data))
    return alerts
