"""The cost monitor's hand-off to the daily digest: this run's numbers plus what the reaper left in the state table.

The cost monitor is the one part holding every team's numbers, so the digest is composed at the end of its run;
composing and delivery live in ``costwarden.digest``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from costwarden.cost import budget as budget_mod
from costwarden.cost import ledger
from costwarden.cost.alerts import Publish
from costwarden.cost.detect import DetectParams
from costwarden.cost.digest_input import build_digest_input
from costwarden.cost.forecast import TeamForecast
from costwarden.digest.service import send_digests
from costwarden.digest.sources import (
    load_bedrock_day,
    load_idle_summary,
    load_reaper_facts,
    load_savings_on_table,
    load_unit_cost_moves,
)
from costwarden.models.digest import PoolRow
from costwarden.models.k8s_digest import K8sSection
from costwarden.models.ports import StateStore
from costwarden.settings import Settings


def reaper_expiry(raw: str) -> datetime | None:
    """The reaper's reading of an ``expires_at`` value (None when malformed), for the digest's reaper section."""
    from costwarden.models.expiry import MalformedExpiry, parse_expires_at

    try:
        return parse_expires_at(raw).expired_from
    except MalformedExpiry:
        return None


def send_digest(
    settings: Settings,
    store: StateStore,
    publish: Publish,
    *,
    daily: pd.DataFrame,
    views: list[budget_mod.BudgetView],
    forecasts: dict[str, TeamForecast],
    episode_state: dict[str, dict[str, Any]],
    items: dict[tuple[str, str], list[str]],
    estimated: set[str],
    last_day: date,
    now: datetime,
    pools: tuple[PoolRow, ...] = (),
    kubernetes: K8sSection | None = None,
) -> dict[str, Any]:
    """Compose and publish the day's digest(s) from this run's numbers and the reaper's audit of the last 24 h."""
    reaper, expiring = load_reaper_facts(store, now=now, expired_from=reaper_expiry)
    notes = (
        [f"{ledger.baseline_rule(settings.anomaly.baseline_days).capitalize()}; {ledger.PROJECTION_RULE}."]
        if not daily.empty
        else ["No cost data yet: Cost Explorer returned nothing for this account."]
    )
    inp = build_digest_input(
        last_day=last_day,
        now=now,
        daily=daily,
        baseline_days=settings.anomaly.baseline_days,
        params=DetectParams.from_settings(settings.anomaly),
        views=views,
        forecasts=forecasts,
        episode_state=episode_state,
        root_causes={series: lines for (series, _day), lines in items.items()},
        estimated_dates=sorted(d for d in estimated if d <= last_day.isoformat()),
        reaper=reaper if reaper.decisions else None,
        expiring=expiring,
        notes=notes,
        savings=load_savings_on_table(store),
        idle=load_idle_summary(store, now=now),
    ).model_copy(
        update={
            "pools": pools,
            "kubernetes": kubernetes,
            "bedrock": load_bedrock_day(store, now=now),
            "unit_costs": load_unit_cost_moves(store, now=now),
        }
    )  # issue 15: both pools per team; issue 24: EKS; issue 26: Bedrock against the bill, unit-cost moves
    return send_digests(inp, settings.notifier, publish).summary()
