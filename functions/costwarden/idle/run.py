"""One idle-finder run: scan → (``expire``) marks through the registry → audit → weekly alerts → digest summary.

Everything AWS comes in as parameters (``ports``, ``store``, ``audit``, ``publish_fn``), so the Lambda handler, the
CLI, the demo and the tests run exactly this code. Marks are written only when ``idle.action`` is ``expire`` *and*
``apply`` is true (the handler: ``reaper.dry_run`` is off; the CLI: ``--apply``); otherwise they are planned and
shown. Marks use the registry types' ``tag()``/``untag()`` — the reaper's own path, under its cap and its audit.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from costwarden.core.owner import operator_team
from costwarden.idle import alerts
from costwarden.idle.marks import MarkPlan, plan_marks
from costwarden.idle.model import SUMMARY_PK, SUMMARY_SK, Finding
from costwarden.idle.service import Ports, Scan, scan
from costwarden.models.alert import AlertEvent
from costwarden.models.idle_ports import Store
from costwarden.resources import REGISTRY
from costwarden.resources.base import error_text
from costwarden.resources.model import Decision, Status
from costwarden.settings import Settings

log = logging.getLogger("costwarden.idle")

#: ``(run_id, started_at, dry_run, decisions)`` → error text or None (``reaper.execute.write_audit`` bound).
Audit = Callable[[str, datetime, bool, Sequence[Decision]], str | None]
Publisher = Callable[[AlertEvent], object]

DEDUP_TTL_DAYS = 21
#: CloudWatch's price of GetMetricData: USD per 1,000 metrics requested.
USD_PER_1000_METRICS = 0.01


@dataclass
class IdleRun:
    run_id: str
    scan: Scan
    action: str
    applied: bool
    marks: MarkPlan
    decisions: list[Decision] = field(default_factory=list)
    events: list[AlertEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return self.scan.findings

    def summary(self, requests: dict[str, int] | None = None) -> dict[str, Any]:
        """The run summary: counts, money, requests by operation and what the scan's own metric reads cost."""
        waste, other, unpriced = alerts.sums(self.findings)
        kinds: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            kinds[finding.kind.value] += 1
        marks: dict[str, int] = defaultdict(int)
        for decision in self.decisions:
            marks[f"{decision.action}:{decision.status.value}"] += 1
        return {
            "run_id": self.run_id,
            "regions": self.scan.regions,
            "findings": len(self.findings),
            "kinds": dict(kinds),
            "waste_usd_per_month": round(waste, 2),
            "other_usd_per_month": round(other, 2),
            "unpriced": unpriced,
            "waste_by_team": {k: round(v, 2) for k, v in self.scan.waste_by_team().items()},
            "busy": len(self.scan.busy),
            "not_judged": len(self.scan.not_judged),
            "expected_idle": self.scan.expected_idle,
            "action": self.action,
            "applied": self.applied,
            "marks": dict(marks),
            "blocked": self.marks.blocked,
            "metrics_queried": self.scan.metrics_queried,
            "metric_requests": self.scan.metric_requests,
            "requests": dict(requests or {}),
            "scan_cost_usd": round(self.scan.metrics_queried * USD_PER_1000_METRICS / 1000, 4),
            "events": [f"{e.kind.value}:{e.team}" for e in self.events],
            "errors": self.errors + self.scan.errors,
        }


def _execute(ports: Ports, plan: MarkPlan, settings: Settings) -> dict[str, tuple[Status, str]]:
    """Write the planned marks and unmarks through the registry types, batched per (region, type)."""
    outcome: dict[str, tuple[Status, str]] = {}
    marks: dict[tuple[str, str, str, str], list[Any]] = defaultdict(list)
    for resource, _, expiry, marker in plan.marks:
        marks[(resource.region, resource.type, expiry, marker)].append(resource)
    for (region, type_name, expiry, marker), group in sorted(marks.items()):
        tags = {settings.tags.expires_key: expiry, settings.idle.marker_key: marker}
        try:
            results = REGISTRY[type_name].tag(ports.clients, region, group, tags)
        except Exception as error:  # recorded in the decision; the run goes on
            results = {r.arn: error_text(error) for r in group}
        for resource in group:
            err = results.get(resource.arn, "no result returned")
            outcome[resource.arn] = (Status.FAILED, err) if err else (Status.DONE, "")
    unmarks: dict[tuple[str, str, tuple[str, ...]], list[Any]] = defaultdict(list)
    for resource, _, keys in plan.unmarks:
        unmarks[(resource.region, resource.type, keys)].append(resource)
    for (region, type_name, keys), group in sorted(unmarks.items()):
        try:
            results = REGISTRY[type_name].untag(ports.clients, region, group, keys)
        except Exception as error:  # recorded in the decision; the run goes on
            results = {r.arn: error_text(error) for r in group}
        for resource in group:
            err = results.get(resource.arn, "no result returned")
            outcome[resource.arn] = (Status.FAILED, err) if err else (Status.DONE, "")
    return outcome


def run_idle(
    settings: Settings,
    *,
    regions: Sequence[str],
    ports: Ports,
    store: Store | None = None,
    audit: Audit | None = None,
    publish_fn: Publisher | None = None,
    apply: bool = False,
    now: datetime | None = None,
) -> IdleRun:
    """Run the idle finder once (see the module docstring)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-idle-{uuid.uuid4().hex[:8]}"
    result = scan(settings, regions=regions, ports=ports, now=now)
    expire = settings.idle.action == "expire"
    plan = (
        plan_marks(result.findings, result.resources, result.busy, settings, now)
        if expire
        else MarkPlan(cap=settings.reaper.max_actions_per_run)
    )
    applied = expire and apply and not plan.blocked
    decisions = list(plan.decisions)
    if applied and (plan.marks or plan.unmarks):
        outcome = _execute(ports, plan, settings)
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
    run = IdleRun(run_id, result, settings.idle.action, applied, plan, decisions)
    for decision in decisions:
        log.info("idle decision", extra={"run_id": run_id, "applied": applied, **decision.to_dict()})
    if audit is not None and decisions:
        error = audit(run_id, now, not applied, decisions)
        if error:
            run.errors.append(f"audit write failed: {error}")
    if store is not None:
        try:
            store.put(SUMMARY_PK, SUMMARY_SK, alerts.digest_summary(result.findings, now), ttl_days=DEDUP_TTL_DAYS)
        except Exception as error:  # the digest then says the idle summary is missing
            run.errors.append(f"idle summary not stored: {error_text(error)}")
    if publish_fn is not None and store is not None:
        _publish(run, settings, store, publish_fn, now)
    return run


def _send_once(run: IdleRun, store: Store, publish_fn: Publisher, event: AlertEvent, now: datetime) -> None:
    pk, sk = f"dedup#idle#{event.team}", event.details["week"]
    if not store.put_if_absent(pk, sk, {"sent_at": now.isoformat()}, ttl_days=DEDUP_TTL_DAYS):
        return  # this week's alert was already sent
    try:
        publish_fn(event)
    except Exception as error:  # recorded; the marker is dropped so the next run tries again
        store.delete(pk, sk)
        run.errors.append(f"idle/{event.team}: {error_text(error)}")
        return
    run.events.append(event)


def _publish(run: IdleRun, settings: Settings, store: Store, publish_fn: Publisher, now: datetime) -> None:
    by_team: dict[str, list[Finding]] = defaultdict(list)
    for finding in run.findings:
        by_team[finding.team].append(finding)
    marked: dict[str, int] = defaultdict(int)
    for decision in run.decisions:
        if decision.action == "idle-mark" and decision.status is Status.DONE:
            marked[decision.team] += 1
    for team, findings in sorted(by_team.items()):
        _send_once(run, store, publish_fn, alerts.team_alert(team, findings, settings.idle, now, marked[team]), now)
    if run.findings:
        operator = operator_team(settings)
        _send_once(run, store, publish_fn, alerts.account_alert(operator, run.findings, settings.idle, now), now)
