"""The advisor's alert events: ``savings`` (one per team per month), ``commitment`` (utilisation, expiry, purchase)
and ``report`` (the monthly report's link). Built here, published by the runner, rendered by the notifier's default
layout (``figures`` and ``items``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from costwarden.advisor.commitments import Commitment, CommitmentAlert, PlanRecommendation
from costwarden.advisor.report import MonthlyReport, TeamReport
from costwarden.core.alerts import build
from costwarden.core.keys import CommitmentKey, ReportKey, SavingsKey, StorageBlockedKey
from costwarden.core.money import usd
from costwarden.models.alert import AlertEvent, AlertKind, Severity


def savings(team: str, month: str, usd_month: float, items: Sequence[str], now: datetime) -> AlertEvent:
    return build(
        AlertKind.SAVINGS,
        Severity.INFO,
        team,
        SavingsKey(team, month),
        title=f"{team}: savings on the table: {usd(usd_month)}/month",
        summary=(
            f"The savings advisor found {usd(usd_month)} a month {team} could stop paying: "
            "artefact storage without lifecycle rules and on-demand compute that spot could run."
        ),
        figures={"Per month": usd(usd_month), "Findings": len(items)},
        items=items,
        now=now,
    )


def storage_blocked(team: str, count: int, cap: int, now: datetime) -> AlertEvent:
    return build(
        AlertKind.SAVINGS,
        Severity.CRITICAL,
        team,
        StorageBlockedKey(now.strftime("%Y-%m-%d")),
        title=f"Lifecycle apply blocked: {count} buckets exceed the cap of {cap}",
        summary=(
            f"storage.action is apply, but {count} buckets qualified, more than storage.max_actions_per_run ({cap}): "
            "no rule was put. Check the list, then raise the cap or narrow storage.apply_environments."
        ),
        figures={"Buckets": count, "Cap": cap},
        now=now,
    )


def commitment_name(c: Commitment) -> str:
    """What a person calls the commitment: ``Reserved 4x g4dn.12xlarge us-east-1``, ``Compute Savings Plan (g5),
    $12.50/h``; the id only when the description names nothing (``reserved instance``)."""
    if c.kind == "savings_plan":
        what = c.description.split(",", 1)[0].strip() or "Savings Plan"
        what = what.replace(" plan", " Savings Plan", 1) if "Savings Plan" not in what else what
        rate = c.commitment_usd_per_hour
        return f"{what}, {usd(rate, cents=True)}/h" if rate is not None else what
    described = c.description.strip()
    if not described or described == "reserved instance":
        return f"Reserved instance {c.id[:40]}"
    return f"Reserved {described}"


def commitment(alert: CommitmentAlert, team: str, now: datetime) -> AlertEvent:
    c = alert.commitment
    figures = {"Kind": c.kind.replace("_", " "), "Id": c.id[:80]}
    if c.utilisation_pct is not None:
        figures["Utilisation"] = f"{c.utilisation_pct:.1f} %"
    if c.unused_usd:
        figures["Unused"] = usd(c.unused_usd)
    if c.ends is not None:
        figures["Ends"] = c.ends.isoformat()
    name = commitment_name(c)
    title = (
        f"{name} used {c.utilisation_pct:.0f} %"
        if alert.reason == "low_utilisation" and c.utilisation_pct is not None
        else f"{name} ends {c.ends}"
    )
    key = CommitmentKey.parse(alert.dedup)  # built by advisor.commitments with the same type
    return build(
        AlertKind.COMMITMENT,
        Severity(alert.severity),
        team,
        key,
        title=title,
        summary=alert.message,
        figures=figures,
        extra={"commitment": c.to_dict(now.date())},
        now=now,
    )


def purchase(recommendation: PlanRecommendation, team: str, now: datetime) -> AlertEvent:
    r = recommendation
    saves = "" if r.estimated_monthly_savings_usd is None else f", about {usd(r.estimated_monthly_savings_usd)}/month"
    hourly = f"{usd(r.hourly_commitment_usd, cents=True)}/h"
    return build(
        AlertKind.COMMITMENT,
        Severity.INFO,
        team,
        CommitmentKey(CommitmentKey.PURCHASE, r.plan_type, now.strftime("%Y-%m")),
        title=f"Savings Plan: commit {hourly} ({r.plan_type})",
        summary=(
            f"Production inference of {', '.join(r.teams)} has been stable for the configured window: a 1-year "
            f"no-upfront {r.plan_type} at {hourly} covers its floor{saves}."
        ),
        figures={"Commitment": hourly, "Teams": ", ".join(r.teams)},
        items=r.notes,
        extra={"recommendation": r.to_dict()},
        now=now,
    )


def report(
    team: TeamReport, rep: MonthlyReport, url: str | None, valid_until: datetime | None, now: datetime
) -> AlertEvent:
    change = team.change_pct(rep.projection)
    figures = {
        rep.month: usd(team.this_usd),
        rep.last_month: usd(team.last_usd),
        "Change": "new" if change is None else f"{change:+.1f} %",
    }
    if team.budget is not None:
        figures["Budget"] = team.budget.status.replace("_", " ")
    if team.savings_usd_month:
        figures["Savings on the table"] = f"{usd(team.savings_usd_month)}/month"
    top = next(iter(team.by_dimension.items()), None)
    items = [] if top is None else [f"{top[0]} {v}: {usd(t)}" for v, t, _ in top[1][:5]]
    # The link is a ``details["links"]`` entry (Slack: ``<url|Open the November report>``), never the raw
    # pre-signed URL in the text; the summary says how long it works.
    if url is None:
        link = ""
    elif valid_until is not None:
        link = f" The report link works until {valid_until.strftime('%Y-%m-%d %H:%M UTC')}."
    else:
        link = (
            f" The report link is pre-signed: it expires within days (`costwarden report --month {rep.month}` "
            "writes the same file again)."
        )
    return build(
        AlertKind.REPORT,
        Severity.INFO,
        team.team,
        ReportKey(team.team, rep.month),
        title=f"{team.team}: cost report for {rep.month}",
        summary=f"{usd(team.this_usd)} in {rep.month} against {usd(team.last_usd)} in {rep.last_month}.{link}",
        figures=figures,
        items=items,
        links=[(f"Open the {month_name(rep.month)} report", url)] if url else [],
        extra={"url": url},
        now=now,
    )


def month_name(month: str) -> str:
    """``2026-11`` -> ``November``; anything else as it is."""
    try:
        return datetime.strptime(month, "%Y-%m").strftime("%B")
    except ValueError:
        return month
