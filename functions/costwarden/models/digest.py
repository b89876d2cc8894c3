"""What the digest is composed from: plain, validated facts the producers already have.

The cost monitor fills ``DigestInput`` from its own run (month to date, budgets, forecast, yesterday against the
baseline, open anomaly episodes) and from the state table (reaper decisions under ``audit#<date>``, the latest tag
audit's untagged share, expiry warnings due). Nothing here knows where a fact came from, so the digest can be
composed and tested without AWS.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from costwarden.models.k8s_digest import K8sSection

BudgetStatus = Literal["ON_TRACK", "AT_RISK", "OVER_BUDGET", "NO_BUDGET"]
#: Worst first: the order budget statuses are counted and shown in.
BUDGET_STATUSES: tuple[BudgetStatus, ...] = ("OVER_BUDGET", "AT_RISK", "ON_TRACK", "NO_BUDGET")
AnomalySeverity = Literal["warning", "critical"]
ReaperStatus = Literal["planned", "done", "skipped", "failed"]
#: Most important first: the order reaper lines are picked for the digest.
REAPER_STATUSES: tuple[ReaperStatus, ...] = ("failed", "done", "skipped", "planned")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamRow(_Model):
    """One team's month and yesterday, as the cost monitor computed them."""

    team: str = Field(min_length=1, max_length=256)
    month_to_date_usd: float
    budget_usd: float | None = Field(None, gt=0)
    budget_status: BudgetStatus = "NO_BUDGET"
    projected_month_end_usd: float
    forecast_low_usd: float
    forecast_high_usd: float
    yesterday_usd: float
    baseline_usd: float
    #: yesterday / baseline; ``None`` when there is no baseline yet (new team, short history).
    change_ratio: float | None = None

    @model_validator(mode="after")
    def _status_matches_budget(self) -> TeamRow:
        if (self.budget_usd is None) != (self.budget_status == "NO_BUDGET"):
            raise ValueError(
                f"team {self.team!r}: budget_status {self.budget_status} does not match budget_usd {self.budget_usd}"
            )
        if self.forecast_low_usd > self.forecast_high_usd:
            raise ValueError(f"team {self.team!r}: forecast_low_usd is above forecast_high_usd")
        return self

    @property
    def change_usd(self) -> float:
        """Yesterday minus the baseline: how much the team moved, in dollars."""
        return self.yesterday_usd - self.baseline_usd

    @property
    def budget_used(self) -> float | None:
        """Projected month end as a share of the budget (1.0 = exactly on budget)."""
        return None if self.budget_usd is None else self.projected_month_end_usd / self.budget_usd


class OpenAnomaly(_Model):
    """An anomaly episode still open (alerted, not yet back to normal)."""

    team: str = Field(min_length=1, max_length=256)
    date: dt.date
    severity: AnomalySeverity
    ratio: float
    impact_usd: float
    top_service: str | None = None
    #: The day is still marked ``Estimated`` by Cost Explorer: the finding may be retracted.
    estimated: bool = False
    #: Slack user id of who acknowledged the episode from Slack (issue 13), if anyone: who owns it.
    acknowledged_by: str | None = Field(None, pattern=r"^[UW][A-Z0-9]{1,31}$")


class UntaggedShare(_Model):
    """Share of spend without a team, from the tag audit: the last ``window_days`` against the window before."""

    window_days: int = Field(7, ge=1)
    share_pct: float = Field(ge=0, le=100)
    previous_share_pct: float | None = Field(None, ge=0, le=100)
    untagged_usd: float | None = None
    measured_on: dt.date | None = None

    @property
    def trend_pts(self) -> float | None:
        """Change in percentage points against the previous window (positive = more untagged spend)."""
        return None if self.previous_share_pct is None else self.share_pct - self.previous_share_pct


class ReaperDecision(_Model):
    """One reaper audit record (``audit#<date>`` in the state table)."""

    resource: str = Field(min_length=1)
    resource_type: str | None = None
    team: str | None = None
    action: str
    status: ReaperStatus
    reason: str = ""
    at: datetime | None = None


class ReaperActivity(_Model):
    """What the reaper decided in the last 24 h; hourly dry runs repeat decisions, the latest per resource counts."""

    dry_run: bool = True
    decisions: tuple[ReaperDecision, ...] = ()

    def latest(self, team: str | None = None) -> list[ReaperDecision]:
        """One decision per resource (the latest), optionally only a team's, in input order."""
        by_resource: dict[str, ReaperDecision] = {}
        for decision in self.decisions:
            if team is not None and decision.team != team:
                continue
            current = by_resource.get(decision.resource)
            if current is None or _when(decision) >= _when(current):
                by_resource[decision.resource] = decision
        return list(by_resource.values())


def _when(decision: ReaperDecision) -> datetime:
    return decision.at or datetime.min.replace(tzinfo=UTC)


class ExpiringResource(_Model):
    """A resource whose ``expires_at`` falls within the next 72 hours."""

    resource: str = Field(min_length=1)
    resource_type: str | None = None
    team: str | None = None
    expires_at: datetime

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class PoolRow(_Model):
    """One team's production and experiment pools this month (issue 15); ``None`` budget: a pool not configured."""

    team: str = Field(min_length=1, max_length=256)
    production_usd: float
    production_budget_usd: float | None = None
    production_projected_usd: float | None = None
    production_status: BudgetStatus = "NO_BUDGET"
    experiment_usd: float
    experiment_budget_usd: float | None = None
    #: Actual month-to-date share of the experiment pool (the experiment pool is judged on spend, not projection).
    experiment_share: float | None = None
    experiment_status: BudgetStatus = "NO_BUDGET"
    #: Spend of the team in no pool (environment untagged or unmapped): shown, never put in a pool.
    unassigned_usd: float = 0.0


class SavingsOnTable(_Model):
    """The latest savings advisor run's findings: USD per month per team (storage lifecycle, spot)."""

    teams: dict[str, float] = Field(default_factory=dict)
    as_of: datetime | None = None

    def usd_month(self, team: str | None = None) -> float:
        return sum(v for t, v in self.teams.items() if team is None or t == team)


class IdleTeam(_Model):
    """One team's idle findings in the latest idle scan."""

    resources: int = Field(ge=0)
    waste_usd: float = Field(ge=0)


class IdleSummary(_Model):
    """The latest idle scan ("Idle: N resources, X USD/month"), as the idle finder stored it."""

    scanned_at: datetime
    resources: int = Field(ge=0)
    waste_usd: float = Field(ge=0)
    other_usd: float = Field(ge=0)
    unpriced: int = Field(ge=0)
    teams: dict[str, IdleTeam] = Field(default_factory=dict)


class BedrockTeamDay(_Model):
    """One team's Bedrock day: the guard's estimate (token counts x prices) beside the bill's line items."""

    estimate_usd: float
    billed_usd: float


class BedrockDay(_Model):
    """The Bedrock guard's latest reconciled day (``core.keys.BEDROCK_RECONCILED_PK``)."""

    day: dt.date
    teams: dict[str, BedrockTeamDay] = Field(default_factory=dict)


class UnitCostMove(_Model):
    """A unit cost that moved yesterday against its own usual (issue 26): the digest's unit-cost lines."""

    team: str = Field(min_length=1, max_length=256)
    model: str = Field(min_length=1, max_length=256)
    unit: str = Field(min_length=1, max_length=40)
    #: The unit in words (``1k predictions``), as every reader shows it.
    per: str = Field(min_length=1, max_length=60)
    date: dt.date
    usd_per_unit: float = Field(ge=0)
    baseline_usd: float = Field(gt=0)
    #: ``usd_per_unit / baseline_usd - 1`` (0.5: up 50 %).
    change: float


class DigestInput(_Model):
    """Everything one day's digest shows. Lists may be long (hundreds of teams); ``compose`` caps what it sends."""

    date: dt.date
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    currency: Literal["USD"] = "USD"
    teams: tuple[TeamRow, ...] = ()
    anomalies: tuple[OpenAnomaly, ...] = ()
    untagged: UntaggedShare | None = None
    reaper: ReaperActivity | None = None
    expiring: tuple[ExpiringResource, ...] = ()
    #: Production and experiment pools of the teams that have them (issue 15).
    pools: tuple[PoolRow, ...] = ()
    #: The savings advisor's latest findings (``None`` until it has run).
    savings: SavingsOnTable | None = None
    #: The latest idle scan's summary (None: the idle finder has not run, or not in the last 48 hours).
    idle: IdleSummary | None = None
    #: The month's EKS cost by namespace, workload, team and unused GPU per node pool (None: not guarded).
    kubernetes: K8sSection | None = None
    #: The Bedrock guard's latest reconciled day (None: no guard, or nothing reconciled in the last two days).
    bedrock: BedrockDay | None = None
    #: Days Cost Explorer still marks ``Estimated`` (numbers for them can still change).
    estimated_dates: tuple[dt.date, ...] = ()
    #: Other data freshness notes, one short sentence each ("tag audit last ran 6 days ago").
    notes: tuple[str, ...] = ()
    #: Yesterday's unit costs that moved (the unit-cost run's record; empty until it has run).
    unit_costs: tuple[UnitCostMove, ...] = ()

    @field_validator("generated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _unique_teams(self) -> DigestInput:
        counts = Counter(row.team for row in self.teams)
        duplicates = sorted(team for team, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"teams listed more than once: {duplicates[:5]}")
        return self
