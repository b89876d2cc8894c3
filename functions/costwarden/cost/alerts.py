"""The cost monitor's alert events: an anomaly episode's action, a worsened budget status or a forecast over budget
becomes one ``AlertEvent``, paired with the state write that may only happen once it is published.

Pure building (the state store is read for "did this budget status worsen?"); ``monitor`` orchestrates the run and
decides when to publish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from costwarden.core import episodes
from costwarden.core.alerts import build, truncate
from costwarden.core.keys import BudgetKey, CostEpisodeRef, CostKey, ForecastKey
from costwarden.core.money import signed_usd, usd
from costwarden.core.publish import Outcome, send_once
from costwarden.cost import budget as budget_mod
from costwarden.cost import launched, ledger, rootcause
from costwarden.cost.forecast import TeamForecast, forecast
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.ports import Publisher, StateStore
from costwarden.settings import Settings

FORECAST_PK = "dedup#cost-forecast"
#: The cost monitor's publish-once records (sk: the alert's dedup key). Its other state (episodes, budget status,
#: pools) says what is due; this says what went out, so a run that died after publishing does not alert again.
SENT_PK = "dedup#cost-sent"
DEDUP_TTL_DAYS = 120

#: The publisher port, under the name the cost monitor's modules import.
Publish = Publisher


@dataclass(frozen=True)
class Explanation:
    """What the run found out about an anomaly beyond its numbers: the episode so far, the causes per Cost Explorer
    dimension, the team's resources in the driving services and regions, and the Cost Explorer view of it."""

    episode: episodes.Story | None = None
    causes: tuple[rootcause.Causes, ...] = ()
    named: rootcause.Named = field(default_factory=rootcause.Named)
    link: str | None = None


def _cause_sections(found: Explanation) -> list[tuple[str, list[str]]]:
    """One section per cause dimension beyond SERVICE (the items list the services), then the team's resources."""
    sections: list[tuple[str, list[str]]] = []
    for c in found.causes:
        if c.dimension == "SERVICE":
            continue
        label = f"Root causes by {rootcause.CAUSE_DIMENSIONS.get(c.dimension, c.dimension.lower())}"
        if c.error is not None:
            sections.append((label, [f"not read: {c.error}"]))
        elif c.drivers:
            sections.append((label, [d.line() for d in c.drivers]))
    named = found.named
    services = ", ".join(rootcause.top_values(found.causes, "SERVICE"))
    regions = ", ".join(rootcause.top_values(found.causes, "REGION"))
    read = named.launches
    if read is not None:
        sections += _launch_sections(read, f"{services} ({regions})")
    elif named.resources:
        lines = truncate([r.line() for r in named.resources], len(named.resources), total=named.total)
        sections.append((f"Resources of the team in {services} ({regions})", lines))
    if named.error:
        sections.append(("Resources", [f"not listed: {named.error}"]))
    return sections


def _launch_sections(read: launched.Launches, where: str) -> list[tuple[str, list[str]]]:
    """The team's resources there, by the episode's start: those launched since (listed, newest first), then one
    short list of the rest (counts, the ones whose launch time is not known, a failed read)."""
    shown = rootcause.MAX_RESOURCES
    sections: list[tuple[str, list[str]]] = []
    if read.launched:
        lines = truncate([r.line() for r in read.launched[:shown]], shown, total=len(read.launched))
        sections.append((f"Launched since {read.since} in {where}", lines))
    rest = launched.lines(read, shown)
    if rest:
        title = f"Other resources of the team in {where}" if read.launched else f"Resources of the team in {where}"
        sections.append((title, rest))
    return sections


def next_step(team: str, day: str, found: Explanation, extra_usd: float) -> str:
    """The one thing to do, chosen from the cause: stop or scale those of the team's resources launched since the
    episode began (the first two named), else the resources named, else declare the spend planned when a service
    explains it, else look in Cost Explorer."""
    start = found.episode.start if found.episode else day
    so_far = found.episode.extra_usd if found.episode and found.episode.extra_usd > 0 else extra_usd
    named = found.named
    read = named.launches
    fresh = read.running_launched if read is not None else []
    if read is not None and fresh:
        names = " and ".join(r.id for r in fresh[:2])
        more = f" (and {len(fresh) - 2} more)" if len(fresh) > 2 else ""
        them = "them" if len(fresh) > 1 else "it"
        return f"Stop or scale down {names}{more}, launched since {read.since}, if {team} does not need {them} running."
    if named.resources:
        names = ", ".join(r.id for r in named.resources[:3])
        more = f" and {named.total - 3} more" if named.total > 3 else ""
        them = "them" if named.total > 1 else "it"
        return f"Stop or scale down {names}{more} if {team} does not need {them} running."
    services = rootcause.top_values(found.causes, "SERVICE", limit=1)
    if services:
        return (
            f"If {team} expected this {services[0]} spend, declare it planned: "
            f"`/costwarden plan {team} {start} {day} {math.ceil(so_far)} <reason>`."
        )
    return "Open Cost Explorer (link below) to see which usage type changed."


def _story_figures(found: Explanation | None) -> dict[str, str]:
    story = found.episode if found else None
    if story is None:
        return {}
    figures = {"Since": story.start, "Duration": f"{story.days} day{'s' if story.days != 1 else ''}"}
    if story.extra_usd > 0:
        figures["Extra so far"] = f"+{usd(story.extra_usd)}"
    return figures


def anomaly_event(
    action: episodes.Action,
    items: list[str],
    second_key: str | None,
    *,
    rule: str = ledger.BASELINE_RULE,
    explained: Explanation | None = None,
) -> AlertEvent:
    """The alert for an episode's action; the summary names the baseline's ``rule`` (``ledger.baseline_rule``).
    ``explained``: the episode so far, causes, the team's resources and the Cost Explorer link (the full story)."""
    f = action.finding
    team, _, second = action.series.partition("|")
    where = f"{team} ({second_key}={second})" if second else team
    if action.kind == "retract":
        was = action.previous
        final = {"Final cost": usd(float(f["cost_usd"]))} if "cost_usd" in f else {}
        return build(
            AlertKind.COST_ANOMALY,
            Severity.INFO,
            team,
            CostKey(action.series, str(f["date"]), CostKey.RETRACT),
            title=f"{where}: cost alert for {f['date']} withdrawn",
            summary=(
                f"The {was.get('severity', '')} alert for {f['date']} was raised on estimated data "
                f"({usd(float(was.get('cost_usd', 0)))}); now that the day is final it is no longer unusual"
                + (f" ({usd(float(f['cost_usd']))})." if "cost_usd" in f else ".")
            ),
            figures={"Day": str(f["date"]), "Alerted cost": usd(float(was.get("cost_usd", 0)))} | final,
            extra={"retracts": CostEpisodeRef(action.series, str(was.get("start", f["date"]))).to_str()},
        )
    escalated = action.kind == "escalate"
    severity = Severity(str(f["severity"]))
    ratio, extra = float(f["ratio"]), float(f["impact_usd"])
    estimated = bool(f.get("estimated", False))
    day = str(f["date"])
    found = explained or Explanation()
    service = next(iter(rootcause.top_values(found.causes, "SERVICE", limit=1)), None)
    title = f"{where}: +{usd(extra)}{f' in {service}' if service else ''} on {day} ({ratio:.1f}x usual)" + (
        " (escalated)" if escalated else ""
    )
    summary = (
        f"{usd(float(f['cost_usd']))} on {day} against a usual {usd(float(f['baseline_usd']))}: "
        f"+{usd(extra)}" + (" (Cost Explorer still estimates this day)." if estimated else ".") + f" Usual = {rule}."
    )
    story = found.episode
    if story is not None and story.days > 1:
        summary += f" Running since {story.start} ({story.days} days), +{usd(story.extra_usd)} over the usual so far."
    if float(f.get("planned_usd") or 0) > 0:  # issue 13: the baseline above already includes the plan
        summary += f" That is above the planned +{usd(float(f['planned_usd']))}."
    service_causes = next((c for c in found.causes if c.dimension == "SERVICE"), None)
    note = rootcause.overlap_note(service_causes, extra, rule) if service_causes is not None else None
    if note:
        summary += f" {note}"
    figures = {
        "Cost": usd(float(f["cost_usd"])),
        "Usual": usd(float(f["baseline_usd"])),
        "Extra": f"+{usd(extra)}",
        "Ratio": f"{ratio:.2f}x",
        "Data": "estimated" if estimated else "final",
        **_story_figures(explained),
    }
    return build(
        AlertKind.COST_ANOMALY,
        severity,
        team,
        CostKey(action.series, day, severity.value),
        title=title,
        summary=summary,
        figures=figures,
        items=items,
        sections=_cause_sections(found),
        next_step=next_step(team, day, found, extra),
        links=[("Open in Cost Explorer", found.link)] if found.link else [],
        metadata={"zscore": round(float(f["zscore"]), 2), "ratio": round(ratio, 3)} if "zscore" in f else {},
        extra={
            "finding": {k: (v.item() if hasattr(v, "item") else v) for k, v in f.items()},
            "episode": "escalated" if escalated else "new",
        },
    )


def _months(team_forecast: TeamForecast, *, projected: budget_mod.BudgetView | None = None) -> list[str]:
    """One line per forecast month. The month a budget view projects shows the ledger's projection (the number
    the budget is judged on) with the forecast's band beside it, never a second month-end figure."""
    lines = []
    for m in team_forecast.months:
        band = f"({usd(m.low_usd)} - {usd(m.high_usd)})"
        if projected is not None and m.month == projected.month:
            lines.append(f"{m.month}: {usd(projected.projected_usd)} projected, forecast band {band[1:-1]}")
        else:
            lines.append(f"{m.month} forecast: {usd(m.expected_usd)} {band}")
    return lines


def budget_event(view: budget_mod.BudgetView, team_forecast: TeamForecast | None) -> AlertEvent:
    severity = Severity.CRITICAL if view.status is budget_mod.BudgetStatus.OVER_BUDGET else Severity.WARNING
    return build(
        AlertKind.BUDGET,
        severity,
        view.team,
        BudgetKey(view.team, view.month, view.status.value),
        title=f"{view.team}: {view.status.value.replace('_', ' ')} for {view.month}",
        summary=(
            f"Projected {usd(view.projected_usd)} against a {usd(view.budget_usd)} budget "
            f"({view.projected_share:.0%}); {usd(view.month_to_date_usd)} spent in {view.days_elapsed} of "
            f"{view.days_in_month} days at {usd(view.run_rate_usd)} a day ({ledger.PROJECTION_RULE})."
        ),
        figures={
            "Budget": usd(view.budget_usd),
            "Month to date": usd(view.month_to_date_usd),
            "Run rate": f"{usd(view.run_rate_usd)}/day",
            "Projected": f"{usd(view.projected_usd)} ({view.projected_share:.0%})",
            "Status": view.status.value,
        },
        items=_months(team_forecast, projected=view) if team_forecast else [],
        extra={"budget": view.as_dict()},
    )


def forecast_event(team: str, budget: float, team_forecast: TeamForecast) -> AlertEvent:
    nxt = team_forecast.months[1]
    return build(
        AlertKind.FORECAST,
        Severity.INFO,
        team,
        ForecastKey(team, nxt.month),
        title=f"{team}: {nxt.month} forecast {usd(nxt.expected_usd)} exceeds the {usd(budget)} budget",
        summary=(
            f"At the current trend ({signed_usd(team_forecast.slope_usd_per_day)}/day per day) {nxt.month} lands "
            f"between {usd(nxt.low_usd)} and {usd(nxt.high_usd)}."
        ),
        figures={
            "Budget": usd(budget),
            "Expected": usd(nxt.expected_usd),
            "Range": f"{usd(nxt.low_usd)} - {usd(nxt.high_usd)}",
        },
        items=_months(team_forecast),
        extra={"forecast": team_forecast.as_dict()},
    )


@dataclass(frozen=True)
class Remember:
    """A state write that happens only once its alert went out (so a failed publish is retried next run): the
    episode, budget status or pool state the next run compares against."""

    pk: str
    sk: str
    data: dict[str, Any]

    def apply(self, store: StateStore) -> None:
        store.put(self.pk, self.sk, self.data, ttl_days=DEDUP_TTL_DAYS)


def budget_events(
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
            events.append((budget_event(view, forecasts.get(view.team)), Remember(pk, sk, view.as_dict())))
    for team, amount in sorted(monthly.items()):
        team_forecast = forecasts.get(team)
        if not team_forecast or len(team_forecast.months) < 2:
            continue
        month = team_forecast.months[1].month
        over = team_forecast.months[1].expected_usd > amount * budgets.over_budget_ratio
        if over and store.get(FORECAST_PK, f"{team}#{month}") is None:
            events.append(
                (forecast_event(team, amount, team_forecast), Remember(FORECAST_PK, f"{team}#{month}", {"sent": True}))
            )
    return views, forecasts, events


def publish_all(
    events: list[tuple[AlertEvent, Remember]], publish: Publish, store: StateStore, *, now: datetime
) -> tuple[list[AlertEvent], list[str]]:
    """Publish every event once (``core.publish``, record ``SENT_PK``/dedup key); remember only what went out;
    collect failures instead of stopping at the first.

    The state write follows the alert also when the alert had gone out before (a run that died between publishing
    and remembering): the next run catches the state up instead of alerting again."""
    published: list[AlertEvent] = []
    failures: list[str] = []
    for event, remember in events:
        once = send_once(
            event, key=(SENT_PK, event.dedup_key), store=store, publish=publish, ttl_days=DEDUP_TTL_DAYS, now=now
        )
        if once.error is not None:  # publish the rest, then the caller fails loudly with the list
            failures.append(f"{event.kind.value} {event.team}: {type(once.error).__name__}: {once.error}")
            continue
        if once.outcome is Outcome.IN_PROGRESS:
            continue  # another run is sending it, and remembers it
        remember.apply(store)
        if once.sent:
            published.append(event)
    return published, failures
