"""One reaper run: inventory → plan → (check protection) → act (unless dry run) → warn → audit → publish.

Everything AWS comes in as parameters (``clients``, ``state``, ``publish_fn``), so the CLI, the Lambda handler,
the demo and the tests run exactly this code. Actions and marks go through the one action path
(``core.act.act_on``: guards, cap, dry run, audit record), whoever triggered the run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from costwarden.core.act import BatchResult, Request, Rules, Trigger, Verb, act_on
from costwarden.core.act import write_audit as record_audit
from costwarden.core.keys import FIRST_SEEN_PK
from costwarden.core.owner import operator_team
from costwarden.core.publish import Sent, send_once, send_once_each
from costwarden.models.alert import AlertEvent
from costwarden.models.idle_ports import PriceBook
from costwarden.models.ports import Publisher as Publisher  # noqa: PLC0414 - re-exported for the reaper's callers
from costwarden.models.ports import StateStore
from costwarden.reaper import alerts
from costwarden.reaper.plan import Plan, make_plan
from costwarden.resources import REGISTRY, Clients
from costwarden.resources.base import error_text
from costwarden.resources.inventory import SourceError, collect
from costwarden.resources.model import MARK_ACTION, Decision, Resource, Status, new_run_id
from costwarden.settings import Settings, TagPolicy

log = logging.getLogger("costwarden.reaper")

#: How long "already warned" / "already reported" markers live (longer than any sensible expiry horizon).
DEDUP_TTL_DAYS = 90
#: Partition of "first seen" markers (sk: resource ARN), written with a resource's first expiry warning.


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


def _requests(plan: Plan, policy: TagPolicy) -> list[Request]:
    """The plan's actions and marks as requests for the one action path (its guards, cap, dry run and audit)."""
    requests = [Request(resource, Verb.ACT, decision) for resource, decision in plan.actions]
    requests += [
        Request(resource, Verb.TAG, decision, tags={policy.expires_key: value})
        for resource, decision, value in plan.marks
    ]
    return requests


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
    trigger: Trigger = Trigger.SCHEDULE,
    prices: PriceBook | None = None,
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
    audit = partial(write_audit, state, settings) if store_audit else None
    batch: BatchResult | None = None
    if not plan.blocked and (plan.actions or plan.marks):
        batch = act_on(
            _requests(plan, policy),
            trigger=trigger,
            rules=Rules.for_settings(settings),
            dry_run=dry,
            clients=clients,
            audit=audit,
            now=now,
            run_id=run_id,
        )
        decisions = batch.settle(decisions)
    result = RunResult(run_id, now, dry, list(regions), decisions, inventory.errors, plan.blocked)

    for decision in decisions:
        log.info("reaper decision", extra={"run_id": run_id, "dry_run": dry, **decision.to_dict()})
    if store_audit:
        _store_audit(state, settings, result, batch)
    if publish_fn is not None:
        _publish_all(publish_fn, state, settings, plan, result, prices=prices)
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
    """One audit item per decision (and per source error) under ``audit#<date>``, in the one record shape
    (``core.act.write_audit``). Returns the error text if the write failed."""
    pk = f"audit#{started_at.strftime('%Y-%m-%d')}"
    extra = [(pk, f"{run_id}#error#{e.region}#{e.source}", {"run_id": run_id, **e.__dict__}) for e in errors]
    return record_audit(
        state,
        settings.reaper.audit_ttl_days,
        run_id=run_id,
        started_at=started_at,
        dry_run=dry_run,
        decisions=decisions,
        extra=extra,
    )


def _store_audit(state: StateStore, settings: Settings, result: RunResult, batch: BatchResult | None = None) -> None:
    """Audit what the action path did not: ``act_on`` recorded the decisions of its ``batch`` itself."""
    done = {o.arn for o in batch.outcomes} if batch is not None else set()
    rest = [d for d in result.decisions if d.arn not in done]
    error = write_audit(state, settings, result.run_id, result.started_at, result.dry_run, rest, result.errors)
    result.audit_error = (batch.audit_error if batch is not None else None) or error


@dataclass
class _Publishing:
    publish_fn: Publisher
    state: StateStore
    result: RunResult
    now: datetime
    policy: TagPolicy
    prices: PriceBook | None = None  # what a reaped resource cost a month (issue 22); None: no prices read

    def send(self, event: AlertEvent) -> bool:
        try:
            self.publish_fn(event)
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            self.result.publish_errors.append(f"{event.kind.value}/{event.team}: {error_text(error)}")
            return False
        self.result.events.append(event)
        return True

    def once(self, pk: str, sk: str, event: AlertEvent) -> None:
        """Publish ``event`` unless ``(pk, sk)`` says it was already sent (``core.publish``: retried next run if
        sending fails)."""
        self._record(
            send_once(
                event, key=(pk, sk), store=self.state, publish=self.publish_fn, ttl_days=DEDUP_TTL_DAYS, now=self.now
            )
        )

    def _record(self, sent: Sent[AlertEvent, Any]) -> None:
        if sent.error is not None and sent.event is not None:  # recorded (summary or log); the run goes on
            self.result.publish_errors.append(f"{sent.event.kind.value}/{sent.event.team}: {error_text(sent.error)}")
        elif sent.sent and sent.event is not None:
            self.result.events.append(sent.event)

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
        """One alert per team naming the violations not reported before (one dedup record per violation)."""
        by_team: dict[str, list[Any]] = defaultdict(list)
        for violation in plan.violations:
            by_team[violation.team].append(violation)
        for team, violations in sorted(by_team.items()):
            self._record(
                send_once_each(
                    violations,
                    key=_violation_key,
                    build=partial(self._violation_alert, team),
                    store=self.state,
                    publish=self.publish_fn,
                    ttl_days=DEDUP_TTL_DAYS,
                    now=self.now,
                )
            )

    def _violation_alert(self, team: str, violations: list[Any]) -> AlertEvent:
        return alerts.tag_violation(team, violations, self.now, self.policy)

    def summaries(self, plan: Plan, operator_team: str) -> None:
        if plan.blocked and not self.result.dry_run:
            event = alerts.reap_blocked(operator_team, self.result.decisions, plan.cap, self.now)
            self.once("dedup#reapblocked", event.dedup_key, event)
        acted: dict[str, list[Decision]] = defaultdict(list)
        for decision in self.result.decisions:
            if decision.status in (Status.DONE, Status.FAILED) and decision.action != MARK_ACTION:
                acted[decision.team].append(decision)
        for team, decisions in sorted(acted.items()):
            tags = {resource.arn: resource.tags for resource, _ in plan.actions}
            saves = alerts.monthly_savings(plan.actions, self.prices) if self.prices is not None else None
            self.send(
                alerts.reaped(team, decisions, self.result.run_id, self.now, self.policy, tags=tags, monthly_usd=saves)
            )


def _violation_key(violation: Any) -> tuple[str, str]:
    return f"dedup#tagviolation#{violation.resource.arn}", violation.value


def _publish_all(
    publish_fn: Publisher,
    state: StateStore,
    settings: Settings,
    plan: Plan,
    result: RunResult,
    *,
    prices: PriceBook | None = None,
) -> None:
    publishing = _Publishing(publish_fn, state, result, result.started_at, settings.tags, prices)
    publishing.warnings(plan)
    publishing.violations(plan)
    publishing.summaries(plan, operator_team(settings))
