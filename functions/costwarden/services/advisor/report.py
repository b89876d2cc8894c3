"""The monthly report's data: planned Cost Explorer requests, the daily cache reused, the advisor's savings.

Cost Explorer groups by two keys per request, so the plan is one MONTHLY request (pages aside) per report dimension
grouped by team and that dimension, covering last month and this month together (two periods in one answer). The
dimension the cost monitor already caches daily (``anomaly.second_group_key``, ``lifecycle_phase`` by default) is
read from that cache instead: only the days the cache does not hold as final are pulled. With the defaults that is
two requests plus the cache's refresh of its last two days, whatever the number of teams. The daily trend is read
from the same cache (``ledger.daily_totals``); the pools add one request for the month by team and environment, only
when some team has a pool and the cache is not grouped by environment. The other sections (episodes, idle findings,
savings as actions) come from the state table: ``report_sections``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from costwarden.adapters.cost_explorer import CostExplorer, record_type_filter
from costwarden.adapters.state import StateStore
from costwarden.advisor.report import (
    CostLine,
    MonthlyReport,
    build_report,
    month_bounds,
    previous_month,
)
from costwarden.core.keys import SAVINGS_PK, SAVINGS_SK
from costwarden.services.advisor.report_sections import add_sections, has_pools, pool_statuses
from costwarden.services.unitcost import report_section
from costwarden.settings import Settings


class ReportError(ValueError):
    """The report cannot be made for that month (in the future, or before Cost Explorer's history)."""


def lines_from_pages(
    pages: Iterable[Mapping[str, Any]], *, team_key: str, dimension: str, metric: str
) -> list[CostLine]:
    out: list[CostLine] = []
    for page in pages:
        for period in page.get("ResultsByTime", []):
            month = str(period["TimePeriod"]["Start"])[:7]
            for group in period.get("Groups", []):
                keys = [k.split("$", 1)[1] if "$" in k else k for k in group["Keys"]]
                amount = float(group.get("Metrics", {}).get(metric, {}).get("Amount", 0) or 0)
                out.append(CostLine(keys[0], dimension, keys[1] if len(keys) > 1 else "", month, amount))
    return out


def _cached_frame(settings: Settings, ce: CostExplorer, store: StateStore, *, start: date, end: date) -> Any:
    """The cost monitor's daily cache (team x ``anomaly.second_group_key`` per day), pulling only what it lacks."""
    from costwarden.cost.cache import CostCache
    from costwarden.cost.monitor import group_keys

    anomaly = settings.anomaly
    cache = CostCache(store, group_keys(settings), anomaly.cost_metric, anomaly.excluded_record_types, ttl_days=75)
    return cache.load_from(ce, start, end).frame


def _cached_lines(settings: Settings, frame: Any, dimension: str) -> list[CostLine]:
    """Team x ``dimension`` per month from the cached daily frame, through the ledger."""
    from costwarden.cost import ledger
    from costwarden.cost.monitor import group_keys

    if frame.empty:
        return []
    team = group_keys(settings)[0]
    grouped = ledger.month_totals(frame, [team, dimension])  # the digest's month to date on the month's last day
    return [CostLine(str(t), dimension, str(v), str(m), float(c)) for (t, v, m), c in grouped.items()]


def _daily(frame: Any, month: str, days_elapsed: int) -> list[tuple[str, float]]:
    """The account's spend per elapsed day of ``month`` (the ledger's daily totals of the cached frame)."""
    from costwarden.cost import ledger

    start, _ = month_bounds(month)
    return [(str(day), float(usd)) for day, usd in ledger.daily_totals(frame, start, days_elapsed).items()]


def _monthly_lines(settings: Settings, ce: CostExplorer, *, start: date, end: date, dimension: str) -> list[CostLine]:
    """One MONTHLY request (pages aside): team x ``dimension`` for every month of ``[start, end)``."""
    metric = settings.anomaly.cost_metric
    pages = ce.get_cost_and_usage(
        start,
        end,
        metric=metric,
        granularity="MONTHLY",
        group_by=[{"Type": "TAG", "Key": settings.tags.team_key}, {"Type": "TAG", "Key": dimension}],
        filter_=record_type_filter(settings.anomaly.excluded_record_types),
    )
    return lines_from_pages(pages, team_key=settings.tags.team_key, dimension=dimension, metric=metric)


def load_savings(store: StateStore) -> dict[str, tuple[float, list[str]]]:
    """The latest advisor run's savings per team (USD/month and its finding lines), as stored by the advisor."""
    item = store.get(SAVINGS_PK, SAVINGS_SK) or {}
    teams = item.get("teams", {})
    return {str(t): (float(v.get("usd_month", 0)), [str(i) for i in v.get("items", [])]) for t, v in teams.items()}


def month_heading(month: str, today: date) -> tuple[int, int, float]:
    """``(days elapsed, days in the month, projection factor)`` of ``month`` as of ``today``, by the ledger's
    projection: its complete days so far (all of them once the month is over)."""
    from costwarden.cost import ledger

    start, end = month_bounds(month)
    elapsed = max(0, min((today - start).days, (end - start).days))
    heading = ledger.projection(1.0, ledger.last_day_of_month(start), days_elapsed=elapsed)
    return heading.days_elapsed, heading.days_in_month, heading.factor


def run_report(
    settings: Settings, ce: CostExplorer, store: StateStore, *, month: str, today: date, now: datetime
) -> MonthlyReport:
    start_this, end_this = month_bounds(month)
    if start_this > today:
        raise ReportError(f"{month} has not started yet (today is {today.isoformat()})")
    start, _ = month_bounds(previous_month(month))
    end = min(end_this, today)
    before = ce.requests
    dims = settings.advisor.report_dimensions
    cached_dim = settings.anomaly.second_group_key
    frame = None  # read when its dimension comes (the requests' planned order), at the latest for the trend
    lines: list[CostLine] = []
    for dim in dims:
        if dim == cached_dim:
            frame = _cached_frame(settings, ce, store, start=start, end=end)
            lines += _cached_lines(settings, frame, dim)
        else:
            lines += _monthly_lines(settings, ce, start=start, end=end, dimension=dim)
    if frame is None:
        frame = _cached_frame(settings, ce, store, start=start, end=end)
    report = build_report(
        lines,
        month=month,
        today=today,
        dimensions=dims,
        budgets=settings.monthly_budgets(),
        at_risk_ratio=settings.budgets.at_risk_ratio,
        over_budget_ratio=settings.budgets.over_budget_ratio,
        savings=load_savings(store),
        generated_at=now,
        heading=month_heading(month, today),
    )
    report.daily = _daily(frame, month, report.days_elapsed)
    if has_pools(settings):
        env_key = settings.tags.environment_key
        by_env = (
            _cached_lines(settings, frame, env_key)
            if env_key == cached_dim
            else _monthly_lines(settings, ce, start=start, end=end, dimension=env_key)
        )
        report.pools = pool_statuses(settings, by_env, month=month, projection=report.projection)
    add_sections(report, settings, store)
    report.ce_requests = ce.requests - before
    unit_costs = report_section(store, month)  # issue 26: the unit-cost run's record of the month
    if unit_costs:
        report.appendix.append(unit_costs)
    return report
