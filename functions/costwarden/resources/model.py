"""What the reaper sees (``Resource``) and what it decides (``Decision``): plain data, no boto3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from costwarden.settings import TagPolicy


class Status(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


#: The action recorded for a resource nothing is done to.
NO_ACTION = "none"
#: The action for ``missing_expiry: mark``: tag ``expires_at`` (not destructive).
MARK_ACTION = "mark"

# Tags through which AWS marks a cluster member, in order of precedence (an EKS node is also in an ASG).
EKS_NODEGROUP_TAG = "eks:nodegroup-name"
EKS_CLUSTER_TAG = "eks:cluster-name"
EMR_JOB_FLOW_TAG = "aws:elasticmapreduce:job-flow-id"
ASG_NAME_TAG = "aws:autoscaling:groupName"


@dataclass(frozen=True)
class ParentRef:
    """The cluster a resource belongs to: registry type name and the key that type's resources carry as ``key``."""

    type: str
    key: str

    def __str__(self) -> str:
        return f"{self.type} {self.key}"


@dataclass(frozen=True)
class Member:
    """A running member of a cluster parent (an instance of an ASG, EMR cluster or EKS node group): its tags decide
    whether the parent may be acted on at all."""

    id: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Resource:
    """One resource as inventoried.

    ``key`` identifies the resource within its type and region the way cluster members name their parent (ASG name,
    EMR cluster id, ``cluster/nodegroup`` for EKS). ``active`` is False once it is terminated or being deleted.
    ``termination_protected`` is None when not yet known (EC2 needs one extra call, made only for candidates).
    ``details`` holds what the type's action needs (endpoint config, EKS cluster name, attachment).
    ``members`` (cluster parents only) is None until read — only for parents about to be acted on — then the running
    members; ``members_error`` says why they could not be read (the parent is then not acted on).
    ``started_at`` is when the resource was launched or created, timezone-aware UTC, read from the one date field its
    type declares (``Listing.date_field``: EC2 ``LaunchTime``, EBS ``CreateTime``, ...), or None when the service
    did not say: the anchor of ``reaper.max_lifetime_days``, the development limits' newest-first order and the idle
    finder's "too young to judge".
    """

    arn: str
    type: str
    region: str
    id: str
    tags: Mapping[str, str]
    state: str = ""
    active: bool = True
    key: str = ""
    parent: ParentRef | None = None
    termination_protected: bool | None = False
    details: Mapping[str, Any] = field(default_factory=dict)
    members: tuple[Member, ...] | None = None
    members_error: str = ""
    started_at: datetime | None = None

    @property
    def lookup_key(self) -> tuple[str, str, str]:
        return (self.type, self.region, self.key or self.id)


def parent_from_tags(tags: Mapping[str, str]) -> ParentRef | None:
    """The cluster a resource belongs to, from the tags AWS puts on members (EKS before EMR before ASG)."""
    if EKS_NODEGROUP_TAG in tags:
        cluster = tags.get(EKS_CLUSTER_TAG, "")
        return ParentRef("eks:nodegroup", f"{cluster}/{tags[EKS_NODEGROUP_TAG]}")
    if EMR_JOB_FLOW_TAG in tags:
        return ParentRef("emr:cluster", tags[EMR_JOB_FLOW_TAG])
    if ASG_NAME_TAG in tags:
        return ParentRef("autoscaling:group", tags[ASG_NAME_TAG])
    return None


def is_protected(tags: Mapping[str, str], policy: TagPolicy) -> bool:
    """The configured protect tag (``costwarden:protect=true`` by default), value compared case-insensitively."""
    return tags.get(policy.protect_key, "").strip().lower() == policy.protect_value.strip().lower()


def guard_reason(tags: Mapping[str, str], policy: TagPolicy, allow_production: bool) -> str | None:
    """Why tags forbid any action (protect tag; production unless allowed), or None: the one guard for resources,
    their cluster members and their companions alike, always with the configured keys."""
    if is_protected(tags, policy):
        return f"protected by {policy.protect_key}={policy.protect_value}"
    environment = tags.get(policy.environment_key, "").strip().lower()
    if environment == "production" and not allow_production:
        return f"{policy.environment_key}=production: never touched (settings.reaper.allow_production is off)"
    return None


@dataclass(frozen=True)
class Decision:
    """What the reaper decided about one resource, and why: the unit of the plan, the audit and the CLI output."""

    arn: str
    type: str
    region: str
    team: str
    expires_at: str | None
    action: str
    status: Status
    reason: str
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


def new_run_id(now: datetime) -> str:
    """A run id that sorts by time and that the digest reads the run's start from (``20261126T080000Z-ab12cd34``)."""
    import uuid

    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def audit_items(
    run_id: str, started_at: datetime, dry_run: bool, decisions: Sequence[Decision]
) -> list[tuple[str, str, dict[str, Any]]]:
    """State-table items (pk, sk, data) of a run's decisions: the one audit record shape, whoever acted (the
    reaper, the advisor's lifecycle puts), so the digest and an auditor read every action the same way."""
    pk = f"audit#{started_at.strftime('%Y-%m-%d')}"
    return [(pk, f"{run_id}#{d.arn}", {**d.to_dict(), "run_id": run_id, "dry_run": dry_run}) for d in decisions]


@dataclass(frozen=True)
class Warning:
    """An expiry warning due for ``resource``: it crosses ``threshold_hours`` before ``expired_from``."""

    resource: Resource
    team: str
    expires_at: str
    expired_from: datetime
    threshold_hours: int
    action: str
    marked: bool = False


@dataclass(frozen=True)
class Violation:
    """A malformed ``expires_at``: reported to the owning team as a tag violation, never acted on."""

    resource: Resource
    team: str
    value: str
    reason: str
