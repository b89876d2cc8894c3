"""The daily digest's facts, from what the cost monitor's run already has (no extra Cost Explorer request).

The cost monitor is the one function that holds every team's daily cost, budgets and forecasts, so it composes the
digest at the end of its daily run; the reaper's last 24 hours and what expires in the next 72 come from the
reaper's audit items in the state table (``costwarden.digest.sources``). The untagged share is computed from the
same daily frame (the ``(untagged)`` bucket), which is fresher than the weekly tag audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from costwarden.core.episodes import DEFAULT_GAP_DAYS
from costwarden.core.keys import UNIT_COST_SERIES_PREFIX
from costwarden.cost import ledger
from costwarden.cost.budget import BudgetView
from costwarden.cost.detect import DetectParams
from costwarden.cost.forecast import TeamForecast
from costwarden.cost.frame import COST, DATE, UNTAGGED
from costwarden.models.digest import (
    DigestInput,
    ExpiringResource,
    IdleSummary,
    OpenAnomaly,
    ReaperActivity,
    SavingsOnTable,
    TeamRow,
    UntaggedShare,
)

UNTAGGED_WINDOW_DAYS = 7


def _per_team_days(daily: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Teams x days (``start`` .. ``end`` inclusive) of cost, a missing day counted as zero spend."""
    days = pd.date_range(start, end, freq="D")
    window = daily.loc[(daily[DATE] >= days[0]) & (daily[DATE] <= days[-1])]
    table = window.pivot_table(index="team", columns=DATE, values=COST, aggfunc="sum", fill_value=0.0)
    return table.reindex(columns=days, fill_value=0.0)


def team_rows(
    daily: pd.DataFrame,
    *,
    last_day: date,
    baseline_days: int,
    views: Sequence[BudgetView],
    forecasts: Mapping[str, TeamForecast],
    params: DetectParams | None = None,
) -> list[TeamRow]:
    """One row per team: month to date, budget status, projected month end with its band, yesterday vs baseline.

    Every number is the ledger's (``cost.ledger``): month to date, the detector's baseline (``params``, default
    ``DetectParams(baseline_days=baseline_days)``: the monitor's "usual" for the same day) and the run-rate
    projection the budgets are judged on; the forecast only widens the band around it.
    """
    if daily.empty:
        return []
    params = params or DetectParams(baseline_days=baseline_days)
    month_start = last_day.replace(day=1)
    start = min(month_start, last_day - timedelta(days=params.baseline_days))
    table = _per_team_days(daily, start, last_day)
    month_to_date = ledger.month_to_date(daily, last_day)
    yesterday = table.iloc[:, -1]
    baseline = ledger.baselines(daily, last_day, params)
    by_view = {view.team: view for view in views}
    rows: list[TeamRow] = []
    for team in table.index:
        mtd = float(month_to_date.get(team, 0.0))
        view = by_view.get(str(team))
        months = forecasts[str(team)].months if str(team) in forecasts else ()
        band = [m for m in months if m.month == f"{last_day:%Y-%m}"]
        # A budgeted team's view was projected by the same ledger rule, from the same month to date.
        projected = float(view.projected_usd) if view is not None else ledger.projection(mtd, last_day).projected_usd
        low = float(band[0].low_usd) if band else projected
        high = float(band[0].high_usd) if band else projected
        base = float(baseline.get(team, float("nan")))
        base = base if np.isfinite(base) else 0.0
        spent = float(yesterday[team])
        rows.append(
            TeamRow(
                team=str(team),
                month_to_date_usd=round(mtd, 2),
                budget_usd=float(view.budget_usd) if view is not None else None,
                budget_status=view.status.value if view is not None else "NO_BUDGET",
                projected_month_end_usd=round(projected, 2),
                forecast_low_usd=round(min(low, projected), 2),
                forecast_high_usd=round(max(high, projected), 2),
                yesterday_usd=round(spent, 2),
                baseline_usd=round(base, 2),
                change_ratio=round(spent / base, 3) if base > 0 else None,
            )
        )
    return rows


def open_anomalies(
    episode_state: Mapping[str, Mapping[str, Any]],
    *,
    last_day: date,
    root_causes: Mapping[str, Sequence[str]] | None = None,
) -> list[OpenAnomaly]:
    """Episodes still open on ``last_day`` (breached within the episode gap) and not retracted."""
    causes = root_causes or {}
    found: list[OpenAnomaly] = []
    for series, item in episode_state.items():
        if item.get("retracted") or str(item.get("severity")) not in {"warning", "critical"}:
            continue
        last = date.fromisoformat(str(item["last"]))
        if (last_day - last).days > DEFAULT_GAP_DAYS:
            continue
        team, _, second = series.partition("|")
        if second.startswith(UNIT_COST_SERIES_PREFIX):  # a unit cost's episode (issue 26): its own digest lines
            continue
        cost = float(item.get("cost_usd", 0.0))
        base = float(item.get("baseline_usd", 0.0))
        lines = causes.get(series) or ((str(item["top_driver"]),) if item.get("top_driver") else ())
        found.append(
            OpenAnomaly(
                team=f"{team} ({second})" if second else team,
                date=date.fromisoformat(str(item["alert_date"])),
                severity=str(item["severity"]),
                ratio=round(float(item.get("ratio", 0.0)), 2),
                impact_usd=round(cost - base, 2),
                top_service=lines[0] if lines else None,
                estimated=bool(item.get("alert_estimated", False)),
                acknowledged_by=str(item["acknowledged_by"]) if item.get("acknowledged_by") else None,
            )
        )
    return sorted(found, key=lambda a: (a.severity != "critical", -a.impact_usd))


def untagged_share(
    daily: pd.DataFrame, *, last_day: date, window_days: int = UNTAGGED_WINDOW_DAYS
) -> UntaggedShare | None:
    """Share of spend in the ``(untagged)`` bucket over the last window, against the window before."""
    if daily.empty:
        return None
    start = last_day - timedelta(days=2 * window_days - 1)
    table = _per_team_days(daily, start, last_day).clip(lower=0.0)
    current, previous = table.iloc[:, -window_days:], table.iloc[:, :window_days]

    def share(part: pd.DataFrame) -> tuple[float, float] | None:
        total = float(part.to_numpy().sum())
        if total <= 0:
            return None
        untagged = float(part.loc[UNTAGGED].sum()) if UNTAGGED in part.index else 0.0
        return 100.0 * untagged / total, untagged

    now, before = share(current), share(previous)
    if now is None:
        return None
    return UntaggedShare(
        window_days=window_days,
        share_pct=round(now[0], 2),
        previous_share_pct=round(before[0], 2) if before is not None else None,
        untagged_usd=round(now[1], 2),
        measured_on=last_day,
    )


def build_digest_input(
    *,
    last_day: date,
    now: datetime,
    daily: pd.DataFrame,
    baseline_days: int,
    views: Sequence[BudgetView],
    forecasts: Mapping[str, TeamForecast],
    episode_state: Mapping[str, Mapping[str, Any]],
    root_causes: Mapping[str, Sequence[str]] | None = None,
    estimated_dates: Iterable[str] = (),
    reaper: ReaperActivity | None = None,
    expiring: Sequence[ExpiringResource] = (),
    notes: Sequence[str] = (),
    savings: SavingsOnTable | None = None,
    idle: IdleSummary | None = None,
    params: DetectParams | None = None,
) -> DigestInput:
    """Everything the digest shows, as of ``last_day`` (the newest complete day the run judged); ``params`` are
    the detector's (the baselines are the monitor's)."""
    return DigestInput(
        date=last_day,
        generated_at=now,
        teams=tuple(
            team_rows(
                daily, last_day=last_day, baseline_days=baseline_days, views=views, forecasts=forecasts, params=params
            )
        ),
        anomalies=tuple(open_anomalies(episode_state, last_day=last_day, root_causes=root_causes)),
        untagged=untagged_share(daily, last_day=last_day),
        reaper=reaper,
        expiring=tuple(expiring),
        idle=idle,
        estimated_dates=tuple(sorted(date.fromisoformat(d) for d in estimated_dates)),
        notes=tuple(notes),
        savings=savings,
    )
