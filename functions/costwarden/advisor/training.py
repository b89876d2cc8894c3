"""SageMaker training jobs in the purchase mix: which ran on managed spot, and which on-demand ones could have.

Cost Explorer cannot tell a managed-spot training job from an on-demand one by purchase type (both are SageMaker
``Train:ml.*`` usage), so the spot share of training is measured from the jobs themselves: instance-hours of jobs
with ``EnableManagedSpotTraining`` over all jobs' instance-hours. The on-demand jobs are named, with their instance
family, and priced: instance-hours x the team's measured on-demand rate for that type (Cost Explorer's cost / hours
of ``Train:<type>``), on spot at the configured discount plus the 10 % interruption allowance; ``None`` with the
reason where either rate is missing (SageMaker's ``ml.*`` types have no EC2 spot price history).

The recovery's rule "never count spot savings without checkpoint-and-restart" is kept: a job without a
``CheckpointConfig`` restarts from zero after an interruption, so it is named "spot only with checkpoint-and-restart"
and its saving is not counted in the team's total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costwarden.advisor.spot_terms import ALLOWANCE, family_of

NEEDS_CHECKPOINTING = "spot only with checkpoint-and-restart"
#: The recommendation for a job whose spot estimate costs as much as on-demand or more.
STAY_ON_DEMAND = "stay on-demand"


@dataclass(frozen=True)
class TrainingJob:
    """What the advisor needs of one training job (from SageMaker ``Search`` results)."""

    name: str
    team: str
    instance_type: str
    instance_count: int
    seconds: float
    managed_spot: bool
    checkpointing: bool
    created: datetime

    @property
    def instance_hours(self) -> float:
        return self.seconds * self.instance_count / 3600


def parse_job(item: Mapping[str, Any], *, team_key: str, unowned: str) -> TrainingJob | None:
    """A ``Search`` result's ``TrainingJob`` as a :class:`TrainingJob`; None when it has no instance type (a job
    on a warm pool or heterogeneous cluster the advisor cannot price) or never ran."""
    job = item.get("TrainingJob", item)
    resources = job.get("ResourceConfig") or {}
    instance_type = resources.get("InstanceType")
    if not instance_type:
        return None
    tags = {t.get("Key"): t.get("Value") for t in job.get("Tags", []) or []}
    managed_spot = bool(job.get("EnableManagedSpotTraining", False))
    # TrainingTimeInSeconds is what an on-demand job bills; a running job has none yet: measure it to now.
    seconds = job.get("TrainingTimeInSeconds")
    if seconds is None:
        start, end = job.get("TrainingStartTime"), job.get("TrainingEndTime")
        seconds = (end - start).total_seconds() if start is not None and end is not None else 0
    return TrainingJob(
        name=str(job["TrainingJobName"]),
        team=str(tags.get(team_key) or unowned),
        instance_type=str(instance_type),
        instance_count=int(resources.get("InstanceCount", 1) or 1),
        seconds=float(seconds),
        managed_spot=managed_spot,
        checkpointing=bool(job.get("CheckpointConfig")),
        created=job["CreationTime"],
    )


@dataclass
class JobCandidate:
    """An on-demand training job that could have run on managed spot."""

    job: TrainingJob
    on_demand_usd: float | None
    spot_usd: float | None
    priced_by: str

    @property
    def counted(self) -> bool:
        """Only checkpointed jobs' savings count: without checkpoints an interruption loses the whole run."""
        return self.job.checkpointing

    @property
    def savings_usd(self) -> float | None:
        if self.on_demand_usd is None or self.spot_usd is None:
            return None
        return max(self.on_demand_usd - self.spot_usd, 0.0)

    @property
    def worth_it(self) -> bool | None:
        """Managed spot costs less than on-demand; None when either could not be priced."""
        if self.on_demand_usd is None or self.spot_usd is None:
            return None
        return self.spot_usd < self.on_demand_usd

    def recommendation(self) -> str:
        if self.worth_it is False:
            return STAY_ON_DEMAND
        return "managed spot" if self.counted else NEEDS_CHECKPOINTING

    def to_dict(self) -> dict[str, Any]:
        savings = self.savings_usd
        return {
            "job": self.job.name,
            "instance_type": self.job.instance_type,
            "instance_family": family_of(self.job.instance_type),
            "instance_count": self.job.instance_count,
            "instance_hours": round(self.job.instance_hours, 2),
            "checkpointing": self.job.checkpointing,
            "recommendation": self.recommendation(),
            "worth_it": self.worth_it,
            "on_demand_usd": None if self.on_demand_usd is None else round(self.on_demand_usd, 2),
            "spot_usd": None if self.spot_usd is None else round(self.spot_usd, 2),
            "savings_usd": None if savings is None else round(savings, 2),
            "savings_counted": self.counted and savings is not None,
            "priced_by": self.priced_by,
        }


@dataclass
class TeamTraining:
    team: str
    jobs: int = 0
    spot_jobs: int = 0
    instance_hours: float = 0.0
    spot_instance_hours: float = 0.0
    #: Instance types of every job read (spot or not): Cost Explorer's aggregate for these is superseded.
    instance_types: set[str] = field(default_factory=set)
    candidates: list[JobCandidate] = field(default_factory=list)

    @property
    def spot_share(self) -> float | None:
        return None if self.instance_hours <= 0 else self.spot_instance_hours / self.instance_hours

    @property
    def could_save_usd(self) -> float:
        """Checkpointed on-demand jobs only (see the module docstring)."""
        return sum(c.savings_usd or 0.0 for c in self.candidates if c.counted)

    def families(self) -> dict[str, float]:
        """Instance family → counted saving, the families worth moving first."""
        out: dict[str, float] = {}
        for c in self.candidates:
            family = family_of(c.job.instance_type)
            out[family] = out.get(family, 0.0) + (c.savings_usd or 0.0 if c.counted else 0.0)
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))}

    def to_dict(self) -> dict[str, Any]:
        share = self.spot_share
        return {
            "jobs": self.jobs,
            "managed_spot_jobs": self.spot_jobs,
            "spot_share_pct": None if share is None else round(share * 100, 1),
            "could_save_usd": round(self.could_save_usd, 2),
            "instance_families": self.families(),
            "on_demand_jobs": [c.to_dict() for c in self.candidates],
        }


def _price(job: TrainingJob, rate: float | None, spot_discount: float | None) -> tuple[float | None, float | None, str]:
    if rate is None:
        return None, None, f"no on-demand Train:{job.instance_type} usage in Cost Explorer to rate this team's hours"
    on_demand = job.instance_hours * rate
    if spot_discount is None:
        return (
            on_demand,
            None,
            "no spot price history for ml.* types and no configured discount (advisor.spot_discount)",
        )
    return (
        on_demand,
        on_demand * (1 - spot_discount) * ALLOWANCE,
        f"on-demand {rate:.4f} USD/h (Cost Explorer) at configured spot discount {spot_discount:.0%}"
        " + 10 % interruption allowance",
    )


def training_mix(
    jobs: Iterable[TrainingJob],
    *,
    rates: Mapping[tuple[str, str], float],
    spot_discount: float | None,
    since: datetime,
) -> dict[str, TeamTraining]:
    """Per team: the managed-spot share of training instance-hours and the on-demand jobs that could be spot.

    ``rates`` is (team, instance type) → measured on-demand USD per instance-hour; jobs created before ``since``
    (the mix window) are left out.
    """
    teams: dict[str, TeamTraining] = {}
    for job in jobs:
        if job.created < since:
            continue
        team = teams.setdefault(job.team, TeamTraining(job.team))
        team.jobs += 1
        team.instance_types.add(job.instance_type)
        team.instance_hours += job.instance_hours
        if job.managed_spot:
            team.spot_jobs += 1
            team.spot_instance_hours += job.instance_hours
            continue
        if job.instance_hours <= 0:
            continue
        on_demand, spot, priced_by = _price(job, rates.get((job.team, job.instance_type)), spot_discount)
        team.candidates.append(JobCandidate(job, on_demand, spot, priced_by))
    for team in teams.values():
        team.candidates.sort(key=lambda c: (not c.counted, -(c.savings_usd or 0.0), c.job.name))
    return teams
