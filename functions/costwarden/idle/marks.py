"""``idle.action: expire``: hand idle resources to the reaper by tagging an expiry (pure planning).

Rules, in order (the first that matches decides; the reason says which):

1. Only kinds that are plain waste are marked: ``idle``, ``unattached``, ``stopped`` (never ``gpu_idle``: its CPU
   works; never what could not be judged). Only registry types, and never a cluster member (its parent is the
   finding and the reaper acts on the parent).
2. The protect tag: never marked. ``environment`` other than development/experiment (production above all): never
   marked, only reported.
3. Already carrying the expiry tag: left alone — the owner's own expiry (or an earlier mark) governs it.
4. Otherwise: expiry = now + ``grace_days`` and the marker ``<marker_key>=<that expiry> <kind> ...``.
5. A resource carrying the marker that is now busy (or that its owner tagged expected-idle, or kept from Slack:
   ``idle.keeps``) is unmarked: the marker always, the expiry only if it still holds the value the marker recorded
   (an owner who extended it keeps theirs).
6. Blast-radius cap: more marks and unmarks than ``reaper.max_actions_per_run`` → nothing is done, as in the reaper.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from costwarden.core.owner import team_of
from costwarden.idle.model import Finding, Kind
from costwarden.models.expiry import format_expiry
from costwarden.resources import REGISTRY
from costwarden.resources.model import Decision, Resource, Status
from costwarden.settings import Settings

MARK = "idle-mark"
UNMARK = "idle-unmark"
MARKABLE_KINDS = frozenset({Kind.IDLE, Kind.UNATTACHED, Kind.STOPPED})
EXPIRABLE_ENVIRONMENTS = ("development", "experiment")
#: Characters every tagging API accepts in a value (SageMaker's pattern is the strictest).
_UNSAFE = re.compile(r"[^\w .:/=+\-@]")


def marker_value(expiry: str, kind: Kind, lookback_days: int) -> str:
    """``2026-12-13T06:00:00Z idle over 7 days by costwarden`` (the expiry it set, first: unmark compares it)."""
    return _UNSAFE.sub("", f"{expiry} {kind.value} over {lookback_days} days by costwarden")[:256]


def marked_expiry(marker: str) -> str:
    return marker.split(" ", 1)[0]


@dataclass
class MarkPlan:
    """Marks ``(resource, decision, expiry, marker)``, unmarks ``(resource, decision, keys)``, all decisions."""

    marks: list[tuple[Resource, Decision, str, str]] = field(default_factory=list)
    unmarks: list[tuple[Resource, Decision, tuple[str, ...]]] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    blocked: bool = False
    cap: int = 0


def plan_marks(
    findings: Sequence[Finding],
    resources: Sequence[Resource],
    busy_arns: Sequence[str],
    settings: Settings,
    now: datetime,
    *,
    kept: Collection[str] = (),
) -> MarkPlan:
    """Decide marks and unmarks. ``busy_arns``: what this scan judged busy; ``kept``: what is kept from Slack (only
    those are unmarked)."""
    plan = MarkPlan(cap=settings.reaper.max_actions_per_run)
    _plan_marks(plan, findings, {r.arn: r for r in resources}, settings, now)
    _plan_unmarks(plan, resources, set(busy_arns), settings, set(kept))
    _apply_cap(plan)
    return plan


def _decider(plan: MarkPlan, expires_key: str) -> Callable[[Resource, str, str, Status, str], Decision]:
    """``decide(resource, team, action, status, reason)``: record one decision in the plan (in order: the marks
    first, then the unmarks) and return it."""

    def decide(resource: Resource, team: str, action: str, status: Status, reason: str) -> Decision:
        decision = Decision(
            arn=resource.arn,
            type=resource.type,
            region=resource.region,
            team=team,
            expires_at=resource.tags.get(expires_key),
            action=action,
            status=status,
            reason=reason,
            id=resource.id,
        )
        plan.decisions.append(decision)
        return decision

    return decide


def _plan_marks(
    plan: MarkPlan, findings: Sequence[Finding], by_arn: dict[str, Resource], settings: Settings, now: datetime
) -> None:
    """An ``expires_at`` mark for each markable idle finding the guards allow and the reaper does not govern yet."""
    tags, cfg = settings.tags, settings.idle
    decide = _decider(plan, tags.expires_key)
    expiry = format_expiry(now + timedelta(days=cfg.grace_days))
    for finding in findings:
        resource = by_arn.get(finding.arn)
        if resource is None or finding.kind not in MARKABLE_KINDS or resource.type not in REGISTRY:
            continue
        if REGISTRY[resource.type].cluster_member and resource.parent is not None:
            continue
        skip = _guard(resource, settings)
        if skip:
            reason = f"idle ({finding.kind.value}), but {skip}"
            decide(resource, finding.team, MARK, Status.SKIPPED, reason)
            continue
        if tags.expires_key in resource.tags:
            if cfg.marker_key not in resource.tags:
                reason = (
                    f"idle, but it already carries {tags.expires_key}={resource.tags[tags.expires_key]}: "
                    "the reaper governs it"
                )
                decide(resource, finding.team, MARK, Status.SKIPPED, reason)
            continue  # marked by an earlier run: the reaper has it
        marker = marker_value(expiry, finding.kind, cfg.lookback_days)
        reason = (
            f"{finding.kind.value}: {finding.evidence}; tag {tags.expires_key}={expiry} (now + {cfg.grace_days} days, "
            "idle.action=expire)"
        )
        decision = decide(resource, finding.team, MARK, Status.PLANNED, reason)
        plan.marks.append((resource, decision, expiry, marker))


def _plan_unmarks(
    plan: MarkPlan, resources: Sequence[Resource], busy: set[str], settings: Settings, kept: set[str]
) -> None:
    """Remove the marker (and the ``expires_at`` it set, unless its owner changed it) from what is busy again,
    tagged as expected to be idle, or kept from Slack."""
    tags, cfg = settings.tags, settings.idle
    decide = _decider(plan, tags.expires_key)
    for resource in resources:
        existing = resource.tags.get(cfg.marker_key)
        expected = str(resource.tags.get(cfg.expected_idle_key, "")).strip().lower() == "true"
        held = resource.arn in kept
        if existing is None or resource.type not in REGISTRY or not (resource.arn in busy or expected or held):
            continue
        keys: tuple[str, ...] = (cfg.marker_key,)
        current = resource.tags.get(tags.expires_key)
        if current is not None and current == marked_expiry(existing):
            keys = (tags.expires_key, cfg.marker_key)
            why = f"removing {tags.expires_key}={current} and the marker it set"
        else:
            why = f"removing the marker; {tags.expires_key} was changed by its owner and is kept"
        cause = f"tagged {cfg.expected_idle_key}=true" if expected else "kept from Slack" if held else "busy again"
        why = f"{cause}: {why}"
        team = team_of(resource.tags, tags)
        decision = decide(resource, team, UNMARK, Status.PLANNED, why)
        plan.unmarks.append((resource, decision, keys))


def _apply_cap(plan: MarkPlan) -> None:
    """Over the blast-radius cap, nothing is marked or unmarked: every planned change becomes a skip saying why."""
    count = len(plan.marks) + len(plan.unmarks)
    if count > plan.cap:
        plan.blocked = True
        note = f"blocked by the blast-radius cap: {count} marks planned, max_actions_per_run is {plan.cap}"
        todo = {d.arn for _, d, _, _ in plan.marks} | {d.arn for _, d, _ in plan.unmarks}
        plan.decisions = [
            replace(d, status=Status.SKIPPED, reason=f"{note} ({d.reason})") if d.arn in todo else d
            for d in plan.decisions
        ]
        plan.marks, plan.unmarks = [], []


def _guard(resource: Resource, settings: Settings) -> str | None:
    """The reaper's guards, applied before anything is tagged (IAM refuses the same)."""
    tags = settings.tags
    if resource.tags.get(tags.protect_key, "").strip().lower() == tags.protect_value.lower():
        return f"protected by {tags.protect_key}={tags.protect_value}: never marked"
    environment = resource.tags.get(tags.environment_key, "").strip().lower()
    if environment == "production":
        return f"{tags.environment_key}=production: never marked, only reported"
    if environment not in EXPIRABLE_ENVIRONMENTS:
        shown = environment or "(none)"
        return (
            f"{tags.environment_key}={shown}: only {' or '.join(EXPIRABLE_ENVIRONMENTS)} resources are expired, "
            "the others are only reported"
        )
    return None
