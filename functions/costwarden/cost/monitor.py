"""The cost monitor's daily run: pull (incrementally), detect, dedupe into episodes, find root causes, check
budgets, forecast, publish, and report. Adapters come in as parameters; nothing here creates a boto3 client.

This module orchestrates; the alert events are built in ``cost.alerts`` and the digest is handed off in
``cost.digest_handoff``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from costwarden.core import baselines, episodes
from costwarden.core.deeplinks import cost_explorer_url
from costwarden.core.money import usd
from costwarden.cost import alerts as cost_alerts
from costwarden.cost import budget as budget_mod
from costwarden.cost import k8s_series, ledger, rootcause
from costwarden.cost.alerts import Publish, Remember, anomaly_event, budget_events, publish_all
from costwarden.cost.cache import CostCache, PullReport
from costwarden.cost.detect import DetectParams, detect
from costwarden.cost.digest_handoff import send_digest
from costwarden.cost.forecast import HISTORY_DAYS
from costwarden.cost.frame import COST, DATE, ESTIMATED, UNTAGGED
from costwarden.cost.pool_monitor import pool_rows, run_pools
from costwarden.cost.rootcause import ROOT_CAUSE_LOOKBACK_DAYS
from costwarden.models.alert import AlertEvent
from costwarden.models.ports import Clients, CostSource, K8sSource, StateStore, error_text
from costwarden.settings import Settings

#: Days before the newest one that may be judged in a run (re-pulled days older than this are only history).
JUDGE_LOOKBACK_DAYS = 7

Emit = Callable[[str, float, str, dict[str, str]], None]


class PublishFailedError(RuntimeError):
    """Some alerts could not be published (the others were); the message says which."""


@dataclass
class RunResult:
    summary: dict[str, Any]
    events: list[AlertEvent] = field(default_factory=list)


def group_keys(settings: Settings) -> list[str]:
    """The tag keys daily cost is grouped (and cached) by: the team key, and the second group key if any."""
    team_key = settings.tags.team_key
    second = settings.anomaly.second_group_key
    return [team_key, second] if second and second != team_key else [team_key]


def _team_frame(pair: pd.DataFrame, team_key: str) -> pd.DataFrame:
    if pair.empty:
        return pd.DataFrame({DATE: pd.Series([], dtype="datetime64[ns]"), "team": [], COST: [], ESTIMATED: []})
    grouped = pair.groupby([DATE, team_key], as_index=False, sort=False).agg({COST: "sum", ESTIMATED: "any"})
    return grouped.rename(columns={team_key: "team"})


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


def _planned(found: Detection, keys: list[str], store: StateStore, anomaly: Any) -> Detection:
    """Findings on days with declared planned spend re-judged against baseline + the plan (core/planned.py)."""
    from costwarden.core import planned
    from costwarden.cost.planned_spend import adjust_findings

    def plans_for(team: str) -> list[dict[str, Any]]:
        return store.query(f"{planned.PK_PREFIX}{team}")

    def adjust(findings: pd.DataFrame, column: str) -> pd.DataFrame:
        return adjust_findings(
            findings,
            column,
            plans_for,
            warn_ratio=anomaly.warn_ratio,
            critical_ratio=anomaly.critical_ratio,
            min_impact_usd=anomaly.min_impact_usd,
        )

    return replace(
        found, team_findings=adjust(found.team_findings, "team"), pair_findings=adjust(found.pair_findings, keys[0])
    )


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


def _cause_pages(
    settings: Settings, ce: CostSource, team_key: str, team: str, day: date, *, dimension: str
) -> rootcause.Causes:
    """One grouped request for one cause dimension; a failed read is said in the alert, never an empty verdict."""
    anomaly = settings.anomaly
    try:
        pages = ce.daily_by_service(
            day - timedelta(days=ROOT_CAUSE_LOOKBACK_DAYS),
            day + timedelta(days=1),
            team_key=team_key,
            team=None if team == UNTAGGED else team,
            metric=anomaly.cost_metric,
            excluded_record_types=anomaly.excluded_record_types,
            dimension=dimension,
        )
    except Exception as error:  # the alert still goes out, saying what could not be read
        if dimension == "SERVICE":
            raise  # the services were always read: a failure there fails the run as it did
        return rootcause.Causes(dimension, error=error_text(error))
    return rootcause.causes(pages, day.isoformat(), anomaly.cost_metric, dimension=dimension)


def _root_causes(
    settings: Settings, ce: CostSource, keys: list[str], actions: list[episodes.Action], found: Detection
) -> tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], list[rootcause.Causes]]]:
    """Driver lines per (series, day): services for the largest alerts (capped), then second-key breakdowns; and
    every cause dimension's answer for those alerts. One request per dimension and alert, SERVICE for every alert
    first (the lines every alert and digest has always had), then the other dimensions."""
    anomaly = settings.anomaly
    items: dict[tuple[str, str], list[str]] = {}
    causes: dict[tuple[str, str], list[rootcause.Causes]] = {}
    to_explain = sorted(
        (a for a in actions if a.kind != "retract"), key=lambda a: float(a.finding["impact_usd"]), reverse=True
    )[: anomaly.root_cause_max_teams]
    for dimension in rootcause.CAUSE_DIMENSIONS:
        for action in to_explain:
            team = action.series.split("|", 1)[0]
            day = date.fromisoformat(str(action.finding["date"]))
            answer = _cause_pages(settings, ce, keys[0], team, day, dimension=dimension)
            causes.setdefault((action.series, day.isoformat()), []).append(answer)
            if dimension == "SERVICE":
                items[(action.series, day.isoformat())] = [d.line() for d in answer.drivers]
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
    return items, causes


def _explain(
    settings: Settings,
    action: episodes.Action,
    episode: dict[str, Any],
    causes: list[rootcause.Causes],
    clients: Clients | None,
) -> cost_alerts.Explanation:
    """The full story of one alert: the episode so far, its causes, the team's resources of the driving services in
    the driving regions (the tagging API, one paged listing per region) and which were launched since the episode
    began (the registry's read, once per alert: ``cost.launched``), the deep link."""
    team_key = settings.tags.team_key
    team = action.series.split("|", 1)[0]
    day = str(action.finding["date"])
    story = episodes.story(episode, day)
    services = rootcause.top_values(causes, "SERVICE")
    regions = rootcause.top_values(causes, "REGION")
    named = rootcause.Named()
    if clients is not None and team != UNTAGGED and services and regions:
        named = rootcause.team_resources(
            clients, regions, team_key=team_key, team=team, services=services, since=story.start, policy=settings.tags
        )
    first = min(date.fromisoformat(story.start), date.fromisoformat(day)) - timedelta(days=ROOT_CAUSE_LOOKBACK_DAYS)
    link = cost_explorer_url(
        start=first,
        end=date.fromisoformat(day),
        tag_key=team_key,
        team=None if team == UNTAGGED else team,
        dimensions={"SERVICE": services[0]} if services else None,
        metric=settings.anomaly.cost_metric,
    )
    return cost_alerts.Explanation(story, tuple(causes), named, link)


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


def _judge(
    settings: Settings, ce: CostSource, store: StateStore, keys: list[str], *, start: date, today: date
) -> tuple[PullReport, set[str], Detection]:
    """Pull what the cache does not hold, detect over the window, and let declared planned spend raise the bar."""
    anomaly = settings.anomaly
    window = (today - start).days
    cache = CostCache(store, keys, anomaly.cost_metric, anomaly.excluded_record_types, ttl_days=window + 14)

    report = cache.load_from(ce, start, today)
    estimated = set(report.estimated_days)
    found = _detect(
        report.frame,
        keys=keys,
        params=DetectParams.from_settings(anomaly),
        report_pulled=report.pulled,
        estimated=estimated,
        last_day=today - timedelta(days=1),
    )
    found = _planned(found, keys, store, anomaly)  # issue 13: declared planned spend raises the bar
    return report, estimated, found


@dataclass
class _AnomalyAlerts:
    """The anomaly side of a run: the episodes' new state, the root causes found, the events to publish."""

    state: dict[str, dict[str, Any]]
    items: dict[tuple[str, str], list[str]]
    events: list[tuple[AlertEvent, Remember]]


def _anomaly_alerts(
    settings: Settings,
    ce: CostSource,
    store: StateStore,
    keys: list[str],
    found: Detection,
    *,
    clients: Clients | None = None,
) -> _AnomalyAlerts:
    """Findings into episodes, root causes for the alerted ones, and their events; quiet episode updates are
    remembered here (they need no publish)."""
    old_state = episodes.load_state(store.query(episodes.DEDUP_PK))
    state, team_actions, pair_actions = _episodes(found, keys, old_state)
    actions = team_actions + pair_actions
    items, causes = _root_causes(settings, ce, keys, actions, found)
    second_key = keys[1] if len(keys) > 1 else None
    rule = ledger.baseline_rule(settings.anomaly.baseline_days)
    for a in actions:  # the top driver stays with the episode, for later digests (root causes cost a request)
        drivers_found = items.get((a.series, str(a.finding["date"])))
        if a.kind != "retract" and drivers_found:
            state[a.series] = {**state[a.series], "top_driver": drivers_found[0]}

    def explained(a: episodes.Action) -> cost_alerts.Explanation | None:
        if a.kind == "retract":
            return None
        return _explain(settings, a, state[a.series], causes.get((a.series, str(a.finding["date"])), []), clients)

    events = [
        (
            anomaly_event(
                a, items.get((a.series, str(a.finding["date"])), []), second_key, rule=rule, explained=explained(a)
            ),
            Remember(episodes.DEDUP_PK, a.series, state[a.series]),
        )
        for a in actions
    ]
    alerted = {a.series for a in actions}
    for sid, item in episodes.changed(old_state, state).items():
        if sid not in alerted:  # quiet updates (an ongoing episode's newest day) need no publish
            Remember(episodes.DEDUP_PK, sid, item).apply(store)
    return _AnomalyAlerts(state, items, events)


def run(
    settings: Settings,
    *,
    ce: CostSource,
    store: StateStore,
    publish: Publish,
    today: date,
    emit: Emit | None = None,
    now: datetime | None = None,
    k8s: K8sSource | None = None,
    clients: Clients | None = None,
) -> RunResult:
    """One daily run. ``today`` is the run's UTC date: the newest day considered is ``today - 1`` (complete).
    ``clients``: where an alert's team resources are named from (the tagging API) and their launch times read (the
    registry's describe/list calls); ``None``: alerts name services,
    usage types, regions and accounts but no resources.

    It ends with the daily digest (the cost monitor is the one part holding every team's numbers). ``k8s``: EKS split
    cost facts, guarded per namespace when ``k8s_guard.enabled`` (``cost.k8s_series``).
    """
    keys = group_keys(settings)
    last_day = today - timedelta(days=1)
    window = max(settings.anomaly.baseline_days + JUDGE_LOOKBACK_DAYS, HISTORY_DAYS, 31)
    start = today - timedelta(days=window)
    report, estimated, found = _judge(settings, ce, store, keys, start=start, today=today)
    # Today's baselines, for the burn guard to judge launches against until the next run (core/baselines.py).
    baselines.store_baselines(
        store, today, ledger.baselines(found.daily, today, DetectParams.from_settings(settings.anomaly)).to_dict()
    )
    anomalies = _anomaly_alerts(settings, ce, store, keys, found, clients=clients)
    events = anomalies.events
    views, forecasts, budget_alerts = budget_events(settings, store, found.daily, last_day)
    events += budget_alerts
    pool_run = run_pools(settings, ce, store, cached=report.frame, cached_keys=keys, last_day=last_day)
    events += [(event, Remember(alert.pk, alert.sk, alert.data)) for event, alert in pool_run.alerts]
    k8s_run = None
    if k8s is not None and settings.k8s_guard.enabled:
        tag_series = set(found.daily["team"].astype(str)) if not found.daily.empty else set()
        k8s_run = k8s_series.run_k8s(settings, k8s, store, start=start, today=today, tag_series=tag_series)
        events += k8s_run.events
    at = now or datetime.now(UTC)
    # Every alert of a run is dated by the run (a retried invocation's alerts carry the same time).
    events = [(event.model_copy(update={"occurred_at": at}), remember) for event, remember in events]
    published, failures = publish_all(events, publish, store, now=at)
    digest = send_digest(
        settings,
        store,
        publish,
        daily=found.daily,
        views=views,
        forecasts=forecasts,
        episode_state=anomalies.state,
        items=anomalies.items,
        estimated=estimated,
        last_day=last_day,
        now=at,
        pools=pool_rows(pool_run.views),
        kubernetes=k8s_run.section if k8s_run is not None else None,
    )
    failures += [f"digest {key}: {error}" for key, error in digest["digests_failed"].items()]
    if emit is not None:
        _emit_metrics(emit, found, last_day=last_day, published=len(published), requests=ce.requests, views=views)
    summary = {
        "today": today.isoformat(),
        "window": [start.isoformat(), today.isoformat()],
        "ce_requests": ce.requests,
        "ce_throttled": ce.throttled,
        **_pull_summary(report, estimated, found),
        "alerts": [_alert_summary(e) for e in published],
        "budgets": [v.as_dict() for v in views],
        "forecasts": [f.as_dict() for f in forecasts.values()],
        "pools": [v.as_dict() for v in pool_run.views],
        "publish_failures": failures,
        "digests_sent": digest["digests_sent"],
    }
    if k8s_run is not None:
        summary["k8s"] = k8s_run.summary()
    if failures:
        raise PublishFailedError(f"{len(failures)} of {len(events)} alerts failed to publish: " + "; ".join(failures))
    return RunResult(summary=summary, events=published)


def _pull_summary(report: PullReport, estimated: set[str], found: Detection) -> dict[str, Any]:
    """What the run read and judged, for the summary: the pull, the days, the teams and the findings."""
    return {
        "pulled": report.pulled,
        "cached_days": report.cached_days,
        "stored_days": report.stored_days,
        "estimated_days": sorted(estimated),
        "judged_days": list(found.judged_days),
        "teams": int(found.daily["team"].nunique()) if not found.daily.empty else 0,
        "findings": found.team_findings.to_dict("records"),
        "pair_findings": len(found.pair_findings),
    }


def _alert_summary(event: AlertEvent) -> dict[str, Any]:
    """One published alert as the run summary lists it."""
    return {
        "kind": event.kind.value,
        "severity": event.severity.value,
        "team": event.team,
        "title": event.title,
        "items": list(event.details.get("items", [])),
    }
