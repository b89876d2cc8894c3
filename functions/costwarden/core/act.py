"""The one action path: every change Costwarden makes to a resource goes through ``act_on``, whoever triggers it —
the reaper's schedule and CLI, a Slack button, the idle finder's expiry marks, the development limits, the hard
limit.

A caller plans (its own rules: expiry, idleness, limits) and hands over requests: a resource, a verb (``act`` =
the type's action for "expired", ``stop``, ``tag``, ``untag``) and the decision it planned. ``act_on`` then applies
the guards, in this order — the first that refuses decides, and its reason is appended to the decision's:

1. the type is in the registry;
2. the resource is still active (not terminated or being deleted);
3. the protect tag (configured key and value) is absent;
4. not ``environment=production`` unless the rules allow it, and, when the caller restricts environments (hard
   limit, development limits, idle expiry), one of those;
5. ``act`` only: not a cluster member (acted on through its parent), and the type can act in its current state;
6. ``act`` only: termination protection known and off (or on with ``force_termination_protected``);
7. ``act`` only, cluster parents: members read, none protected or production (the action takes them along);
8. the per-run cap: more requests pass 1-7 than ``cap`` → none is performed (all or nothing), each refused;
9. dry run: nothing is called, every request stays ``planned``.

What remains is performed in one registry call per (verb, region, type, tags) group — a call that raises fails its
group only, an ARN the type returned no result for fails alone — and every request, refusals included, gets one
audit record of the one shape (``resources.model.audit_items``) through the audit sink. Nothing here imports the
AWS SDK: the registry types make the calls through the injected ``clients`` factory.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from costwarden.core import owner
from costwarden.models.ports import StateStore
from costwarden.resources import REGISTRY, Clients
from costwarden.resources.base import ResourceType, error_text
from costwarden.resources.model import Decision, Resource, Status, audit_items, guard_reason, is_protected
from costwarden.settings import Settings, TagPolicy

log = logging.getLogger("costwarden.act")

#: The team of a resource without the configured team tag: the one owner label (``core.owner``).
UNOWNED_TEAM = owner.UNOWNED_TEAM


class Verb(StrEnum):
    """What is done to a resource; each verb is one method of the registry type."""

    #: The type's action for "expired" (terminate, delete, ...): destructive, so guards 5-7 apply too.
    ACT = "act"
    #: Stop, keeping the resource (development limits, hard limit): the type's ``stop``.
    STOP = "stop"
    #: Add tags (expiry marks, Slack extensions): the type's ``tag``.
    TAG = "tag"
    #: Remove tag keys (the idle finder's own marks): the type's ``untag``.
    UNTAG = "untag"


#: Order in which a batch's groups are performed (the reaper acts before it marks; the idle finder marks first).
_VERB_ORDER = {Verb.ACT: 0, Verb.STOP: 1, Verb.TAG: 2, Verb.UNTAG: 3}
#: How the cap note counts a batch of one verb kind.
_NOUNS = {Verb.ACT: "actions", Verb.STOP: "stops", Verb.TAG: "marks", Verb.UNTAG: "marks"}


class Trigger(StrEnum):
    """Who asked: named in the run id of the callers that have none of their own, and in the log."""

    SCHEDULE = "schedule"
    CLI = "cli"
    SLACK = "slack"
    IDLE_EXPIRY = "idle-expiry"
    LIMITS = "limits"
    HARD_LIMIT = "hard-limit"


class Guard(StrEnum):
    """The guard that refused a request (module docstring, in order)."""

    UNKNOWN_TYPE = "unknown-type"
    INACTIVE = "inactive"
    PROTECT_TAG = "protect-tag"
    PRODUCTION = "production"
    ENVIRONMENT = "environment"
    CLUSTER_MEMBER = "cluster-member"
    STATE = "state"
    TERMINATION_PROTECTION = "termination-protection"
    MEMBERS = "members"
    CAP = "cap"


@dataclass(frozen=True)
class Rules:
    """What the caller's settings allow: built from ``Settings`` by ``for_settings``, narrowed per trigger."""

    policy: TagPolicy
    #: ``reaper.max_actions_per_run``: more requests passing the guards than this and none is performed.
    cap: int
    allow_production: bool = False
    #: Environment tag values that may be acted on (compared case-insensitively); None: any but production.
    environments: tuple[str, ...] | None = None
    #: ``reaper.force_termination_protected``: the ``act`` of a protected resource turns protection off first.
    force_termination_protected: bool = False

    @classmethod
    def for_settings(
        cls, settings: Settings, *, allow_production: bool | None = None, environments: Sequence[str] | None = None
    ) -> Rules:
        """The reaper's rules from ``settings``; ``allow_production`` None → ``reaper.allow_production``."""
        reaper = settings.reaper
        return cls(
            policy=settings.tags,
            cap=reaper.max_actions_per_run,
            allow_production=reaper.allow_production if allow_production is None else allow_production,
            environments=None if environments is None else tuple(environments),
            force_termination_protected=reaper.force_termination_protected,
        )


@dataclass(frozen=True)
class Request:
    """One resource to act on, the verb, and the caller's planned decision (its reason leads the audit record)."""

    resource: Resource
    verb: Verb
    decision: Decision
    #: ``tag``: the tags to set.
    tags: Mapping[str, str] = field(default_factory=dict)
    #: ``untag``: the tag keys to remove.
    keys: tuple[str, ...] = ()

    def group(self) -> tuple[Any, ...]:
        """What may share one registry call: same verb, region, type and tag arguments."""
        params: Hashable = tuple(sorted(self.tags.items())) if self.verb is Verb.TAG else self.keys
        return (_VERB_ORDER[self.verb], self.resource.region, self.resource.type, params)


@dataclass(frozen=True)
class Outcome:
    """What became of one request: the settled decision, the guard that refused it (if one did) and why."""

    request: Request
    decision: Decision
    refused_by: Guard | None = None
    #: The refusal or the failed call's error text; "" when done or (dry run) planned.
    note: str = ""

    @property
    def arn(self) -> str:
        return self.request.resource.arn

    @property
    def status(self) -> Status:
        return self.decision.status


#: ``(run_id, started_at, dry_run, decisions)`` → the error text when the write failed, else None.
Audit = Callable[[str, datetime, bool, Sequence[Decision]], str | None]


@dataclass
class BatchResult:
    run_id: str
    trigger: Trigger
    dry_run: bool
    outcomes: list[Outcome]
    #: The cap refused the whole batch.
    blocked: bool = False
    audit_error: str | None = None

    def by_arn(self) -> dict[str, Outcome]:
        return {o.arn: o for o in self.outcomes}

    def refused(self, guard: Guard | None = None) -> list[Outcome]:
        """Refused outcomes (by ``guard`` only, when given)."""
        return [o for o in self.outcomes if o.refused_by is not None and guard in (None, o.refused_by)]

    def settle(self, decisions: Iterable[Decision]) -> list[Decision]:
        """The caller's decisions with each request's settled one in its place (same order)."""
        settled = {o.arn: o.decision for o in self.outcomes}
        return [settled.get(d.arn, d) for d in decisions]


def decision_for(resource: Resource, action: str, policy: TagPolicy, *, team: str = "", reason: str = "") -> Decision:
    """A planned decision for a caller without a planner of its own (the hard limit, a Slack extension)."""
    return Decision(
        arn=resource.arn,
        type=resource.type,
        region=resource.region,
        team=team or resource.tags.get(policy.team_key, "").strip() or UNOWNED_TEAM,
        expires_at=resource.tags.get(policy.expires_key),
        action=action,
        status=Status.PLANNED,
        reason=reason,
        id=resource.id,
    )


def _joined(reason: str, note: str) -> str:
    return f"{reason}; {note}" if reason else note


_PARTICIPLES = {Verb.ACT: "acted on", Verb.STOP: "stopped", Verb.TAG: "tagged", Verb.UNTAG: "untagged"}


def _tag_guard(resource: Resource, verb: Verb, rules: Rules) -> tuple[Guard, str] | None:
    """Guards 3-4: what the resource's tags forbid, whatever the verb."""
    policy = rules.policy
    if reason := guard_reason(resource.tags, policy, rules.allow_production):
        return (Guard.PROTECT_TAG if is_protected(resource.tags, policy) else Guard.PRODUCTION), reason
    if rules.environments is not None:
        environment = resource.tags.get(policy.environment_key, "").strip().lower()
        allowed = [e.strip().lower() for e in rules.environments]
        if environment not in allowed:
            shown = environment or "(none)"
            only = "/".join(allowed)
            return (
                Guard.ENVIRONMENT,
                f"{policy.environment_key}={shown}: only {only} resources are {_PARTICIPLES[verb]}",
            )
    return None


def _destructive_guard(rtype: ResourceType, resource: Resource, rules: Rules) -> tuple[Guard, str] | None:
    """Guards 5-7: what keeps the type's action for "expired" off a resource."""
    if rtype.cluster_member and resource.parent is not None:
        return Guard.CLUSTER_MEMBER, f"member of {resource.parent}: acted on only through its parent"
    action, why_not = rtype.action_for(resource)
    if action is None:
        return Guard.STATE, f"cannot {rtype.action} now: {why_not}"
    if rtype.has_termination_protection:
        if resource.termination_protected is None:
            return Guard.TERMINATION_PROTECTION, "its termination protection could not be checked: not acted on"
        if resource.termination_protected and not rules.force_termination_protected:
            return (
                Guard.TERMINATION_PROTECTION,
                "termination protection is on (settings.reaper.force_termination_protected overrides)",
            )
    return _members_guard(rtype, resource, rules)


def _members_guard(rtype: ResourceType, resource: Resource, rules: Rules) -> tuple[Guard, str] | None:
    """Guard 7: a cluster parent's action takes its members along, so each member must pass guards 3-4."""
    if not rtype.has_members:
        return None
    if resource.members is None:
        why = resource.members_error or "not read"
        return Guard.MEMBERS, f"its members could not be read ({why}): not acted on"
    for member in resource.members:
        if reason := guard_reason(member.tags, rules.policy, rules.allow_production):
            return (
                Guard.MEMBERS,
                f"its member {member.id}: {reason} — the {resource.type} is not acted on "
                "(its action would take the member with it)",
            )
    return None


def refusal(resource: Resource, verb: Verb, rules: Rules) -> tuple[Guard, str] | None:
    """Guards 1-7 for one resource: ``(guard, reason)`` of the first that refuses, or None. A caller that must
    answer before it can build its request (a Slack extension) asks this first; ``act_on`` asks it again."""
    rtype = REGISTRY.get(resource.type)
    if rtype is None:
        return Guard.UNKNOWN_TYPE, f"unknown resource type {resource.type}: never acted on"
    if not resource.active:
        return Guard.INACTIVE, f"already {resource.state or 'gone'}: nothing to do"
    if found := _tag_guard(resource, verb, rules):
        return found
    if verb is Verb.ACT:
        return _destructive_guard(rtype, resource, rules)
    return None


def _perform(clients: Clients, rules: Rules, group: Sequence[Request]) -> dict[str, str | None]:
    """One registry call for a group of requests of the same verb, region, type and arguments."""
    first = group[0]
    rtype = REGISTRY[first.resource.type]
    region = first.resource.region
    resources = [r.resource for r in group]
    if first.verb is Verb.ACT:
        return rtype.act(clients, region, resources, rules.policy, force=rules.force_termination_protected)
    if first.verb is Verb.STOP:
        return rtype.stop(clients, region, resources)
    if first.verb is Verb.TAG:
        return rtype.tag(clients, region, resources, dict(first.tags))
    return rtype.untag(clients, region, resources, first.keys)


def _cap_note(count: int, cap: int, requests: Sequence[Request]) -> str:
    verbs = {_NOUNS[r.verb] for r in requests}
    noun = verbs.pop() if len(verbs) == 1 else "actions"
    return f"blocked by the blast-radius cap: {count} {noun} planned, max_actions_per_run is {cap}"


def act_on(
    requests: Sequence[Request],
    *,
    trigger: Trigger,
    rules: Rules,
    dry_run: bool,
    clients: Clients,
    audit: Audit | None,
    now: datetime,
    run_id: str | None = None,
) -> BatchResult:
    """Guard, cap, perform (unless ``dry_run``) and audit ``requests`` (module docstring); outcomes in request
    order. ``run_id`` None → a new one naming the trigger; ``audit`` None → nothing recorded (a plan-only CLI run
    without a state table)."""
    run_id = run_id or f"{now.strftime('%Y%m%dT%H%M%SZ')}-{trigger.value}-{uuid.uuid4().hex[:8]}"
    outcomes: dict[int, Outcome] = {}
    passing: list[tuple[int, Request]] = []
    for index, request in enumerate(requests):
        if found := refusal(request.resource, request.verb, rules):
            guard, why = found
            decision = replace(request.decision, status=Status.SKIPPED, reason=_joined(request.decision.reason, why))
            outcomes[index] = Outcome(request, decision, guard, why)
        else:
            passing.append((index, request))
    blocked = len(passing) > rules.cap
    if blocked:
        note = _cap_note(len(passing), rules.cap, [r for _, r in passing])
        for index, request in passing:
            decision = replace(request.decision, status=Status.SKIPPED, reason=_joined(request.decision.reason, note))
            outcomes[index] = Outcome(request, decision, Guard.CAP, note)
    elif dry_run:
        outcomes.update({index: Outcome(request, request.decision) for index, request in passing})
    else:
        outcomes.update(_perform_all(clients, rules, passing))
    result = BatchResult(run_id, trigger, dry_run, [outcomes[i] for i in range(len(requests))], blocked)
    for outcome in result.outcomes:
        log.info(
            "action outcome",
            extra={"run_id": run_id, "trigger": trigger.value, "dry_run": dry_run, **outcome.decision.to_dict()},
        )
    if audit is not None and result.outcomes:
        try:
            result.audit_error = audit(run_id, now, dry_run, [o.decision for o in result.outcomes])
        except Exception as error:  # recorded on the result; the actions stand
            result.audit_error = error_text(error)
    return result


def _perform_all(clients: Clients, rules: Rules, passing: Sequence[tuple[int, Request]]) -> dict[int, Outcome]:
    groups: dict[tuple[Any, ...], list[tuple[int, Request]]] = defaultdict(list)
    for index, request in passing:
        groups[request.group()].append((index, request))
    outcomes: dict[int, Outcome] = {}
    for key in sorted(groups):
        members = groups[key]
        try:
            results = _perform(clients, rules, [r for _, r in members])
        except Exception as error:  # the group fails, per ARN; the batch goes on
            results = {r.resource.arn: error_text(error) for _, r in members}
        for index, request in members:
            error_note = results.get(request.resource.arn, "no result returned")
            base = request.decision
            if error_note:
                failed = replace(base, status=Status.FAILED, reason=_joined(base.reason, error_note))
                outcomes[index] = Outcome(request, failed, None, error_note)
            else:
                outcomes[index] = Outcome(request, replace(base, status=Status.DONE))
    return outcomes


def write_audit(
    state: StateStore,
    ttl_days: float,
    *,
    run_id: str,
    started_at: datetime,
    dry_run: bool,
    decisions: Sequence[Decision],
    extra: Sequence[tuple[str, str, dict[str, Any]]] = (),
) -> str | None:
    """Write the one audit record shape (``audit_items``) for ``decisions``, plus ``extra`` items of the same run,
    in one batch. Returns the error text if the write failed (the caller records it; the run goes on)."""
    try:
        state.put_many([*audit_items(run_id, started_at, dry_run, decisions), *extra], ttl_days=ttl_days)
    except Exception as error:  # recorded (decision, summary or log); the run goes on
        log.error("audit write failed", extra={"error": error_text(error)})
        return error_text(error)
    return None


def state_audit(state: StateStore, ttl_days: float) -> Audit:
    """The audit sink over the state-store port (``settings.reaper.audit_ttl_days`` is the usual TTL)."""

    def sink(run_id: str, started_at: datetime, dry_run: bool, decisions: Sequence[Decision]) -> str | None:
        return write_audit(state, ttl_days, run_id=run_id, started_at=started_at, dry_run=dry_run, decisions=decisions)

    return sink
