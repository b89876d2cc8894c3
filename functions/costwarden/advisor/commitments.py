"""Commitments: are the reservations and Savings Plans used, when do they end, and is a new plan justified?

The source's advice, made rules: review utilisation monthly (an unused reservation still bills: below
``min_utilisation`` is a warning), warn 60 and 30 days before a commitment ends (it silently falls back to
on-demand), prefer Savings Plans to reserved instances for ML (instance families change), and commit only to an
*established* baseline: a purchase recommendation is shown for a team only when its production inference spend has
been stable for at least ``stable_days`` (90) in Costwarden's own history — Cost Explorer's recommendation looks back
60 days at most — and the hourly commitment is sized to the stable floor (a low quantile), not the mean.

Inputs are the Cost Explorer / Savings Plans responses as plain dicts (the adapter's pages); figures come back as
``Decimal``-free floats, and every figure Cost Explorer does not give is ``None`` with a reason, never a guess.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from costwarden.core.keys import CommitmentKey
from costwarden.core.money import usd


@dataclass(frozen=True)
class Commitment:
    """One reservation or Savings Plan with last period's utilisation."""

    kind: str  # "reserved_instance" | "savings_plan"
    id: str
    description: str
    utilisation_pct: float | None
    unused_usd: float | None
    ends: date | None
    commitment_usd_per_hour: float | None = None

    def days_left(self, today: date) -> int | None:
        return None if self.ends is None else (self.ends - today).days

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "description": self.description,
            "utilisation_pct": self.utilisation_pct,
            "unused_usd": self.unused_usd,
            "ends": self.ends.isoformat() if self.ends else None,
            "days_left": self.days_left(today),
            "commitment_usd_per_hour": self.commitment_usd_per_hour,
        }


@dataclass(frozen=True)
class CommitmentAlert:
    """One thing to tell the operator; ``dedup`` makes it once per commitment and threshold (or month)."""

    commitment: Commitment
    reason: str  # "low_utilisation" | "expiry"
    message: str
    dedup: str
    severity: str


def _float(value: Any) -> float | None:
    """A figure of a response as a finite float; None when it is missing or no figure (NaN and infinities are
    unknown, never a figure to size a purchase with)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _date(value: Any) -> date | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).date()


def reservations(pages: Iterable[Mapping[str, Any]]) -> list[Commitment]:
    """Reserved instances from ``GetReservationUtilization`` grouped by ``SUBSCRIPTION_ID`` (the latest period)."""
    latest: dict[str, Commitment] = {}
    for page in pages:
        for period in page.get("UtilizationsByTime", []):
            for group in period.get("Groups", []):
                attrs = group.get("Attributes", {})
                util = group.get("Utilization", {})
                rid = str(group.get("Value") or attrs.get("subscriptionId") or attrs.get("leaseId") or "?")
                count = attrs.get("numberOfInstances")
                what = " ".join(p for p in (count and f"{count}x", attrs.get("instanceType"), attrs.get("region")) if p)
                latest[rid] = Commitment(
                    kind="reserved_instance",
                    id=rid,
                    description=what or "reserved instance",
                    utilisation_pct=_float(util.get("UtilizationPercentage")),
                    unused_usd=_float(util.get("RICostForUnusedHours")),
                    ends=_date(attrs.get("endDateTime")),
                )
    return list(latest.values())


def savings_plans(
    utilisation_pages: Iterable[Mapping[str, Any]], described: Iterable[Mapping[str, Any]]
) -> list[Commitment]:
    """Savings Plans: utilisation from ``GetSavingsPlansUtilizationDetails``, end and commitment from
    ``DescribeSavingsPlans`` (active plans only; a plan without utilisation data has ``None``)."""
    util: dict[str, Mapping[str, Any]] = {}
    for page in utilisation_pages:
        for detail in page.get("SavingsPlansUtilizationDetails", []):
            util[str(detail.get("SavingsPlanArn"))] = detail
    out: list[Commitment] = []
    for plan in described:
        if str(plan.get("state", "")).lower() not in ("active", "queued"):
            continue
        arn = str(plan.get("savingsPlanArn"))
        detail = util.get(arn, {})
        u = detail.get("Utilization", {})
        family = plan.get("ec2InstanceFamily")
        what = f"{plan.get('savingsPlanType', '?')} plan{f' ({family})' if family else ''}"
        out.append(
            Commitment(
                kind="savings_plan",
                id=str(plan.get("savingsPlanId") or arn),
                description=f"{what}, {plan.get('commitment', '?')} USD/h",
                utilisation_pct=_float(u.get("UtilizationPercentage")),
                unused_usd=_float(u.get("UnusedCommitment")),
                ends=_date(plan.get("end")),
                commitment_usd_per_hour=_float(plan.get("commitment")),
            )
        )
    return out


def coverage_pct(
    reservation_coverage: Iterable[Mapping[str, Any]], sp_coverage: Iterable[Mapping[str, Any]]
) -> dict[str, float | None]:
    """Share of eligible usage covered: RI hours (``GetReservationCoverage``) and SP spend (``...Coverage``)."""
    ri: float | None = None
    for page in reservation_coverage:
        periods = page.get("CoveragesByTime", [])
        total = page.get("Total") or (periods[-1].get("Total", {}) if periods else {})
        ri = _float(total.get("CoverageHours", {}).get("CoverageHoursPercentage"))
    covered = on_demand = 0.0
    seen = False
    for page in sp_coverage:
        for item in page.get("SavingsPlansCoverages", []):
            c = item.get("Coverage", {})
            covered += _float(c.get("SpendCoveredBySavingsPlans")) or 0.0
            on_demand += _float(c.get("OnDemandCost")) or 0.0
            seen = True
    sp = round(covered / (covered + on_demand) * 100, 1) if seen and covered + on_demand > 0 else None
    return {"reserved_instances_hours_pct": ri, "savings_plans_spend_pct": sp}


def judge(
    commitments: Sequence[Commitment],
    *,
    today: date,
    min_utilisation_pct: float,
    expiry_warn_days: Sequence[int],
) -> list[CommitmentAlert]:
    """Low utilisation (once a month) and expiry within each threshold (once per threshold)."""
    alerts: list[CommitmentAlert] = []
    month = today.strftime("%Y-%m")
    for c in commitments:
        if c.utilisation_pct is not None and c.utilisation_pct < min_utilisation_pct:
            unused = f"; {usd(c.unused_usd)} paid for unused capacity" if c.unused_usd else ""
            alerts.append(
                CommitmentAlert(
                    c,
                    "low_utilisation",
                    f"{c.description} ({c.id}) used {c.utilisation_pct:.1f} % (below {min_utilisation_pct:g} %)"
                    f"{unused}: an unused commitment still bills",
                    CommitmentKey(CommitmentKey.UTILISATION, c.id, month).to_str(),
                    "warning",
                )
            )
        left = c.days_left(today)
        if left is None or left < 0:
            continue
        crossed = [d for d in sorted(expiry_warn_days) if left <= d]
        if crossed:
            threshold = crossed[0]
            alerts.append(
                CommitmentAlert(
                    c,
                    "expiry",
                    f"{c.description} ({c.id}) ends {c.ends} ({left} days): renew, replace with a Savings Plan, "
                    "or let the usage fall back to on-demand knowingly",
                    CommitmentKey(CommitmentKey.EXPIRY, c.id, str(threshold)).to_str(),
                    "warning" if threshold == min(expiry_warn_days) else "info",
                )
            )
    return alerts


@dataclass(frozen=True)
class Stability:
    team: str
    days: int
    stable: bool
    floor_daily_usd: float | None
    mean_daily_usd: float | None
    reason: str


def stability(
    team: str, daily: Sequence[tuple[date, float]], *, stable_days: int, max_spread: float, floor_quantile: float
) -> Stability:
    """Is the team's production inference spend an established baseline? ``daily`` is Costwarden's own history.

    Stable: at least ``stable_days`` consecutive days with spend, none missing, and the spread between the 90th
    and 10th percentiles within ``max_spread`` of the median. The floor is the ``floor_quantile`` of those days.
    """
    series = sorted(daily)[-stable_days:] if daily else []
    if len(series) < stable_days:
        return Stability(team, len(series), False, None, None, f"{len(series)} of {stable_days} days of history")
    days = [d for d, _ in series]
    if (days[-1] - days[0]).days != stable_days - 1:
        return Stability(team, len(series), False, None, None, "gaps in the history")
    values = sorted(v for _, v in series)
    if values[0] <= 0:
        return Stability(team, len(series), False, None, None, "days without inference spend")
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    median = statistics.median(values)
    spread = (deciles[-1] - deciles[0]) / median
    floor = statistics.quantiles(values, n=100, method="inclusive")[max(int(floor_quantile * 100) - 1, 0)]
    mean = statistics.fmean(values)
    if spread > max_spread:
        return Stability(team, len(series), False, floor, mean, f"spread {spread:.0%} above {max_spread:.0%}")
    return Stability(team, len(series), True, floor, mean, f"stable {stable_days} days (spread {spread:.0%})")


@dataclass(frozen=True)
class PlanRecommendation:
    """A Savings Plan purchase sized to the stable floor of the teams whose baseline is established."""

    plan_type: str
    teams: tuple[str, ...]
    hourly_commitment_usd: float
    api_hourly_commitment_usd: float | None
    estimated_savings_pct: float | None
    estimated_monthly_savings_usd: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_type": self.plan_type,
            "teams": list(self.teams),
            "hourly_commitment_usd": self.hourly_commitment_usd,
            "api_hourly_commitment_usd": self.api_hourly_commitment_usd,
            "estimated_savings_pct": self.estimated_savings_pct,
            "estimated_monthly_savings_usd": self.estimated_monthly_savings_usd,
            "notes": list(self.notes),
        }


HOURS_PER_MONTH = 730


def stable_floor_hourly(stable: Sequence[Stability]) -> float:
    """On-demand USD per hour of the stable teams' floors: what commitments may cover, at most, in all."""
    return sum(s.floor_daily_usd or 0 for s in stable if s.stable) / 24


def recommend_plan(
    plan_type: str,
    api_summary: Mapping[str, Any] | None,
    stable: Sequence[Stability],
    floor_hourly_on_demand: float | None = None,
) -> PlanRecommendation | None:
    """The plan to buy, or None: no team is stable, the API recommends nothing, or the plan would save nothing
    (an estimated saving of 0 % or below: a commitment that costs on-demand or more is never recommended).

    The commitment is in USD per hour of Savings Plan rates: the stable teams' floor (on-demand USD per hour)
    discounted by the API's estimated savings percentage, and never above the API's own recommendation (it knows
    usage already covered by existing commitments). ``floor_hourly_on_demand`` overrides the stable teams' floor."""
    teams = [s for s in stable if s.stable and s.floor_daily_usd]
    if not teams or not api_summary:
        return None
    api_hourly = _float(api_summary.get("HourlyCommitmentToPurchase"))
    pct = _float(api_summary.get("EstimatedSavingsPercentage"))
    if not api_hourly or api_hourly <= 0 or pct is None or pct <= 0:
        return None
    if floor_hourly_on_demand is None:
        floor_hourly_on_demand = stable_floor_hourly(teams)
    sized = min(floor_hourly_on_demand * (1 - pct / 100), api_hourly)
    if sized <= 0 or pct >= 100:
        return None
    monthly = sized / (1 - pct / 100) * pct / 100 * HOURS_PER_MONTH if pct < 100 else None
    notes = [
        "sized to the stable floor of production inference spend, not the mean; commit to 1 year, no upfront",
        "Savings Plans before reserved instances: ML instance families change",
    ]
    if sized < api_hourly:
        notes.append(f"below Cost Explorer's {api_hourly:.3f} USD/h, which follows the 60-day mean")
    return PlanRecommendation(
        plan_type=plan_type,
        teams=tuple(s.team for s in teams),
        hourly_commitment_usd=round(sized, 3),
        api_hourly_commitment_usd=api_hourly,
        estimated_savings_pct=pct,
        estimated_monthly_savings_usd=None if monthly is None else round(monthly, 2),
        notes=tuple(notes),
    )
