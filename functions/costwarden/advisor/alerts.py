"""The advisor's alert events: ``savings`` (one per team per month), ``commitment`` (utilisation, expiry, purchase)
and ``report`` (the monthly report's link). Built here, published by the runner, rendered by the notifier's default
layout (``figures`` and ``items``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from costwarden.advisor.commitments import CommitmentAlert, PlanRecommendation
from costwarden.advisor.report import MonthlyReport, TeamReport
from costwarden.models.alert import AlertEvent, AlertKind, Severity


def _usd(value: float) -> str:
    return f"{value:,.0f} USD"


def savings(team: str, month: str, usd_month: float, items: Sequence[str], now: datetime) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.SAVINGS,
        severity=Severity.INFO,
        team=team,
        title=f"{team}: savings on the table: {_usd(usd_month)}/month",
        summary=(
            f"The savings advisor found {_usd(usd_month)} a month {team} could stop paying: "
            "artefact storage without lifecycle rules and on-demand compute that spot could run."
        ),
        details={"figures": {"Per month": _usd(usd_month), "Findings": str(len(items))}, "items": list(items)},
        dedup_key=f"savings#{team}#{month}",
        occurred_at=now,
    )


def storage_blocked(team: str, count: int, cap: int, now: datetime) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.SAVINGS,
        severity=Severity.CRITICAL,
        team=team,
        title=f"Lifecycle apply blocked: {count} buckets exceed the cap of {cap}",
        summary=(
            f"storage.action is apply, but {count} buckets qualified, more than storage.max_actions_per_run ({cap}): "
            "no rule was put. Check the list, then raise the cap or narrow storage.apply_environments."
        ),
        details={"figures": {"Buckets": str(count), "Cap": str(cap)}},
        dedup_key=f"savings#storage-blocked#{now.strftime('%Y-%m-%d')}",
        occurred_at=now,
    )


def commitment(alert: CommitmentAlert, team: str, now: datetime) -> AlertEvent:
    c = alert.commitment
    figures = {"Kind": c.kind.replace("_", " ")}
    if c.utilisation_pct is not None:
        figures["Utilisation"] = f"{c.utilisation_pct:.1f} %"
    if c.ends is not None:
        figures["Ends"] = c.ends.isoformat()
    title = (
        f"Commitment {c.id[:40]} used {c.utilisation_pct:.0f} %"
        if alert.reason == "low_utilisation" and c.utilisation_pct is not None
        else f"Commitment {c.id[:40]} ends {c.ends}"
    )
    return AlertEvent(
        kind=AlertKind.COMMITMENT,
        severity=Severity(alert.severity),
        team=team,
        title=title,
        summary=alert.message,
        details={"figures": figures, "commitment": c.to_dict(now.date())},
        dedup_key=alert.dedup,
        occurred_at=now,
    )


def purchase(recommendation: PlanRecommendation, team: str, now: datetime) -> AlertEvent:
    r = recommendation
    saves = "" if r.estimated_monthly_savings_usd is None else f", about {_usd(r.estimated_monthly_savings_usd)}/month"
    return AlertEvent(
        kind=AlertKind.COMMITMENT,
        severity=Severity.INFO,
        team=team,
        title=f"Savings Plan: commit {r.hourly_commitment_usd:.2f} USD/h ({r.plan_type})",
        summary=(
            f"Production inference of {', '.join(r.teams)} has been stable for the configured window: a 1-year "
            f"no-upfront {r.plan_type} at {r.hourly_commitment_usd:.2f} USD/h covers its floor{saves}."
        ),
        details={
            "figures": {"Commitment": f"{r.hourly_commitment_usd:.2f} USD/h", "Teams": ", ".join(r.teams)},
            "items": list(r.notes),
            "recommendation": r.to_dict(),
        },
        dedup_key=f"commitment#purchase#{r.plan_type}#{now.strftime('%Y-%m')}",
        occurred_at=now,
    )


def report(
    team: TeamReport, rep: MonthlyReport, url: str | None, valid_until: datetime | None, now: datetime
) -> AlertEvent:
    change = team.change_pct(rep.projection)
    figures = {
        rep.month: _usd(team.this_usd),
        rep.last_month: _usd(team.last_usd),
        "Change": "new" if change is None else f"{change:+.1f} %",
    }
    if team.budget is not None:
        figures["Budget"] = team.budget.status.replace("_", " ")
    if team.savings_usd_month:
        figures["Savings on the table"] = f"{_usd(team.savings_usd_month)}/month"
    top = next(iter(team.by_dimension.items()), None)
    items = [] if top is None else [f"{top[0]} {v}: {_usd(t)}" for v, t, _ in top[1][:5]]
    if url is None:
        link = ""
    elif valid_until is not None:
        link = f" Report: {url} (link valid until {valid_until.strftime('%Y-%m-%d %H:%M UTC')})"
    else:
        link = (
            f" Report: {url} (a pre-signed link: it expires within days; `costwarden report --month {rep.month}` "
            "writes the same file again)"
        )
    return AlertEvent(
        kind=AlertKind.REPORT,
        severity=Severity.INFO,
        team=team.team,
        title=f"{team.team}: cost report for {rep.month}",
        summary=f"{_usd(team.this_usd)} in {rep.month} against {_usd(team.last_usd)} in {rep.last_month}.{link}",
        details={"figures": figures, "items": items, "url": url},
        dedup_key=f"report#{team.team}#{rep.month}",
        occurred_at=now,
    )
