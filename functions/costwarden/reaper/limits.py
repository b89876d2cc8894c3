"""Development instance-count limits (issue 15): count, judge, and pick the newest resources beyond a limit.

Counted: running EC2 instances, SageMaker notebooks in service and training jobs in progress (registry types with
``limit_counted``) whose environment tag maps to the experiment pool (``budgets.pools.environments``), per team
with ``teams.<team>.limits``. A training job counts its instance count; GPUs come from ``reaper.gpus``.

At a limit the team is warned, naming its newest resources. Over it with ``limits.action: stop`` the newest
resources are picked until the team is back within both limits. A resource is picked only if it reduces an excess
(a CPU instance does not help a GPU excess). The one guard (``model.guard_reason``: protect tag; production is
never touched here, whatever ``reaper.allow_production`` says) is asked for every pick: a guarded resource is
skipped with the reason and the next newest is taken instead. The caller applies the run cap and the dry run, and
audits every decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from costwarden.reaper.gpus import gpus_for
from costwarden.resources import REGISTRY
from costwarden.resources.model import Decision, Resource, Status, guard_reason
from costwarden.settings import Settings, TeamLimits

#: States in which a counted resource is running (and costing).
RUNNING_STATES = frozenset({"pending", "running", "InService", "Pending", "InProgress"})
STOP_ACTION = "stop"

Level = Literal["under", "at", "over"]


@dataclass(frozen=True)
class Counted:
    resource: Resource
    instances: int
    gpus: int
    created_at: str

    def line(self) -> str:
        kind = str(self.resource.details.get("instance_type") or "unknown type")
        count = f"{self.instances} x " if self.instances > 1 else ""
        started = self.created_at[:16].replace("T", " ") or "start unknown"
        return f"{self.resource.type} {self.resource.id} ({count}{kind}, {self.gpus} GPU, since {started})"


@dataclass
class TeamCount:
    team: str
    limits: TeamLimits
    resources: list[Counted] = field(default_factory=list)
    """Newest first."""

    @property
    def instances(self) -> int:
        return sum(c.instances for c in self.resources)

    @property
    def gpus(self) -> int:
        return sum(c.gpus for c in self.resources)

    @property
    def level(self) -> Level:
        pairs = [(self.instances, self.limits.development_instances), (self.gpus, self.limits.development_gpus)]
        if any(limit is not None and used > limit for used, limit in pairs):
            return "over"
        if any(limit is not None and used == limit for used, limit in pairs):
            return "at"
        return "under"

    def as_dict(self) -> dict[str, object]:
        return {
            "team": self.team,
            "instances": self.instances,
            "instance_limit": self.limits.development_instances,
            "gpus": self.gpus,
            "gpu_limit": self.limits.development_gpus,
            "level": self.level,
            "action": self.limits.action,
            "newest": [c.line() for c in self.resources[:5]],
        }


@dataclass
class LimitPlan:
    counts: list[TeamCount] = field(default_factory=list)
    stops: list[Resource] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


def limited_teams(settings: Settings) -> dict[str, TeamLimits]:
    """Teams of the directory with at least one development limit."""
    return {
        team: entry.limits
        for team, entry in settings.teams.items()
        if entry.limits.development_instances is not None or entry.limits.development_gpus is not None
    }


def is_counted(resource: Resource, settings: Settings) -> bool:
    """A running, limit-counted resource in an environment of the experiment pool."""
    rtype = REGISTRY.get(resource.type)
    environment = resource.tags.get(settings.tags.environment_key, "").strip().lower()
    return (
        rtype is not None
        and rtype.limit_counted
        and resource.active
        and resource.state in RUNNING_STATES
        and environment in settings.budgets.pools.experiment_environments()
    )


def count(resources: Sequence[Resource], settings: Settings) -> list[TeamCount]:
    """Per limited team, its counted resources (newest first); teams with nothing running are listed too."""
    teams = limited_teams(settings)
    out = {team: TeamCount(team, limits) for team, limits in sorted(teams.items())}
    for resource in resources:
        team = resource.tags.get(settings.tags.team_key, "")
        if team not in out or not is_counted(resource, settings):
            continue
        instances = int(resource.details.get("instance_count", 1) or 1)
        gpus, _known = gpus_for(str(resource.details.get("instance_type", "")))
        created = resource.started_at.isoformat() if resource.started_at else ""
        out[team].resources.append(Counted(resource, instances, gpus * instances, created))
    for entry in out.values():
        entry.resources.sort(key=lambda c: (c.created_at, c.resource.arn), reverse=True)
    return list(out.values())


def _reason(entry: TeamCount) -> str:
    limits = entry.limits
    parts = []
    if limits.development_instances is not None:
        parts.append(f"{entry.instances} development instances (limit {limits.development_instances})")
    if limits.development_gpus is not None:
        parts.append(f"{entry.gpus} development GPUs (limit {limits.development_gpus})")
    return f"over the development limit of team {entry.team}: " + ", ".join(parts)


def _excess(used: int, limit: int | None) -> int:
    return 0 if limit is None else max(used - limit, 0)


def plan(resources: Sequence[Resource], settings: Settings) -> LimitPlan:
    """Counts for every limited team, and for teams over a limit with ``action: stop`` the resources to stop."""
    result = LimitPlan(counts=count(resources, settings))
    policy = settings.tags
    for entry in result.counts:
        if entry.level != "over" or entry.limits.action != "stop":
            continue
        why = _reason(entry)
        need_instances = _excess(entry.instances, entry.limits.development_instances)
        need_gpus = _excess(entry.gpus, entry.limits.development_gpus)
        for counted in entry.resources:  # newest first
            if need_instances <= 0 and need_gpus <= 0:
                break
            if need_instances <= 0 and counted.gpus == 0:
                continue  # a CPU resource does not bring a GPU excess down
            resource = counted.resource
            decision = Decision(
                arn=resource.arn,
                type=resource.type,
                region=resource.region,
                team=entry.team,
                expires_at=resource.tags.get(policy.expires_key),
                action=STOP_ACTION,
                status=Status.PLANNED,
                reason=f"{why}; newest beyond the limit",
                id=resource.id,
            )
            guarded = guard_reason(resource.tags, policy, allow_production=False)
            if guarded:
                skipped = f"{why}; newest beyond the limit but {guarded}: skipped, the next newest taken instead"
                result.decisions.append(replace(decision, action="none", status=Status.SKIPPED, reason=skipped))
                continue
            result.decisions.append(decision)
            result.stops.append(resource)
            need_instances -= counted.instances
            need_gpus -= counted.gpus
    return result
