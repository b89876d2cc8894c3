"""The cost monitor's daily run: pull (incrementally), detect, dedupe into episodes, find root causes, check
budgets, forecast, publish, and report. Adapters come in as parameters; nothing here creates a boto3 client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from costwarden.cost import budget as budget_mod
from costwarden.cost import episodes
from costwarden.cost.cache import CostCache
from costwarden.cost.detect import DetectParams, detect
from costwarden.cost.digest_input import build_digest_input
from costwarden.cost.forecast import HISTORY_DAYS, TeamForecast, forecast
from costwarden.cost.frame import COST, DATE, ESTIMATED, UNTAGGED
from costwarden.cost.pool_monitor import pool_rows, run_pools
from costwarden.cost.rootcause import ROOT_CAUSE_LOOKBACK_DAYS, drivers
from costwarden.digest.model import PoolRow
from costwarden.digest.service import send_digests
from costwarden.digest.sources import load_reaper_facts
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.ports import CostSource, StateStore
from costwarden.settings import Settings

#: Days before the newest one that may be judged in a run (re-pulled days older than this are only history).
JUDGE_LOOKBACK_DAYS = 7
FORECAST_PK = "dedup#cost-forecast"
DEDUP_TTL_DAYS = 120

Publish = Callable[[AlertEvent], str]
Emit = Callable[[str, float, str, dict[str, str]], None]


class PublishFailedError(RuntimeError):
    """Some alerts could not be published (the others were); the message says which."""


@dataclass
class RunResult:
    summary: dict[str, Any]
    events: list[AlertEvent] = field(default_factory=list)


def usd(amount: float) -> str:
    return f"{amount:,.0f} USD"


def _keys(settings: Settings) -> list[str]:
    team_key = settings.tags.team_key
    second = settings.anomaly.second_group_key
    return [team_key, second] if second and second != team_key else [team_key]


def _team_frame(pair: pd.DataFrame, team_key: str) -> pd.DataFrame:
    if pair.empty:
        return pd.DataFrame({DATE: pd.Series([], dtype="datetime64[ns]"), "team": [], COST: [], ESTIMATED: []})
    grouped = pair.groupby([DATE, team_key], as_index=False, sort=False).agg({COST: "sum", ESTIMATED: "any"})
    return grouped.rename(columns={team_key: "team"})


def _anomaly_event(action: episodes.Action, items: list[str], second_key: str | None) -> AlertEvent:
    f = action.finding
    team, _, second = action.series.partition("|")
    where = f"{team} ({second_key}={second})" if second else team
    if action.kind == "retract":
        was = action.previous
        return AlertEvent(
            kind=AlertKind.COST_ANOMALY,
            severity=Severity.INFO,
            team=team,
            title=f"{where}: cost alert for {f['date']} withdrawn",
            summary=(
                f"The {was.get('severity', '')} alert for {f['date']} was raised on estimated data "
                f"({usd(float(was.get('cost_usd', 0)))}); now that the day is final it is no longer unusual"
                + (f" ({usd(float(f['cost_usd']))})." if "cost_usd" in f else ".")
            ),
            details={
                "figures": {"Day": str(f["date"]), "Alerted cost": usd(float(was.get("cost_usd", 0)))}
                | ({"Final cost": usd(float(f["cost_usd"]))} if "cost_usd" in f else {}),
                "retracts": f"cost#{action.series}#{was.get('start', f['date'])}",
            },
            dedup_key=f"cost#{action.series}#{f['date']}#retract",
        )
    escalated = action.kind == "escalate"
    severity = Severity(str(f["severity"]))
    ratio, extra = float(f["ratio"]), float(f["impact_usd"])
    estimated = bool(f.get("estimated", False))
    title = f"{where}: {ratio:.1f}x usual spend on {f['date']}" + (" (escalated)" if escalated else "")
    summary = (
        f"{usd(float(f['cost_usd']))} on {f['date']} against a usual {usd(float(f['baseline_usd']))}: "
        f"+{usd(extra)}" + (" (Cost Explorer still estimates this day)." if estimated else ".")
    )
    return AlertEvent(
        kind=AlertKind.COST_ANOMALY,
        severity=severity,
        team=team,
        title=title,
        summary=summary,
        details={
            "figures": {
                "Cost": usd(float(f["cost_usd"])),
                "Usual": usd(float(f["baseline_usd"])),
                "Extra": f"+{usd(extra)}",
                "Ratio": f"{ratio:.2f}x",
                "z-score": f"{float(f['zscore']):.1f}",
                "Data": "estimated" if estimated else "final",
            },
            "items": items,
            "finding": {k: (v.item() if hasattr(v, "item") else v) for k, v in f.items()},
            "episode": "escalated" if escalated else "new",
        },
        dedup_key=f"cost#{action.series}#{f['date']}#{severity.value}",
    )


def _budget_event(view: budget_mod.BudgetView, team_forecast: TeamForecast | None) -> AlertEvent:
    severity = Severity.CRITICAL if view.status is budget_mod.BudgetStatus.OVER_BUDGET else Severity.WARNING
    items = []
    if team_forecast:
        items = [
            f"{m.month}: {usd(m.expected_usd)} ({usd(m.low_usd)} - {usd(m.high_usd)})" for m in team_forecast.months
        ]
    return AlertEvent(
        kind=AlertKind.BUDGET,
        severity=severity,
        team=view.team,
        title=f"{view.team}: {view.status.value.replace('_', ' ')} for {view.month}",
        summary=(
            f"Projected {usd(view.projected_usd)} against a {usd(view.budget_usd)} budget "
            f"({view.projected_share:.0%}); {usd(view.month_to_date_usd)} spent in {view.days_elapsed} of "
            f"{view.days_in_month} days at {usd(view.run_rate_usd)} a day."
        ),
        details={
            "figures": {
                "Budget": usd(view.budget_usd),
                "Month to date": usd(view.month_to_date_usd),
                "Run rate": f"{usd(view.run_rate_usd)}/day",
                "Projected": f"{usd(view.projected_usd)} ({view.projected_share:.0%})",
                "Status": view.status.value,
            },
            "items": items,
            "budget": view.as_dict(),
        },
        dedup_key=f"budget#{view.team}#{view.month}#{view.status.value}",
    )


def _forecast_event(team: str, budget: float, team_forecast: TeamForecast) -> AlertEvent:
    nxt = team_forecast.months[1]
    return AlertEvent(
        kind=AlertKind.FORECAST,
        severity=Severity.INFO,
        team=team,
        title=f"{team}: {nxt.month} forecast {usd(nxt.expected_usd)} exceeds the {usd(budget)} budget",
        summary=(
            f"At the current trend ({team_forecast.slope_usd_per_day:+,.1f} USD/day per day) {nxt.month} lands "
            f"between {usd(nxt.low_usd)} and {usd(nxt.high_usd)}."
        ),
        details={
            "figures": {
                "Budget": usd(budget),
                "Expected": usd(nxt.expected_usd),
                "Range": f"{usd(nxt.low_usd)} - {usd(nxt.high_usd)}",
            },
            "items": [
                f"{m.month}: {usd(m.expected_usd)} ({usd(m.low_usd)} - {usd(m.high_usd)})" for m in team_forecast.months
            ],
            "forecast": team_forecast.as_dict(),
        },
        dedup_key=f"forecast#{team}#{nxt.month}",
    )


@dataclass(frozen=True)
class Remember:
    """A state write that happens only once its alert was published (so a failed publish is retried next run)."""

    pk: str
    sk: str
    data: dict[str, Any]

    def apply(self, store: StateStore) -> None:
        store.put(self.pk, self.sk, self.data, ttl_days=DEDUP_TTL_DAYS)


@dataclass
class Detection:
    daily: pd.DataFrame
    pair: pd.DataFrame
    team_findings: pd.DataFrame
    pair_findings: pd.DataFrame
    judged_days: dict[str, bool]


def _pulled_days(pulled: list[tuple[str, str]]) -> list[str]:
    return sorted(
        (date.fromisoformat(s) + timedelta(days=i)).isoformat()
        for s, e in pulled
        for i in range((date.fromisoformat(e) - date.fromisoformat(s)).days)
    )


def _detect(
    pair: pd.DataFrame,
    *,
    keys: list[str],
    params: DetectParams,
    report_pulled: list[tuple[str, str]],
    estimated: set[str],
    last_day: date,
) -> Detection:
    daily = _team_frame(pair, keys[0])
    earliest = (last_day - timedelta(days=JUDGE_LOOKBACK_DAYS - 1)).isoformat()
    judged = [d for d in _pulled_days(report_pulled) if d >= earliest]
    judged_days = {d: d in estimated for d in judged}
    if judged:
        team_findings = detect(daily, ["team"], params, judge_from=judged[0])
        pair_findings = detect(pair, keys, params, judge_from=judged[0]) if len(keys) > 1 else team_findings.iloc[0:0]
    else:
        team_findings = detect(daily.iloc[0:0], ["team"], params)
        pair_findings = team_findings.iloc[0:0]
    return Detection(daily, pair, team_findings, pair_findings, judged_days)


def _episodes(
    found: Detection, keys: list[str], old_state: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[episodes.Action], list[episodes.Action]]:
    """Team-level episodes, then team x second key where the team total did not already breach that day."""
    final_values = {
        (episodes.series_id(str(r.team)), r.date.strftime("%Y-%m-%d")): {"cost_usd": round(float(r.cost_usd), 2)}
        for r in found.daily.itertuples()
        if r.date.strftime("%Y-%m-%d") in found.judged_days
    }
    state, team_actions = episodes.advance(
        old_state, found.team_findings, found.judged_days, ["team"], final_values=final_values
    )
    pair_actions: list[episodes.Action] = []
    if len(keys) > 1 and not found.pair_findings.empty:
        team_days = set(zip(found.team_findings["team"], found.team_findings["date"], strict=True))
        pairs = found.pair_findings
        extra = pairs.loc[[(t, d) not in team_days for t, d in zip(pairs[keys[0]], pairs["date"], strict=True)]]
        state, pair_actions = episodes.advance(state, extra, found.judged_days, keys)
    return state, team_actions, pair_actions


def _root_causes(
    settings: Settings, ce: CostSource, keys: list[str], actions: list[episodes.Action], found: Detection
) -> dict[tuple[str, str], list[str]]:
    """Driver lines per (series, day): services for the largest alerts (capped), then second-key breakdowns."""
    anomaly = settings.anomaly
    items: dict[tuple[str, str], list[str]] = {}
    to_explain = sorted(
        (a for a in actions if a.kind != "retract"), key=lambda a: float(a.finding["impact_usd"]), reverse=True
    )[: anomaly.root_cause_max_teams]
    for action in to_explain:
        team = action.series.split("|", 1)[0]
        day = date.fromisoformat(str(action.finding["date"]))
        pages = ce.daily_by_service(
            day - timedelta(days=ROOT_CAUSE_LOOKBACK_DAYS),
            day + timedelta(days=1),
            team_key=keys[0],
            team=None if team == UNTAGGED else team,
            metric=anomaly.cost_metric,
            excluded_record_types=anomaly.excluded_record_types,
        )
        lines = [d.line() for d in drivers(pages, day.isoformat(), anomaly.cost_metric)]
        items[(action.series, day.isoformat())] = lines
    if len(keys) > 1:
        second_key, pairs = keys[1], found.pair_findings
        for action in actions:
            if action.kind == "retract" or action.series.split("|", 1)[1]:
                continue
            team, day_text = action.series.split("|", 1)[0], str(action.finding["date"])
            phases = pairs.loc[(pairs[keys[0]] == team) & (pairs["date"] == day_text)]
            items.setdefault((action.series, day_text), []).extend(
                f"+{usd(float(p.impact_usd))} in {second_key}={getattr(p, second_key)}" for p in phases.itertuples()
            )
    return items


def _budget_events(
    settings: Settings, store: StateStore, daily: pd.DataFrame, last_day: date
) -> tuple[list[budget_mod.BudgetView], dict[str, TeamForecast], list[tuple[AlertEvent, Remember]]]:
    forecasts = {f.team: f for f in forecast(daily, last_day)} if not daily.empty else {}
    budgets = settings.budgets
    monthly = settings.monthly_budgets()  # the team directory's budgets (Settings.teams)
    views = budget_mod.budget_views(
        daily,
        monthly,
        last_day,
        at_risk_ratio=budgets.at_risk_ratio,
        over_budget_ratio=budgets.over_budget_ratio,
    )
    events: list[tuple[AlertEvent, Remember]] = []
    for view in views:
        pk, sk = budget_mod.state_key(view)
        if budget_mod.worsened(view, store.get(pk, sk)):
            events.append((_budget_event(view, forecasts.get(view.team)), Remember(pk, sk, view.as_dict())))
    for team, amount in sorted(monthly.items()):
        team_forecast = forecasts.get(team)
        if not team_forecast or len(team_forecast.months) < 2:
            continue
        month = team_forecast.months[1].month
        over = team_forecast.months[1].expected_usd > amount * budgets.over_budget_ratio
        if over and store.get(FORECAST_PK, f"{team}#{month}") is None:
            events.append(
                (_forecast_event(team, amount, team_forecast), Remember(FORECAST_PK, f"{team}#{month}", {"sent": True}))
            )
    return views, forecasts, events


def _publish_all(
    events: list[tuple[AlertEvent, Remember]], publish: Publish, store: StateStore
) -> tuple[list[AlertEvent], list[str]]:
    """Publish every event; remember only what went out; collect failures instead of stopping at the first."""
    published: list[AlertEvent] = []
    failures: list[str] = []
    for event, remember in events:
        try:
            publish(event)
        except Exception as error:  # publish the rest, then the caller fails loudly with the list
            failures.append(f"{event.kind.value} {event.team}: {type(error).__name__}: {error}")
            continue
        remember.apply(store)
        published.append(event)
    return published, failures


def _emit_metrics(
    emit: Emit, found: Detection, *, last_day: date, published: int, requests: int, views: list[budget_mod.BudgetView]
) -> None:
    newest = found.daily.loc[found.daily[DATE] == pd.Timestamp(last_day)]
    for row in newest.itertuples():
        emit("DailyCostUSD", float(row.cost_usd), "None", {"team": str(row.team)})
    findings = found.team_findings
    emit(
        "Anomalies", float((findings["date"] == last_day.isoformat()).sum()) if not findings.empty else 0.0, "Count", {}
    )
    emit("AlertsPublished", float(published), "Count", {})
    emit("CostExplorerRequests", float(requests), "Count", {})
    for view in views:
        emit("BudgetUsedPercent", round(100 * view.projected_share, 1), "Percent", {"team": view.team})


def reaper_expiry(raw: str) -> datetime | None:
    """The reaper's reading of an ``expires_at`` value (None when malformed), for the digest's reaper section."""
    from costwarden.models.expiry import MalformedExpiry, parse_expires_at

    try:
        return parse_expires_at(raw).expired_from
    except MalformedExpiry:
        return None


def _send_digest(
    settings: Settings,
    store: StateStore,
    publish: Publish,
    *,
    found: Detection,
    views: list[budget_mod.BudgetView],
    forecasts: dict[str, TeamForecast],
    episode_state: dict[str, dict[str, Any]],
    items: dict[tuple[str, str], list[str]],
    estimated: set[str],
    last_day: date,
    now: datetime,
    pools: tuple[PoolRow, ...] = (),
) -> dict[str, Any]:
    """Compose and publish the day's digest(s) from this run's numbers and the reaper's audit of the last 24 h."""
    reaper, expiring = load_reaper_facts(store, now=now, expired_from=reaper_expiry)
    notes = [] if not found.daily.empty else ["No cost data yet: Cost Explorer returned nothing for this account."]
    inp = build_digest_input(
        last_day=last_day,
        now=now,
        daily=found.daily,
        baseline_days=settings.anomaly.baseline_days,
        views=views,
        forecasts=forecasts,
        episode_state=episode_state,
        root_causes={series: lines for (series, _day), lines in items.items()},
        estimated_dates=sorted(d for d in estimated if d <= last_day.isoformat()),
        reaper=reaper if reaper.decisions else None,
        expiring=expiring,
        notes=notes,
    ).model_copy(update={"pools": pools})
    return send_digests(inp, settings.notifier, publish).summary()


def run(
    settings: Settings,
    *,
    ce: CostSource,
    store: StateStore,
    publish: Publish,
    today: date,
    emit: Emit | None = None,
    now: datetime | None = None,
) -> RunResult:
    """One daily run. ``today`` is the run's UTC date: the newest day considered is ``today - 1`` (complete).

    It ends with the daily digest (the cost monitor is the one part holding every team's numbers).
    """
    anomaly = settings.anomaly
    keys = _keys(settings)
    last_day = today - timedelta(days=1)
    window = max(anomaly.baseline_days + JUDGE_LOOKBACK_DAYS, HISTORY_DAYS, 31)
    start = today - timedelta(days=window)
    cache = CostCache(store, keys, anomaly.cost_metric, anomaly.excluded_record_types, ttl_days=window + 14)

    def pull(range_start: date, range_end: date) -> list[dict[str, Any]]:
        return ce.daily_by_tags(
            range_start,
            range_end,
            keys,
            metric=anomaly.cost_metric,
            excluded_record_types=anomaly.excluded_record_types,
        )

    report = cache.load(start, today, pull)
    estimated = set(report.estimated_days)
    found = _detect(
        report.frame,
        keys=keys,
        params=DetectParams.from_settings(anomaly),
        report_pulled=report.pulled,
        estimated=estimated,
        last_day=last_day,
    )
    old_state = episodes.load_state(store.query(episodes.DEDUP_PK))
    state, team_actions, pair_actions = _episodes(found, keys, old_state)
    actions = team_actions + pair_actions
    items = _root_causes(settings, ce, keys, actions, found)
    second_key = keys[1] if len(keys) > 1 else None
    for a in actions:  # the top driver stays with the episode, for later digests (root causes cost a request)
        drivers_found = items.get((a.series, str(a.finding["date"])))
        if a.kind != "retract" and drivers_found:
            state[a.series] = {**state[a.series], "top_driver": drivers_found[0]}
    events = [
        (
            _anomaly_event(a, items.get((a.series, str(a.finding["date"])), []), second_key),
            Remember(episodes.DEDUP_PK, a.series, state[a.series]),
        )
        for a in actions
    ]
    alerted = {a.series for a in actions}
    for sid, item in episodes.changed(old_state, state).items():
        if sid not in alerted:  # quiet updates (an ongoing episode's newest day) need no publish
            Remember(episodes.DEDUP_PK, sid, item).apply(store)
    views, forecasts, budget_events = _budget_events(settings, store, found.daily, last_day)
    events += budget_events
    pool_run = run_pools(settings, ce, store, cached=report.frame, cached_keys=keys, last_day=last_day)
    events += [(event, Remember(alert.pk, alert.sk, alert.data)) for event, alert in pool_run.alerts]
    at = now or datetime.now(UTC)
    # Every alert of a run is dated by the run (a retried invocation's alerts carry the same time).
    events = [(event.model_copy(update={"occurred_at": at}), remember) for event, remember in events]
    published, failures = _publish_all(events, publish, store)
    digest = _send_digest(
        settings,
        store,
        publish,
        found=found,
        views=views,
        forecasts=forecasts,
        episode_state=state,
        items=items,
        estimated=estimated,
        last_day=last_day,
        now=at,
        pools=pool_rows(pool_run.views),
    )
    failures += [f"digest {key}: {error}" for key, error in digest["digests_failed"].items()]
    if emit is not None:
        _emit_metrics(emit, found, last_day=last_day, published=len(published), requests=ce.requests, views=views)

    summary: dict[str, Any] = {
        "today": today.isoformat(),
        "window": [start.isoformat(), today.isoformat()],
        "ce_requests": ce.requests,
        "ce_throttled": ce.throttled,
        "pulled": report.pulled,
        "cached_days": report.cached_days,
        "stored_days": report.stored_days,
        "estimated_days": sorted(estimated),
        "judged_days": list(found.judged_days),
        "teams": int(found.daily["team"].nunique()) if not found.daily.empty else 0,
        "findings": found.team_findings.to_dict("records"),
        "pair_findings": len(found.pair_findings),
        "alerts": [
            {
                "kind": e.kind.value,
                "severity": e.severity.value,
                "team": e.team,
                "title": e.title,
                "items": list(e.details.get("items", [])),
            }
            for e in published
        ],
        "budgets": [v.as_dict() for v in views],
        "forecasts": [f.as_dict() for f in forecasts.values()],
        "pools": [v.as_dict() for v in pool_run.views],
        "publish_failures": failures,
        "digests_sent": digest["digests_sent"],
    }
    if failures:
        raise PublishFailedError(f"{len(failures)} of {len(events)} alerts failed to publish: " + "; ".join(failures))
    return RunResult(summary=summary, events=published)
