"""The cost monitor's pool step (issue 15): month-to-date spend by team and environment, the pool views, the
alerts they owe (with the experiment pool's biggest spenders named), and the state writes to make after publish.

Called by ``cost.monitor.run`` with what it already holds. Cost Explorer is asked for team x environment only when
some team has a pool and the monitor's own cached pull is not already grouped by the environment key
(``anomaly.second_group_key``): one request per page of the month so far. An experiment alert costs one more
request (the team's month grouped by ``budgets.pools.spender_key``), made only for a team that is alerted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from costwarden.core.money import usd
from costwarden.cost.frame import UNTAGGED, from_ce_pages
from costwarden.cost.pools import (
    EXPERIMENT,
    PRODUCTION,
    PoolAlert,
    PoolBudget,
    PoolView,
    TeamPools,
    due_alerts,
    month_spend,
    percent,
    state_keys,
    team_pools,
)
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.digest import PoolRow
from costwarden.models.ports import CostSource, StateStore
from costwarden.settings import Settings


def pool_budgets(settings: Settings) -> dict[str, PoolBudget]:
    """Team -> its configured pools, for every team of the directory with at least one pool."""
    return {
        team: PoolBudget(entry.pools.production, entry.pools.experiment)
        for team, entry in settings.teams.items()
        if entry.pools.production is not None or entry.pools.experiment is not None
    }


@dataclass
class PoolRun:
    views: list[TeamPools] = field(default_factory=list)
    alerts: list[tuple[AlertEvent, PoolAlert]] = field(default_factory=list)
    requests: int = 0


def month_frame(
    settings: Settings, ce: CostSource, *, cached: pd.DataFrame | None, cached_keys: list[str], last_day: date
) -> pd.DataFrame:
    """Long frame (date, team key, environment key, cost) of the month through ``last_day``."""
    team_key, env_key = settings.tags.team_key, settings.tags.environment_key
    if cached is not None and cached_keys == [team_key, env_key]:
        return cached
    anomaly = settings.anomaly
    pages = ce.daily_by_tags(
        last_day.replace(day=1),
        last_day + timedelta(days=1),
        [team_key, env_key],
        metric=anomaly.cost_metric,
        excluded_record_types=anomaly.excluded_record_types,
    )
    return from_ce_pages(pages, [team_key, env_key], anomaly.cost_metric)


def views_from_frame(settings: Settings, frame: pd.DataFrame, last_day: date) -> list[TeamPools]:
    """Every pool team's views from a team x environment frame (the CLI's ``budgets`` uses this too)."""
    budgets = settings.budgets
    spend = month_spend(
        frame, team_key=settings.tags.team_key, environment_key=settings.tags.environment_key, last_day=last_day
    )
    return team_pools(
        spend,
        pool_budgets(settings),
        budgets.pools.environments,
        last_day,
        at_risk_ratio=budgets.at_risk_ratio,
        over_budget_ratio=budgets.over_budget_ratio,
        ratios=budgets.pools.experiment_alert_ratios,
    )


def top_spenders(settings: Settings, ce: CostSource, team: str, last_day: date) -> list[str]:
    """The team's biggest experiment jobs this month (by ``pools.spender_key``), largest first, as lines."""
    pools, anomaly = settings.budgets.pools, settings.anomaly
    if pools.top_spenders == 0:
        return []
    pages = ce.total_by_tag(
        last_day.replace(day=1),
        last_day + timedelta(days=1),
        group_key=pools.spender_key,
        tag_values={settings.tags.team_key: [team], settings.tags.environment_key: pools.experiment_environments()},
        metric=anomaly.cost_metric,
        excluded_record_types=anomaly.excluded_record_types,
    )
    totals: dict[str, float] = {}
    for page in pages:
        for result in page.get("ResultsByTime", []):
            for group in result.get("Groups", []):
                raw = str(group.get("Keys", [""])[0])
                value = raw.partition("$")[2].strip() or UNTAGGED
                amount = float(group.get("Metrics", {}).get(anomaly.cost_metric, {}).get("Amount", "0"))
                totals[value] = totals.get(value, 0.0) + amount
    ranked = sorted(((v, a) for v, a in totals.items() if a > 0), key=lambda pair: (-pair[1], pair[0]))
    return [
        f"{pools.spender_key}={value}: {usd(amount)}"
        if value != UNTAGGED
        else f"without {pools.spender_key}: {usd(amount)}"
        for value, amount in ranked[: pools.top_spenders]
    ]


def _figures(view: TeamPools, pool: PoolView) -> dict[str, str]:
    figures = {
        "Pool": pool.pool,
        "Budget": usd(pool.budget_usd or 0.0),
        "Month to date": f"{usd(pool.month_to_date_usd)} ({pool.actual_share or 0:.0%})",
        "Projected": f"{usd(pool.projected_usd or 0.0)} ({pool.projected_share or 0:.0%})",
        "Days": f"{view.days_elapsed} of {view.days_in_month}",
    }
    if view.unassigned_usd:
        figures["No pool"] = usd(view.unassigned_usd)
    return figures


def pool_event(alert: PoolAlert, spenders: list[str]) -> AlertEvent:
    """The alert for one ``PoolAlert``: experiment thresholds name the spenders; production is the projection."""
    view = alert.team
    if alert.pool == EXPERIMENT:
        pool, ratio = view.experiment, float(alert.data["ratio"])
        severity = Severity.CRITICAL if ratio >= 1.0 else Severity.WARNING
        title = f"{view.team}: experiment pool {percent(ratio)} % used for {view.month}"
        summary = (
            f"{usd(pool.month_to_date_usd)} of the {usd(pool.budget_usd or 0.0)} experiment pool spent in "
            f"{view.days_elapsed} of {view.days_in_month} days ({pool.actual_share or 0:.0%})."
            + (" Biggest experiment spenders below." if spenders else "")
        )
        dedup = f"budget#{view.team}#{view.month}#experiment#{percent(ratio)}"
    else:
        pool = view.production
        status = pool.status.value if pool.status else "ON_TRACK"
        severity = Severity.CRITICAL if status == "OVER_BUDGET" else Severity.WARNING
        title = f"{view.team}: production pool {status.replace('_', ' ')} for {view.month}"
        summary = (
            f"Production projected at {usd(pool.projected_usd or 0.0)} against a {usd(pool.budget_usd or 0.0)} "
            f"pool ({pool.projected_share or 0:.0%}); {usd(pool.month_to_date_usd)} spent in {view.days_elapsed} of "
            f"{view.days_in_month} days."
        )
        dedup = f"budget#{view.team}#{view.month}#production#{status}"
    return AlertEvent(
        kind=AlertKind.BUDGET,
        severity=severity,
        team=view.team,
        title=title,
        summary=summary,
        details={"figures": _figures(view, pool), "items": spenders, "pool": pool.pool, "pools": view.as_dict()},
        dedup_key=dedup,
    )


def run_pools(
    settings: Settings,
    ce: CostSource,
    store: StateStore,
    *,
    cached: pd.DataFrame | None,
    cached_keys: list[str],
    last_day: date,
) -> PoolRun:
    """The pool step of one monitor run; nothing is written here (the monitor writes after publishing)."""
    if not pool_budgets(settings):
        return PoolRun()
    before = ce.requests
    frame = month_frame(settings, ce, cached=cached, cached_keys=cached_keys, last_day=last_day)
    views = views_from_frame(settings, frame, last_day)
    stored: Mapping[tuple[str, str], dict[str, Any] | None] = {key: store.get(*key) for key in state_keys(views)}
    alerts = []
    for alert in due_alerts(views, stored):
        spenders = top_spenders(settings, ce, alert.team.team, last_day) if alert.pool == EXPERIMENT else []
        alerts.append((pool_event(alert, spenders), alert))
    return PoolRun(views=views, alerts=alerts, requests=ce.requests - before)


def pool_rows(views: list[TeamPools]) -> tuple[PoolRow, ...]:
    """The digest's pool lines (``DigestInput.pools``)."""
    return tuple(
        PoolRow(
            team=v.team,
            production_usd=v.production.month_to_date_usd,
            production_budget_usd=v.production.budget_usd,
            production_projected_usd=v.production.projected_usd,
            production_status=v.production.status.value if v.production.status else "NO_BUDGET",
            experiment_usd=v.experiment.month_to_date_usd,
            experiment_budget_usd=v.experiment.budget_usd,
            experiment_share=v.experiment.actual_share,
            experiment_status=v.experiment.status.value if v.experiment.status else "NO_BUDGET",
            unassigned_usd=v.unassigned_usd,
        )
        for v in views
    )


__all__ = ["EXPERIMENT", "PRODUCTION", "PoolRun", "pool_budgets", "pool_rows", "run_pools", "views_from_frame"]
