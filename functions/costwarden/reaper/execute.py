"""One reaper run: inventory → plan → (check protection) → act (unless dry run) → warn → audit → publish.

Everything AWS comes in as parameters (``clients``, ``state``, ``publish_fn``), so the CLI, the Lambda handler,
the demo and the tests run exactly this code.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from costwarden.core.owner import operator_team
from costwarden.models.alert import AlertEvent
from costwarden.models.ports import StateStore
from costwarden.reaper import alerts
from costwarden.reaper.inventory import SourceError, collect
from costwarden.reaper.plan import Plan, make_plan
from costwarden.resources import REGISTRY, Clients
from costwarden.resources.base import error_text
from costwarden.resources.model import MARK_ACTION, Decision, Resource, Status, audit_items, new_run_id
from costwarden.settings import Settings, TagPolicy

log = logging.getLogger("costwarden.reaper")

#: How long "already warned" / "already reported" markers live (longer than any sensible expiry horizon).
DEDUP_TTL_DAYS = 90
#: Partition of "first seen" markers (sk: resource ARN), written with a resource's first expiry warning.
FIRST_SEEN_PK = "firstseen"

Publisher = Callable[[AlertEvent], str]


@dataclass
class RunResult:
    run_id: str
    started_at: datetime
    dry_run: bool
    regions: list[str]
    decisions: list[Decision]
    errors: list[SourceError] = field(default_factory=list)
    blocked: bool = False
    events: list[AlertEvent] = field(default_factory=list)
    publish_errors: list[str] = field(default_factory=list)
    audit_error: str | None = None

    @property
    def failed(self) -> bool:
        return any(d.status is Status.FAILED for d in self.decisions)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for d in self.decisions:
            out[d.status.value] += 1
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "regions": self.regions,
            "blocked": self.blocked,
            "counts": self.counts(),
            "source_errors": [e.__dict__ for e in self.errors],
            "events": [f"{e.kind.value}:{e.team}" for e in self.events],
            "publish_errors": self.publish_errors,
            "audit_error": self.audit_error,
        }


def _check_candidates(clients: Clients, plan: Plan, resources: list[Resource]) -> list[Resource]:
    """Fill in what the plan could not know for its candidates only (bounded by the cap): termination protection,
    and the members of cluster parents. A failing check leaves it unknown, and unknown means "skip"."""
    groups: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in plan.unchecked:
        groups[(resource.region, resource.type)].append(resource)
    checked: dict[str, Resource] = {}
    for (region, type_name), candidates in groups.items():
        rtype = REGISTRY[type_name]
        group = list(candidates)
        try:
            group = rtype.check_protection(clients, region, group)
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            log.warning("termination protection check failed", extra={"region": region, "error": error_text(error)})
        if rtype.has_members:
            try:
                group = rtype.read_members(clients, region, group)
            except Exception as error:  # the parents are skipped with this reason
                group = [replace(r, members_error=error_text(error)) for r in group]
        checked.update({r.arn: r for r in group})
    return [checked.get(r.arn, r) for r in resources]


def _act(clients: Clients, plan: Plan, settings: Settings) -> dict[str, tuple[Status, str]]:
    """Perform planned actions and marks, batched per (region, type); ``{arn: (status, note)}``."""
    outcome: dict[str, tuple[Status, str]] = {}
    policy = settings.tags
    groups: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource, _ in plan.actions:
        groups[(resource.region, resource.type)].append(resource)
    for (region, type_name), group in sorted(groups.items()):
        try:
            results = REGISTRY[type_name].act(
                clients, region, group, policy, force=settings.reaper.force_termination_protected
            )
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            results = {r.arn: error_text(error) for r in group}
        for resource in group:
            err = results.get(resource.arn, "no result returned")
            outcome[resource.arn] = (Status.FAILED, err) if err else (Status.DONE, "")
    marks: dict[tuple[str, str, str], list[Resource]] = defaultdict(list)
    for resource, _, value in plan.marks:
        marks[(resource.region, resource.type, value)].append(resource)
    for (region, type_name, value), group in sorted(marks.items()):
        try:
            results = REGISTRY[type_name].tag(clients, region, group, {policy.expires_key: value})
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            results = {r.arn: error_text(error) for r in group}
        for resource in group:
            err = results.get(resource.arn, "no result returned")
            outcome[resource.arn] = (Status.FAILED, err) if err else (Status.DONE, "")
    return outcome


def run_reaper(
    settings: Settings,
    *,
    regions: Sequence[str],
    clients: Clients,
    state: StateStore,
    publish_fn: Publisher | None = None,
    dry_run: bool | None = None,
    now: datetime | None = None,
    store_audit: bool = True,
) -> RunResult:
    """Run the reaper once. ``dry_run`` None → ``settings.reaper.dry_run``. ``publish_fn`` None → no events sent
    (and no "already warned" state written, so a later run with a topic still warns)."""
    now = now or datetime.now(UTC)
    dry = settings.reaper.dry_run if dry_run is None else dry_run
    run_id = new_run_id(now)
    policy = settings.tags
    selectors = [(policy.expires_key, None), (policy.environment_key, "experiment")]
    inventory = collect(clients, list(regions), selectors)
    for error in inventory.errors:
        log.error(
            "inventory source failed", extra={"region": error.region, "source": error.source, "error": error.error}
        )

    plan = make_plan(inventory.resources, settings, now)
    if plan.unchecked and not plan.blocked:
        resources = _check_candidates(clients, plan, inventory.resources)
        plan = make_plan(resources, settings, now, protection_checked=True)

    decisions = list(plan.decisions)
    if not dry and not plan.blocked and (plan.actions or plan.marks):
        outcome = _act(clients, plan, settings)
        decisions = [
            replace(
                d,
                status=outcome[d.arn][0],
                reason=f"{d.reason}; {outcome[d.arn][1]}" if outcome[d.arn][1] else d.reason,
            )
            if d.arn in outcome
            else d
            for d in decisions
        ]
    result = RunResult(run_id, now, dry, list(regions), decisions, inventory.errors, plan.blocked)

    for decision in decisions:
        log.info("reaper decision", extra={"run_id": run_id, "dry_run": dry, **decision.to_dict()})
    if store_audit:
        _store_audit(state, settings, result)
    if publish_fn is not None:
        _publish_all(publish_fn, state, settings, plan, result)
    return result


def write_audit(  # noqa: PLR0917 - partial(write_audit, state, settings) is the idle finder's audit port
    state: StateStore,
    settings: Settings,
    run_id: str,
    started_at: datetime,
    dry_run: bool,
    decisions: Sequence[Decision],
    errors: Sequence[SourceError] = (),
) -> str | None:
    """One audit item per decision (and per source error) under ``audit#<date>``: the reaper's and every other
    caller that acts through the registry (the idle finder's marks). Returns the error text if the write failed."""
    pk = f"audit#{started_at.strftime('%Y-%m-%d')}"
    items = audit_items(run_id, started_at, dry_run, decisions)  # the one audit record shape
    items += [(pk, f"{run_id}#error#{e.region}#{e.source}", {"run_id": run_id, **e.__dict__}) for e in errors]
    try:
        state.put_many(items, ttl_days=settings.reaper.audit_ttl_days)
    except Exception as error:  # recorded (decision, summary or log); the run goes on
        log.error("audit write failed", extra={"error": error_text(error)})
        return error_text(error)
    return None


def _store_audit(state: StateStore, settings: Settings, result: RunResult) -> None:
    result.audit_error = write_audit(
        state, settings, result.run_id, result.started_at, result.dry_run, result.decisions, result.errors
    )


@dataclass
class _Publishing:
    publish_fn: Publisher
    state: StateStore
    result: RunResult
    now: datetime
    policy: TagPolicy

    def send(self, event: AlertEvent) -> bool:
        try:
            self.publish_fn(event)
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            self.result.publish_errors.append(f"{event.kind.value}/{event.team}: {error_text(error)}")
            return False
        self.result.events.append(event)
        return True

    def once(self, pk: str, sk: str, event: AlertEvent) -> None:
        """Publish ``event`` unless ``(pk, sk)`` says it was already sent; forget the marker if sending fails."""
        first = self.state.put_if_absent(pk, sk, {"sent_at": self.now.isoformat()}, ttl_days=DEDUP_TTL_DAYS)
        if first and not self.send(event):
            self.state.delete(pk, sk)  # not sent: the next run tries again

    def warnings(self, plan: Plan) -> None:
        status = {d.arn: d.status for d in self.result.decisions}
        for warning in plan.warnings:
            if warning.marked and status.get(warning.resource.arn) is not Status.DONE:
                continue  # only warn about a mark that was really written
            # First sighting: the anchor of ``reaper.max_lifetime_days`` where the launch time is unknown.
            self.state.put_if_absent(FIRST_SEEN_PK, warning.resource.arn, {"at": self.now.isoformat()})
            self.once(
                f"dedup#expiry#{warning.resource.arn}",
                f"{warning.expires_at}#{warning.threshold_hours}h",
                alerts.expiry_warning(warning, self.now, self.result.dry_run, self.policy),
            )

    def violations(self, plan: Plan) -> None:
        new: dict[str, list[Any]] = defaultdict(list)
        for violation in plan.violations:
            pk, sk = f"dedup#tagviolation#{violation.resource.arn}", violation.value
            if self.state.put_if_absent(pk, sk, {"sent_at": self.now.isoformat()}, ttl_days=DEDUP_TTL_DAYS):
                new[violation.team].append(violation)
        for team, violations in sorted(new.items()):
            if not self.send(alerts.tag_violation(team, violations, self.now, self.policy)):
                for v in violations:
                    self.state.delete(f"dedup#tagviolation#{v.resource.arn}", v.value)

    def summaries(self, plan: Plan, operator_team: str) -> None:
        if plan.blocked and not self.result.dry_run:
            event = alerts.reap_blocked(operator_team, self.result.decisions, plan.cap, self.now)
            self.once("dedup#reapblocked", event.dedup_key, event)
        acted: dict[str, list[Decision]] = defaultdict(list)
        for decision in self.result.decisions:
            if decision.status in (Status.DONE, Status.FAILED) and decision.action != MARK_ACTION:
                acted[decision.team].append(decision)
        for team, decisions in sorted(acted.items()):
            self.send(alerts.reaped(team, decisions, self.result.run_id, self.now, self.policy))


def _publish_all(publish_fn: Publisher, state: StateStore, settings: Settings, plan: Plan, result: RunResult) -> None:
    publishing = _Publishing(publish_fn, state, result, result.started_at, settings.tags)
    publishing.warnings(plan)
    publishing.violations(plan)
    publishing.summaries(plan, operator_team(settings))
