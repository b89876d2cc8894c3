"""Demo chapter: the cost monitor's day. Sixty-odd days of spend for five teams (weekly rhythm, noise) go into the
simulated Cost Explorer; the real cost monitor handler runs on the scheduled event and finds one warning, one
critical anomaly (with the services behind them) and one budget AT_RISK. The next day's run then shows the
incremental pull (one Cost Explorer request) and that an ongoing anomaly does not alert twice.

moto's Cost Explorer does not compute costs: its answers are injected in the order the requests arrive
(``POST /moto-api/static/ce/cost-and-usage-results``). The chapter builds those answers from its own line items in
exactly the shapes Cost Explorer returns (tag keys ``team$vision``, amounts as strings, ``Estimated`` on the newest
day, ``NextPageToken`` across pages), in the order the monitor asks: the daily pull page by page, then one
SERVICE breakdown per alerted team, largest impact first.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date, timedelta
from typing import Any

import numpy as np

from costwarden.cli.run import LocalContext
from costwarden.demo.env import DemoEnv

RUN_DAY = date(2026, 11, 20)
HISTORY_DAYS = 70
#: team -> (weekday level USD, lifecycle phase, weekend factor)
TEAMS: dict[str, tuple[float, str, float]] = {
    "vision": (1_500.0, "training", 0.55),
    "nlp": (900.0, "training", 0.7),
    "recsys": (2_200.0, "inference", 0.9),
    "speech": (600.0, "research", 0.4),
    "platform": (350.0, "inference", 1.0),
}
SERVICES = (
    ("Amazon Elastic Compute Cloud - Compute", 0.6),
    ("Amazon Simple Storage Service", 0.25),
    ("Amazon SageMaker", 0.15),
)
WINDOW_DAYS = 56  # what the monitor pulls on its first run (costwarden.cost.monitor)
PAGE_DAYS = 28
METRIC = "AmortizedCost"


def line_items(run_day: date = RUN_DAY, seed: int = 42) -> list[tuple[str, str, str, str, float]]:
    """(day, team, phase, service, cost) for every day before ``run_day`` and the day itself (for the second run).

    The day before ``run_day`` carries the stories: vision's SageMaker fleet left running (critical), nlp's extra
    EC2 training job (warning). vision's fleet is still up the next day (same episode: no second alert).
    """
    rng = np.random.default_rng(seed)
    first = run_day - timedelta(days=HISTORY_DAYS)
    rows = []
    for offset in range(HISTORY_DAYS + 1):
        day = first + timedelta(days=offset)
        for team, (level, phase, weekend) in TEAMS.items():
            total = level * (weekend if day.weekday() >= 5 else 1.0) * float(rng.normal(1.0, 0.05))
            for service, share in SERVICES:
                rows.append((day.isoformat(), team, phase, service, total * share))
    yesterday = (run_day - timedelta(days=1)).isoformat()
    rows.append((yesterday, "vision", "training", "Amazon SageMaker", 3_900.0))
    rows.append((yesterday, "nlp", "training", "Amazon Elastic Compute Cloud - Compute", 700.0))
    rows.append((run_day.isoformat(), "vision", "training", "Amazon SageMaker", 3_900.0))
    return rows


def _result(day: str, groups: list[dict[str, Any]], estimated: bool) -> dict[str, Any]:
    end = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return {"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups, "Estimated": estimated}


def tag_pages(
    rows: list[tuple[str, str, str, str, float]], start: date, end: date, estimated: set[str]
) -> list[dict[str, Any]]:
    """GetCostAndUsage DAILY grouped by TAG team and TAG lifecycle_phase over [start, end), paged."""
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days)]
    totals: dict[tuple[str, str, str], float] = {}
    for day, team, phase, _service, cost in rows:
        if start.isoformat() <= day < end.isoformat():
            totals[(day, team, phase)] = totals.get((day, team, phase), 0.0) + cost
    pages = []
    for page_start in range(0, len(days), PAGE_DAYS):
        results = []
        for day in days[page_start : page_start + PAGE_DAYS]:
            groups = [
                {
                    "Keys": [f"team${team}", f"lifecycle_phase${phase}"],
                    "Metrics": {METRIC: {"Amount": f"{cost:.10f}", "Unit": "USD"}},
                }
                for (d, team, phase), cost in sorted(totals.items())
                if d == day
            ]
            results.append(_result(day, groups, day in estimated))
        page: dict[str, Any] = {
            "GroupDefinitions": [{"Type": "TAG", "Key": "team"}, {"Type": "TAG", "Key": "lifecycle_phase"}],
            "ResultsByTime": results,
            "DimensionValueAttributes": [],
        }
        if page_start + PAGE_DAYS < len(days):
            page["NextPageToken"] = f"page-{page_start // PAGE_DAYS + 2}"
        pages.append(page)
    return pages


def service_page(
    rows: list[tuple[str, str, str, str, float]], team: str, day: date, estimated: set[str]
) -> dict[str, Any]:
    """The root-cause request: one team's daily cost by SERVICE for the week before ``day`` and the day."""
    start = day - timedelta(days=7)
    results = []
    for i in range(8):
        current = (start + timedelta(days=i)).isoformat()
        by_service: dict[str, float] = {}
        for d, t, _phase, service, cost in rows:
            if d == current and t == team:
                by_service[service] = by_service.get(service, 0.0) + cost
        groups = [
            {"Keys": [s], "Metrics": {METRIC: {"Amount": f"{c:.10f}", "Unit": "USD"}}}
            for s, c in sorted(by_service.items())
        ]
        results.append(_result(current, groups, current in estimated))
    return {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
    }


def inject(env: DemoEnv, pages: list[dict[str, Any]]) -> None:
    """Queue answers in moto's Cost Explorer, through moto's documented HTTP API on the local server."""
    request = urllib.request.Request(  # noqa: S310 - the local moto server, http://127.0.0.1 only
        f"{env.endpoint_url}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": pages}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
        if response.status != 201:
            raise RuntimeError(f"moto refused the Cost Explorer results: HTTP {response.status}")


def budgets_for(rows: list[tuple[str, str, str, str, float]], run_day: date) -> dict[str, float]:
    """Budgets: recsys's is set so its projected month end is ~95% of it (AT_RISK); the others have room."""
    last = run_day - timedelta(days=1)
    month = f"{last:%Y-%m}"
    spent = sum(
        cost
        for day, team, *_rest, cost in rows
        if team == "recsys" and day.startswith(month) and day <= last.isoformat()
    )
    import calendar

    projected = spent / last.day * calendar.monthrange(last.year, last.month)[1]
    return {"recsys": round(projected / 0.95, -2), "vision": 150_000.0, "nlp": 40_000.0, "speech": 30_000.0}


def _scheduled_event(day: date) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "cost-demo",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": f"{day.isoformat()}T08:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/costwarden-cost-monitor"],
        "detail": {},
    }


def _report(env: DemoEnv, summary: dict[str, Any]) -> None:
    env.say(
        f"  Cost Explorer requests this run: {summary['ce_requests']} (pulled {summary['pulled']}, "
        f"{summary['cached_days']} days from the cache)"
    )
    for finding in summary["findings"]:
        env.say(
            f"  finding {finding['date']} {finding['team']:<9} {finding['severity']:<8} "
            f"{finding['cost_usd']:>9,.0f} USD vs usual {finding['baseline_usd']:>7,.0f} "
            f"(x{finding['ratio']:.2f}, z {finding['zscore']:.1f}, +{finding['impact_usd']:,.0f} USD"
            f"{', estimated' if finding['estimated'] else ''})"
        )
    for budget in summary["budgets"]:
        env.say(
            f"  budget  {budget['team']:<9} {budget['status']:<11} projected {budget['projected_usd']:>9,.0f} "
            f"of {budget['budget_usd']:>9,.0f} USD ({budget['projected_share']:.0%}), "
            f"{budget['days_elapsed']}/{budget['days_in_month']} days"
        )
    for alert in summary["alerts"]:
        env.say(f"  alert   [{alert['severity']}] {alert['title']}")
        for item in alert["items"]:
            env.say(f"            {item}")
    if not summary["alerts"]:
        env.say("  alerts  none (nothing new)")


def chapter(env: DemoEnv) -> None:
    from costwarden.handlers.cost_monitor import handler

    rows = line_items()
    env.use_settings({"budgets": {"monthly_usd": budgets_for(rows, RUN_DAY)}})
    yesterday = RUN_DAY - timedelta(days=1)
    estimated = {yesterday.isoformat()}
    start = RUN_DAY - timedelta(days=WINDOW_DAYS)
    inject(
        env,
        [
            *tag_pages(rows, start, RUN_DAY, estimated),
            service_page(rows, "vision", yesterday, estimated),  # larger impact: explained first
            service_page(rows, "nlp", yesterday, estimated),
        ],
    )
    env.say(
        f"{len(TEAMS)} teams, {HISTORY_DAYS} days of spend in the simulated Cost Explorer "
        f"(weekly rhythm, 5% noise). First run, {RUN_DAY}: backfills the {WINDOW_DAYS}-day window."
    )
    summary = handler(_scheduled_event(RUN_DAY), LocalContext(function_name="cost_monitor"))
    _report(env, summary)

    next_day = RUN_DAY + timedelta(days=1)
    env.say("")
    env.say(
        f"Next day, {next_day}: only the estimated and the last two days are pulled again; vision's fleet is "
        "still running (same episode, no second alert)."
    )
    inject(env, tag_pages(rows, yesterday - timedelta(days=1), next_day, {RUN_DAY.isoformat()}))
    summary = handler(_scheduled_event(next_day), LocalContext(function_name="cost_monitor"))
    _report(env, summary)
