"""Planning: from an inventory to one ``Decision`` per resource — pure, no AWS, every rule in one place.

Rules, in the order they apply (the first that matches decides; the reason says which). Tag keys are the configured
ones (``settings.tags.expires_key``, ``protect_key``, ``environment_key``, ``team_key``); the defaults are named here:

1. A type the registry does not know: reported, never acted on.
2. Already terminated / being deleted: skipped (reruns are idempotent).
3. A cluster member (instance or ASG carrying ``aws:autoscaling:groupName``, ``aws:elasticmapreduce:job-flow-id``
   or ``eks:nodegroup-name``) is acted on only through its parent, and only when the parent is expired and planned.
   An expired tag on a member of a live cluster is reported: "tag the group instead" (terminating a member only
   gets it replaced).
4. No ``expires_at`` (``environment=experiment``): ``missing_expiry=report`` reports it; ``mark`` tags it
   ``now + default_ttl_days`` and warns the team.
5. Malformed ``expires_at``: a tag violation to the owning team, never acted on.
6. The protect tag ``costwarden:protect=true``: skipped.
7. ``environment=production``: skipped unless ``allow_production``.
8. Not yet expired: kept; an expiry warning is due once the remaining time crosses a ``warn_before_hours``.
9. Expired, but the type cannot act in its current state (notebook stopping, volume attached...): skipped.
10. Termination protection on: skipped unless ``force_termination_protected``; unknown: checked first.
11. A cluster parent (ASG, EMR cluster, EKS node group) whose running members are not all readable, or any of
    which carries the protect tag or ``environment=production`` (rule 6/7 applied to each member): skipped and the
    member named — deleting the parent would take the member with it. Members are read only for candidates.
12. Blast-radius cap: more actions (destructive ones and marks) than ``max_actions_per_run`` → nothing is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from costwarden.core.owner import team_of
from costwarden.models.expiry import (
    Expiry,
    MalformedExpiry,
    describe_expiry,
    describe_remaining,
    format_expiry,
    parse_expires_at,
)
from costwarden.resources import REGISTRY
from costwarden.resources.model import (
    MARK_ACTION,
    NO_ACTION,
    Decision,
    Resource,
    Status,
    Violation,
    Warning,
    guard_reason,
)
from costwarden.settings import Settings


@dataclass
class Plan:
    """Decisions in inventory order; the resources behind planned actions; what to tell people."""

    decisions: list[Decision] = field(default_factory=list)
    actions: list[tuple[Resource, Decision]] = field(default_factory=list)
    marks: list[tuple[Resource, Decision, str]] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    unchecked: list[Resource] = field(default_factory=list)
    blocked: bool = False
    cap: int = 0

    @property
    def action_count(self) -> int:
        """What the cap counts: destructive actions and marks (a mark starts the clock towards one)."""
        return len(self.actions) + len(self.marks)


class _Planner:
    def __init__(self, resources: Sequence[Resource], settings: Settings, now: datetime, protection_checked: bool):
        self.resources = resources
        self.settings = settings
        self.policy = settings.tags
        self.reaper = settings.reaper
        self.now = now
        self.protection_checked = protection_checked
        self.plan = Plan(cap=self.reaper.max_actions_per_run)
        self.by_key = {r.lookup_key: r for r in resources}
        self.decided: dict[str, Decision] = {}

    def team(self, resource: Resource) -> str:
        return team_of(resource.tags, self.policy)

    def decision(self, resource: Resource, action: str, status: Status, reason: str) -> Decision:
        decision = Decision(
            arn=resource.arn,
            type=resource.type,
            region=resource.region,
            team=self.team(resource),
            expires_at=resource.tags.get(self.policy.expires_key),
            action=action,
            status=status,
            reason=reason,
            id=resource.id,
        )
        self.decided[resource.arn] = decision
        return decision

    def is_member(self, resource: Resource) -> bool:
        rtype = REGISTRY.get(resource.type)
        return bool(rtype and rtype.cluster_member and resource.parent)

    def run(self) -> Plan:
        # Parents (and everything that is not a cluster member) first, so members can refer to their decisions.
        ordered = sorted(self.resources, key=self.is_member)
        for resource in ordered:
            decision = self.decide(resource)
            if decision is not None:
                self.decided[resource.arn] = decision
        self.plan.decisions = [self.decided[r.arn] for r in self.resources if r.arn in self.decided]
        self.apply_cap()
        return self.plan

    def decide(self, resource: Resource) -> Decision | None:  # noqa: PLR0911, PLR0912 - one return per rule, in order
        rtype = REGISTRY.get(resource.type)
        expires_raw = resource.tags.get(self.policy.expires_key)
        if rtype is None:
            return self.decision(
                resource, NO_ACTION, Status.SKIPPED, f"unknown resource type {resource.type}: reported, never acted on"
            )
        if not resource.active:
            return self.decision(resource, NO_ACTION, Status.SKIPPED, f"already {resource.state}: nothing to do")
        if self.is_member(resource):
            return self.decide_member(resource, expires_raw)
        if expires_raw is None:
            return self.decide_missing(resource)
        expiry = self.expiry_or_violation(resource, expires_raw)
        if isinstance(expiry, Decision):
            return expiry
        if skip := self.guarded(resource):
            return self.decision(resource, NO_ACTION, Status.SKIPPED, skip)
        if not expiry.is_expired(self.now):
            self.maybe_warn(resource, expires_raw, expiry.expired_from, rtype.action)
            if expiry.never:
                return self.decision(resource, NO_ACTION, Status.SKIPPED, f"live: expires {describe_expiry(expiry)}")
            remaining = describe_remaining(expiry.remaining(self.now))
            return self.decision(
                resource,
                NO_ACTION,
                Status.SKIPPED,
                f"live: expires {format_expiry(expiry.expired_from)} (in {remaining})",
            )
        action, why_not = rtype.action_for(resource)
        since = f"expired since {format_expiry(expiry.expired_from)}"
        if action is None:
            return self.decision(resource, NO_ACTION, Status.SKIPPED, f"{since}, but {why_not}")
        reason = since
        if rtype.has_termination_protection:
            if resource.termination_protected is None:
                if self.protection_checked:
                    return self.decision(
                        resource,
                        action,
                        Status.SKIPPED,
                        f"{since}, but its termination protection could not be checked: not acted on",
                    )
                self.uncheck(resource)
            elif resource.termination_protected:
                if not self.reaper.force_termination_protected:
                    return self.decision(
                        resource,
                        action,
                        Status.SKIPPED,
                        f"{since}, but termination protection is on: skipped "
                        "(settings.reaper.force_termination_protected overrides)",
                    )
                reason += "; termination protection will be turned off (force_termination_protected)"
        if rtype.has_members and (skip := self.members_guarded(resource, since)):
            return self.decision(resource, action, Status.SKIPPED, skip)
        decision = self.decision(resource, action, Status.PLANNED, reason)
        self.plan.actions.append((resource, decision))
        return decision

    def expiry_or_violation(self, resource: Resource, expires_raw: str) -> Expiry | Decision:
        """The parsed ``expires_at`` (a cluster member's too), or, malformed, the skip decision with the violation
        reported to the owner: never acted on."""
        try:
            return parse_expires_at(expires_raw)
        except MalformedExpiry as error:
            self.plan.violations.append(Violation(resource, self.team(resource), expires_raw, error.reason))
            return self.decision(
                resource,
                NO_ACTION,
                Status.SKIPPED,
                f"malformed {self.policy.expires_key}: {error.reason}; never acted on",
            )

    def uncheck(self, resource: Resource) -> None:
        if all(r.arn != resource.arn for r in self.plan.unchecked):
            self.plan.unchecked.append(resource)

    def members_guarded(self, resource: Resource, since: str) -> str | None:
        """Why a cluster parent must not be acted on because of its members (the action takes them with it)."""
        if resource.members is None:
            if self.protection_checked:
                why = resource.members_error or "not read"
                return f"{since}, but its members could not be read ({why}): not acted on"
            self.uncheck(resource)
            return None
        for member in resource.members:
            if reason := guard_reason(member.tags, self.policy, self.reaper.allow_production):
                return (
                    f"{since}, but its member {member.id}: {reason} — the {resource.type} is not acted on "
                    "(its action would take the member with it)"
                )
        return None

    def guarded(self, resource: Resource) -> str | None:
        return guard_reason(resource.tags, self.policy, self.reaper.allow_production)

    def decide_member(self, resource: Resource, expires_raw: str | None) -> Decision | None:
        assert resource.parent is not None
        parent = self.by_key.get((resource.parent.type, resource.region, resource.parent.key))
        parent_decision = self.decided.get(parent.arn) if parent else None
        if parent_decision is not None and parent_decision.status is Status.PLANNED:
            return self.decision(
                resource,
                NO_ACTION,
                Status.SKIPPED,
                f"member of {resource.parent}: acted on through its parent ({parent_decision.action})",
            )
        if expires_raw is None:
            return None  # a member without its own expiry is governed by its parent; nothing to say about it
        expiry = self.expiry_or_violation(resource, expires_raw)
        if isinstance(expiry, Decision):
            return expiry
        if expiry.is_expired(self.now):
            state = f"parent skipped: {parent_decision.reason}" if parent_decision else "the group is live"
            return self.decision(
                resource,
                NO_ACTION,
                Status.SKIPPED,
                f"expired tag on a member of {resource.parent} ({state}): terminating it would only get it "
                "replaced — tag the group instead",
            )
        return self.decision(
            resource,
            NO_ACTION,
            Status.SKIPPED,
            f"member of {resource.parent}: governed by the group's {self.policy.expires_key}",
        )

    def decide_missing(self, resource: Resource) -> Decision | None:
        environment = resource.tags.get(self.policy.environment_key, "").strip().lower()
        if environment != "experiment":
            return None
        if skip := self.guarded(resource):
            return self.decision(resource, NO_ACTION, Status.SKIPPED, f"no {self.policy.expires_key}, but {skip}")
        if self.reaper.missing_expiry == "report":
            return self.decision(
                resource,
                NO_ACTION,
                Status.SKIPPED,
                f"{self.policy.environment_key}=experiment without {self.policy.expires_key}: please tag it "
                "(missing_expiry=report)",
            )
        expired_from = self.now + timedelta(days=self.reaper.default_ttl_days)
        value = format_expiry(expired_from)
        decision = self.decision(
            resource,
            MARK_ACTION,
            Status.PLANNED,
            f"no {self.policy.expires_key}: tag {self.policy.expires_key}={value} "
            f"(now + {self.reaper.default_ttl_days} days, missing_expiry=mark)",
        )
        self.plan.marks.append((resource, decision, value))
        rtype = REGISTRY[resource.type]
        self.plan.warnings.append(
            Warning(
                resource,
                self.team(resource),
                value,
                expired_from,
                self.reaper.default_ttl_days * 24,
                rtype.action,
                marked=True,
            )
        )
        return decision

    def maybe_warn(self, resource: Resource, raw: str, expired_from: datetime, action: str) -> None:
        remaining = expired_from - self.now
        due = [h for h in self.reaper.warn_before_hours if remaining <= timedelta(hours=h)]
        if due:
            self.plan.warnings.append(Warning(resource, self.team(resource), raw, expired_from, min(due), action))

    def apply_cap(self) -> None:
        count = self.plan.action_count
        if count <= self.plan.cap:
            return
        self.plan.blocked = True
        note = (
            f"blocked by the blast-radius cap: {count} actions planned, max_actions_per_run is {self.plan.cap}; "
            "nothing was done this run"
        )
        blocked = {d.arn for _, d in self.plan.actions} | {d.arn for _, d, _ in self.plan.marks}
        self.plan.decisions = [
            replace(d, status=Status.SKIPPED, reason=f"{note} ({d.reason})") if d.arn in blocked else d
            for d in self.plan.decisions
        ]
        index = {d.arn: d for d in self.plan.decisions}
        self.plan.actions = [(r, index[d.arn]) for r, d in self.plan.actions]
        self.plan.marks = [(r, index[d.arn], v) for r, d, v in self.plan.marks]
        # Marked resources are not tagged, so their "marked" warnings would be false.
        self.plan.warnings = [w for w in self.plan.warnings if not w.marked]


def make_plan(
    resources: Sequence[Resource], settings: Settings, now: datetime, *, protection_checked: bool = False
) -> Plan:
    """Decide about every resource. ``protection_checked``: the candidates were checked (termination protection,
    cluster members), so what is still unknown now means "skip"."""
    return _Planner(resources, settings, now, protection_checked).run()
