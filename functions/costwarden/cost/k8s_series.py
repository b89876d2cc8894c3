"""EKS namespace (or workload) spend guarded like a team's: the same detector, episodes, budgets and alert builder.

The facts come through the ``K8sSource`` port (``models.k8s.GroupDay``, from CUR 2.0 split cost allocation data).
Each guarded namespace is one series named ``k8s:<cluster>/<namespace>`` (``k8s:<cluster>/<namespace>/<workload>``
with ``k8s_guard.series_by: workload``): the name a team's series cannot have by accident (``SERIES_PREFIX``; a tag
value that does spell it is reported as a collision and its Kubernetes series is not judged, so one episode record
never holds two stories). From there everything is the tag series' path:

* the detector (``cost.detect``) with the anomaly settings, over a frame whose ``team`` column is the series name
  (the ledger's frame shape, so ``ledger.baselines`` and ``ledger.month_to_date`` answer for namespaces too);
* episodes (``core.episodes``) in the same ``dedup#cost`` records, advanced over the Kubernetes series only (a tag
  series' estimated alert is retracted by the tag run, never by this one);
* the anomaly alert of ``cost.alerts.anomaly_event``, addressed to the namespace's team (``GroupDay.team``) and
  carrying the cluster, namespace, workload and GPU share as figures and as ``details["k8s"]``;
* budgets (``k8s_guard.monthly_usd``) judged by ``cost.budget`` and alerted by ``cost.alerts.budget_event``.

The namespace's spend is *part* of its team's tag spend (the nodes' EC2 cost), so this frame never joins the team
frame: a team's month to date and budget are not counted twice.
"""

from __future__ import annotations

import fnmatch
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import Any

import pandas as pd

from costwarden.core import episodes
from costwarden.core.alerts import truncate
from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.cost import budget as budget_mod
from costwarden.cost import ledger
from costwarden.cost.alerts import Remember, anomaly_event, budget_event
from costwarden.cost.detect import DetectParams, detect
from costwarden.cost.frame import COST, DATE, ESTIMATED
from costwarden.models import k8s_digest
from costwarden.models.alert import AlertEvent
from costwarden.models.k8s import GroupDay
from costwarden.models.k8s_digest import K8sSection
from costwarden.models.ports import K8sSource, StateStore, error_text
from costwarden.settings import K8sGuardSettings, Settings

#: The prefix of every Kubernetes series name (the ``team`` part of its episode's series id).
SERIES_PREFIX = "k8s:"
#: Days before the newest one judged in a run, as the tag series (``cost.monitor.JUDGE_LOOKBACK_DAYS``).
JUDGE_LOOKBACK_DAYS = 7
#: Workloads named in an anomaly's items (the largest growth first).
MAX_WORKLOADS = 3
#: Rows left out that the run summary names (then ``... and N more``: a broken column would name every row).
MAX_SKIPPED_SHOWN = 20


def series_name(cluster: str, key: str) -> str:
    """``k8s:<cluster>/<key>``: a namespace's series (``key`` = namespace) or a workload's (``<namespace>/<name>``)."""
    return f"{SERIES_PREFIX}{cluster}/{key}"


def is_k8s_series(series_id: str) -> bool:
    """True for an episode series id (``<team>|<second>``) of a Kubernetes series."""
    return series_id.startswith(SERIES_PREFIX)


@dataclass(frozen=True)
class SeriesFacts:
    """Who and what one Kubernetes series is, for its alert: the cluster, namespace, workload and owner."""

    series: str
    cluster: str
    namespace: str
    workload: str | None
    team: str


def facts_of(group: GroupDay) -> SeriesFacts:
    """The series ``group`` belongs to (a workload's key is ``<namespace>/<workload>``, the ``K8sSource`` contract)."""
    namespace, _, workload = group.key.partition("/") if group.by == "workload" else (group.key, "", "")
    return SeriesFacts(series_name(group.cluster, group.key), group.cluster, namespace, workload or None, group.team)


def problem(group: GroupDay) -> str | None:
    """Why a group's day cannot be a series (a broken or hostile row), else None: its name must survive the episode
    id (``<series>|``) and the dedup key, its amounts must be finite."""
    for name, value in (("cluster", group.cluster), ("key", group.key), ("team", group.team)):
        if not isinstance(value, str) or not value.strip() or "|" in value or any(ord(c) < 32 for c in value):
            return f"{name} {value!r} is not a name (empty, or holding | or a control character)"
    for name, amount in (("cost_usd", group.cost_usd), ("gpu_usd", group.gpu_usd)):
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
            return f"{name} is {amount!r}, not a finite amount"
    return None


def usable(groups: Iterable[GroupDay]) -> tuple[list[GroupDay], list[str]]:
    """The groups that can be judged, and one line per group left out (``k8s group <cluster>/<key> on <day>: ...``)."""
    kept, skipped = [], []
    for g in groups:
        why = problem(g)
        if why is None:
            kept.append(g)
        else:
            skipped.append(f"k8s group {g.cluster!r}/{g.key!r} on {g.date}: {why}; not judged")
    return kept, skipped


def guarded(groups: Iterable[GroupDay], cfg: K8sGuardSettings) -> list[GroupDay]:
    """The groups of the configured clusters and namespaces (empty lists: all)."""
    return [
        g
        for g in groups
        if (not cfg.clusters or g.cluster in cfg.clusters)
        and (not cfg.namespaces or any(fnmatch.fnmatchcase(facts_of(g).namespace, p) for p in cfg.namespaces))
    ]


def series_frame(groups: Iterable[GroupDay]) -> pd.DataFrame:
    """The ledger's daily frame (``date``, ``team`` = series name, ``cost_usd``, ``estimated``), one row per series
    and day (accounts summed: a cluster name is one series)."""
    totals: dict[tuple[date, str], float] = defaultdict(float)
    for g in groups:
        totals[(g.date, facts_of(g).series)] += g.cost_usd
    return pd.DataFrame(
        {
            DATE: pd.to_datetime(pd.Series([d for d, _ in totals], dtype="object")),
            "team": pd.Series([s for _, s in totals], dtype="object"),
            COST: pd.Series(list(totals.values()), dtype=float),
            ESTIMATED: pd.Series([False] * len(totals), dtype=bool),
        }
    )


def owners(groups: Iterable[GroupDay]) -> dict[str, SeriesFacts]:
    """Each series' facts as of its newest day (the largest group that day when accounts disagree on the team)."""
    best: dict[str, tuple[date, float, SeriesFacts]] = {}
    for g in groups:
        facts = facts_of(g)
        current = best.get(facts.series)
        if current is None or (g.date, g.cost_usd) > current[:2]:
            best[facts.series] = (g.date, g.cost_usd, facts)
    return {series: facts for series, (_, _, facts) in best.items()}


def gpu_share(groups: Iterable[GroupDay], series: str, day: str) -> float | None:
    """The accelerator part of the series' cost on ``day`` (0..1), None without cost that day."""
    on_day = [g for g in groups if facts_of(g).series == series and g.date.isoformat() == day]
    cost = sum(g.cost_usd for g in on_day)
    return sum(g.gpu_usd for g in on_day) / cost if cost > 0 else None


def _share_text(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def workload_growth(workloads: Sequence[GroupDay], facts: SeriesFacts, day: str) -> list[tuple[str, float, float]]:
    """The namespace's workloads on ``day`` by growth over their own median of the earlier days given (a new
    workload grew by its whole cost): ``(workload, growth USD, GPU share)``, largest growth first."""
    history: dict[str, list[float]] = defaultdict(list)
    today: dict[str, GroupDay] = {}
    for w in workloads:
        wf = facts_of(w)
        if w.cluster != facts.cluster or wf.namespace != facts.namespace or wf.workload is None:
            continue
        if w.date.isoformat() == day:
            today[wf.workload] = w
        elif w.date.isoformat() < day:
            history[wf.workload].append(w.cost_usd)
    grown = [
        (
            name,
            w.cost_usd - (median(history[name]) if history[name] else 0.0),
            w.gpu_usd / w.cost_usd if w.cost_usd else 0.0,
        )
        for name, w in today.items()
    ]
    return sorted(grown, key=lambda g: (-g[1], g[0]))


def k8s_anomaly_event(
    action: episodes.Action,
    facts: SeriesFacts,
    groups: Sequence[GroupDay],
    workloads: Sequence[GroupDay],
    *,
    rule: str,
) -> AlertEvent:
    """The tag series' anomaly alert (``anomaly_event``: its words, key and figures), addressed to the namespace's
    team and naming the cluster, namespace, workload and GPU share (figures first, and ``details["k8s"]``)."""
    day = str(action.finding["date"])
    grown = workload_growth(workloads, facts, day) if facts.workload is None else []
    grew = [(name, g, share) for name, g, share in grown if g > 0][:MAX_WORKLOADS]  # what drove it, not what fell
    items = [f"+{usd(g)} in workload {name} (GPU {_share_text(share)})" for name, g, share in grew]
    workload = facts.workload or (grown[0][0] if grown else None)
    share = gpu_share(groups, facts.series, day)
    event = anomaly_event(action, items if action.kind != "retract" else [], None, rule=rule)
    context = {
        "Cluster": facts.cluster,
        "Namespace": facts.namespace,
        "Workload": workload or "-",
        "GPU share": _share_text(share),
    }
    details = dict(event.details)
    details["figures"] = {**context, **dict(details.get("figures", {}))}
    details["k8s"] = {
        "series": facts.series,
        "cluster": facts.cluster,
        "namespace": facts.namespace,
        "workload": workload,
        "gpu_share": None if share is None else round(share, 4),
    }
    return event.model_copy(update={"team": facts.team, "details": details})


@dataclass
class K8sRun:
    """What the Kubernetes part of one monitor run found and wants published (after the tag series' events)."""

    daily: pd.DataFrame
    groups: list[GroupDay]
    findings: pd.DataFrame
    views: list[budget_mod.BudgetView]
    events: list[tuple[AlertEvent, Remember]] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    requests: int = 0
    #: The month's tables for the digest (namespaces, workloads, teams, unused GPU per node pool).
    section: K8sSection | None = None
    #: Why nothing was judged (the source could not be read): never a clean verdict.
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """The run summary's ``k8s`` part."""
        if self.error is not None:
            return {"series": None, "error": self.error, "alerts": 0, "requests": self.requests}
        return {
            "series": int(self.daily["team"].nunique()) if not self.daily.empty else 0,
            "findings": self.findings.to_dict("records"),
            "budgets": [v.as_dict() for v in self.views],
            "alerts": len(self.events),
            "collisions": self.collisions,
            "skipped": truncate(self.skipped, MAX_SKIPPED_SHOWN),
            "requests": self.requests,
        }


def _judged(daily: pd.DataFrame, last_day: date) -> dict[str, bool]:
    """Days judged this run (the newest week with rows): split cost data has no estimated flag, every day is final."""
    earliest = pd.Timestamp(last_day - timedelta(days=JUDGE_LOOKBACK_DAYS - 1))
    days = daily.loc[(daily[DATE] >= earliest) & (daily[DATE] <= pd.Timestamp(last_day)), DATE]
    return {d.strftime("%Y-%m-%d"): False for d in sorted(set(days))}


def _budget_events(
    settings: Settings, store: StateStore, daily: pd.DataFrame, last_day: date, facts: Mapping[str, SeriesFacts]
) -> tuple[list[budget_mod.BudgetView], list[tuple[AlertEvent, Remember]]]:
    """``k8s_guard.monthly_usd`` judged by the budgets' rule; a worsened status alerts the namespace's team."""
    monthly = {series_name(*key.split("/", 1)): amount for key, amount in settings.k8s_guard.monthly_usd.items()}
    views = budget_mod.budget_views(
        daily,
        monthly,
        last_day,
        at_risk_ratio=settings.budgets.at_risk_ratio,
        over_budget_ratio=settings.budgets.over_budget_ratio,
    )
    events = []
    for view in views:
        pk, sk = budget_mod.state_key(view)
        if budget_mod.worsened(view, store.get(pk, sk)):
            team = facts[view.team].team if view.team in facts else UNOWNED_TEAM
            event = budget_event(view, None).model_copy(update={"team": team})
            events.append((event, Remember(pk, sk, view.as_dict())))
    return views, events


def run_k8s(
    settings: Settings,
    source: K8sSource,
    store: StateStore,
    *,
    start: date,
    today: date,
    tag_series: Iterable[str] = (),
) -> K8sRun:
    """Judge the guarded series over ``[start, today)``; quiet episode updates are written here, the events' state
    writes follow their publishing (``Remember``, as for tag series). ``tag_series``: the team names of the tag run."""
    cfg = settings.k8s_guard
    last_day = today - timedelta(days=1)
    try:
        by_kind = {by: usable(source.group_days(start, today, by)) for by in ("namespace", "workload")}
        nodes = source.node_days(min(start, last_day.replace(day=1)), today)
    except Exception as error:  # the tag series' alerts still go out; the summary says the namespaces were not judged
        return K8sRun(
            series_frame([]), [], pd.DataFrame(), [], error=f"not read ({start} to {today}): {error_text(error)}"
        )
    groups, skipped = by_kind[cfg.series_by]
    groups = guarded(groups, cfg)
    workloads = guarded(by_kind["workload"][0], cfg)
    namespaces = guarded(by_kind["namespace"][0], cfg)
    collisions = sorted({facts_of(g).series for g in groups} & set(tag_series))
    groups = [g for g in groups if facts_of(g).series not in collisions]
    daily = series_frame(groups)
    judged = _judged(daily, last_day) if not daily.empty else {}
    params = DetectParams.from_settings(settings.anomaly)
    findings = detect(
        daily.iloc[0 : len(daily) if judged else 0], ["team"], params, judge_from=min(judged, default=None)
    )
    old_state = {
        sid: item for sid, item in episodes.load_state(store.query(episodes.DEDUP_PK)).items() if is_k8s_series(sid)
    }
    state, actions = episodes.advance(old_state, findings, judged, ["team"])
    facts = owners(groups)
    rule = ledger.baseline_rule(settings.anomaly.baseline_days)
    events = [
        (
            k8s_anomaly_event(a, facts[a.series.partition("|")[0]], groups, workloads, rule=rule),
            Remember(episodes.DEDUP_PK, a.series, state[a.series]),
        )
        for a in actions
    ]
    alerted = {a.series for a in actions}
    for sid, item in episodes.changed(old_state, state).items():
        if sid not in alerted:
            Remember(episodes.DEDUP_PK, sid, item).apply(store)
    views, budget_alerts = _budget_events(settings, store, daily, last_day, facts)
    run = K8sRun(daily, groups, findings, views, events + budget_alerts, collisions, skipped)
    run.section = k8s_digest.section(namespaces, workloads, nodes, last_day)
    run.requests = source.requests
    return run
