"""Demo chapter: the cost monitor's mornings. Seventy-odd days of spend for five teams (weekly rhythm, noise, a
steady slice nobody tagged) go into the simulated Cost Explorer; the real cost monitor handler runs on the
scheduled event and finds one warning, one critical anomaly (with the services behind them) and one budget AT_RISK.
The next day's run then shows the incremental pull (one Cost Explorer request) and that an ongoing anomaly does not
alert twice. ``costwarden.demo.digest`` runs it a third time, the morning the demo ends with.

moto's Cost Explorer does not compute costs: its answers are injected in the order the requests arrive
(``POST /moto-api/static/ce/cost-and-usage-results``; each distinct request takes the next queued answer). The
chapter builds those answers from its own line items in exactly the shapes Cost Explorer returns (tag keys
``team$vision``, amounts as strings, ``Estimated`` on the newest day, ``NextPageToken`` across pages), in the order
the monitor asks: the daily pull page by page, then one SERVICE breakdown per alerted team, largest impact first.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date, timedelta
from typing import Any

from costwarden.demo import bill
from costwarden.demo.bill import HISTORY_DAYS, TEAMS
from costwarden.demo.env import DemoEnv
from costwarden.demo.timeline import NEXT_DAY, RUN_DAY, cost_run_at
from costwarden.handlers.context import LocalContext
from costwarden.models.alert import AlertKind

WINDOW_DAYS = 56  # what the monitor pulls on its first run (costwarden.cost.monitor)
#: A steady run rate's daily pull: the cache's two refresh days plus the day before them (still in yesterday's
#: refresh window, so never stored as final): ``[today - 3, today)``, one request.
INCREMENTAL_DAYS = 3
PAGE_DAYS = 28
METRIC = "AmortizedCost"


def line_items(run_day: date = RUN_DAY, seed: int = 42) -> list[tuple[str, str, str, str, float]]:
    """(day, team, phase, service, cost) of the demo's one bill (``demo.bill``) for every day before ``run_day``,
    the day itself and the one after (for the later runs). Team ``""`` is spend without a team tag (Cost
    Explorer's ``team$`` key).

    The day before ``run_day`` carries the stories: vision's SageMaker fleet left running (critical), nlp's extra
    EC2 training job (warning). vision's fleet is still up the next two days (same episode: no second alert).
    """
    items = bill.bill(seed)
    first, last = run_day - timedelta(days=HISTORY_DAYS), run_day + timedelta(days=1)
    items = items.loc[(items["date"] >= first.isoformat()) & (items["date"] <= last.isoformat())]
    grouped = items.groupby(["date", "team", "lifecycle_phase", "service"], sort=True)["cost"].sum()
    return [(str(d), str(t), str(p), str(s), float(c)) for (d, t, p, s), c in grouped.items()]


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


def incremental_pages(rows: list[tuple[str, str, str, str, float]], today: date) -> list[dict[str, Any]]:
    """What a steady-state daily run on ``today`` asks for (``INCREMENTAL_DAYS``, the newest day estimated), when no
    new anomaly episode needs a root-cause request."""
    yesterday = today - timedelta(days=1)
    return tag_pages(rows, today - timedelta(days=INCREMENTAL_DAYS), today, {yesterday.isoformat()})


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


def scheduled_event(day: date) -> dict[str, Any]:
    """The EventBridge scheduled event that starts the cost monitor on ``day``."""
    return {
        "version": "0",
        "id": "cost-demo",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": cost_run_at(day).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/costwarden-cost-monitor"],
        "detail": {},
    }


def report(env: DemoEnv, summary: dict[str, Any]) -> None:
    """What one cost monitor run found, in a few lines (the alerts themselves are shown as Slack received them)."""
    pulled = ", ".join(f"{start} .. {date.fromisoformat(end) - timedelta(days=1)}" for start, end in summary["pulled"])
    env.say(
        f"  Cost Explorer: {summary['ce_requests']} request(s), pulled {pulled or 'nothing'}, "
        f"{summary['cached_days']} days from the cache"
    )
    for finding in summary["findings"]:
        estimated = ", estimated" if finding["estimated"] else ""
        env.say(
            f"  unusual {finding['date']} {finding['team']:<9} {finding['severity']:<8} "
            f"{finding['cost_usd']:>9,.0f} USD vs usual {finding['baseline_usd']:>7,.0f} "
            f"(x{finding['ratio']:.2f}, +{finding['impact_usd']:,.0f} USD{estimated})"
        )
    for budget in summary["budgets"]:
        env.say(
            f"  budget  {budget['team']:<9} {budget['status']:<11} projected {budget['projected_usd']:>9,.0f} "
            f"of {budget['budget_usd']:>9,.0f} USD ({budget['projected_share']:.0%}), "
            f"{budget['days_elapsed']}/{budget['days_in_month']} days"
        )
    titles = "; ".join(f"[{alert['severity']}] {alert['title']}" for alert in summary["alerts"])
    env.say(f"  alerts  {titles}" if titles else "  alerts  none (nothing new)")


#: The pools story (issue 15): speech's experiment pool and its month so far, 1-12 November (``bill.SPEECH_NOVEMBER``).
POOL_DAY = bill.SPEECH_POOL_DAY
SPEECH_POOLS = {"production": 25_000.0, "experiment": 5_000.0}


def pool_pages(last_day: date) -> list[dict[str, Any]]:
    """The pool step's two answers from the demo's bill, in the order it asks: speech's month by team and
    environment (one DAILY page), then its experiment spend by ``experiment_id`` (one MONTHLY result)."""
    first = last_day.replace(day=1)
    items = bill.bill()
    items = items.loc[(items["team"] == "speech") & items["date"].between(first.isoformat(), last_day.isoformat())]
    by_env = items.groupby(["date", "environment"])["cost"].sum()
    results = []
    for i in range(last_day.day):
        day = (first + timedelta(days=i)).isoformat()
        groups = [
            {"Keys": ["team$speech", f"environment${e}"], "Metrics": {METRIC: {"Amount": f"{c:.10f}", "Unit": "USD"}}}
            for (d, e), c in by_env.items()
            if d == day
        ]
        results.append(_result(day, groups, False))
    daily = {
        "GroupDefinitions": [{"Type": "TAG", "Key": "team"}, {"Type": "TAG", "Key": "environment"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
    }
    experiments = items.loc[items["environment"].isin(["experiment", "development"])]
    jobs = experiments.groupby("experiment_id")["cost"].sum()
    monthly = {
        "GroupDefinitions": [{"Type": "TAG", "Key": "experiment_id"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": first.isoformat(), "End": (last_day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    {"Keys": [f"experiment_id${j}"], "Metrics": {METRIC: {"Amount": f"{c:.10f}", "Unit": "USD"}}}
                    for j, c in jobs.items()
                ],
                "Estimated": False,
            }
        ],
        "DimensionValueAttributes": [],
    }
    return [daily, monthly]


def pools_section(env: DemoEnv) -> None:
    """speech on 13 November: the pool step of that morning's run (its own settings and state, so the daily runs
    above and the digest chapter keep their Cost Explorer answers), and the alert it owes."""
    from costwarden.adapters.cost_explorer import CostExplorer
    from costwarden.adapters.state import MemoryStateStore
    from costwarden.cost.pool_monitor import run_pools
    from costwarden.settings import Settings

    settings = Settings.model_validate({"teams": {"speech": {"pools": SPEECH_POOLS}}})
    inject(env, pool_pages(POOL_DAY))
    ce = CostExplorer()
    result = run_pools(settings, ce, MemoryStateStore(), cached=None, cached_keys=[], last_day=POOL_DAY)
    [view] = result.views
    env.say("")
    env.say(
        f"Pools, a look back at {POOL_DAY + timedelta(days=1)}: speech runs on two budgets, production "
        f"({SPEECH_POOLS['production']:,.0f} USD a month, judged on its projected month end) and experiment "
        f"({SPEECH_POOLS['experiment']:,.0f} USD, free to spend, alerted on actual spend at 80 % and 100 %)."
    )
    for pool in (view.production, view.experiment):
        share = pool.actual_share if pool is view.experiment else pool.projected_share
        basis = "spent" if pool is view.experiment else "projected"
        env.say(
            f"  pool    speech    {pool.pool:<11} {pool.month_to_date_usd:>9,.0f} USD by the {POOL_DAY.day}th, "
            f"{share or 0:.0%} {basis}, {pool.status.value if pool.status else 'NO_BUDGET'}"
        )
    env.say(
        f"  pool    speech    no pool     {view.unassigned_usd:>9,.0f} USD without an environment tag (shown apart)"
    )
    for event, _ in result.alerts:
        env.say(f"  alerts  [{event.severity.value}] {event.title}")
        for item in event.details.get("items", []):
            env.say(f"          {item}")
    env.say(f"  ({ce.requests} Cost Explorer requests: the month by team and environment, then the biggest jobs)")


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
        f"Simulated: {len(TEAMS)} ML teams' last {HISTORY_DAYS} days of AWS spend in Cost Explorer (weekly rhythm, "
        "5% noise, a slice nobody tagged). On the last day, vision's SageMaker fleet was left running and nlp "
        "launched an extra EC2 training job; recsys spends a bit too fast for its budget."
    )
    env.say(
        "In your account the cost monitor runs every day at 08:00 UTC: it pulls cost by team from Cost Explorer, "
        "compares yesterday with each team's usual spend, explains spikes by service and projects budgets to month "
        "end. Its alerts go to the team's channel (critical ones also to on-call); the Slack messages are at the end."
    )
    env.say("Each run also posts the daily digest to the default channel; the last chapter shows one in full.")
    env.brief_kinds.add(AlertKind.DIGEST.value)
    env.say("")
    env.say(f"{RUN_DAY}, first run: backfills the {WINDOW_DAYS}-day window and judges {yesterday}.")
    summary = handler(scheduled_event(RUN_DAY), LocalContext(function_name="cost_monitor"))
    report(env, summary)

    env.say("")
    env.say(
        f"Next day, {NEXT_DAY}: only the last {INCREMENTAL_DAYS} days are pulled again (the rest is cached); "
        "vision's fleet is still running, but that is the same episode: no second alert."
    )
    inject(env, incremental_pages(rows, NEXT_DAY))
    summary = handler(scheduled_event(NEXT_DAY), LocalContext(function_name="cost_monitor"))
    report(env, summary)
    pools_section(env)
