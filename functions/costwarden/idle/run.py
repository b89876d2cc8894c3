"""One idle-finder run: scan → (``expire``) marks through the registry → audit → weekly alerts → digest summary.

Everything AWS comes in as parameters (``ports``, ``store``, ``audit``, ``publish_fn``), so the Lambda handler, the
CLI, the demo and the tests run exactly this code. Marks are written only when ``idle.action`` is ``expire`` *and*
``apply`` is true (the handler: ``reaper.dry_run`` is off; the CLI: ``--apply``); otherwise they are planned and
shown. Marks and unmarks go through the one action path (``core.act.act_on``): the reaper's guards, its cap and
its audit record, then the registry types' ``tag()``/``untag()``.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from costwarden.core.act import Audit, Request, Rules, Trigger, Verb, act_on
from costwarden.core.keys import IDLE_SUMMARY_PK as SUMMARY_PK
from costwarden.core.keys import IDLE_SUMMARY_SK as SUMMARY_SK
from costwarden.core.owner import operator_team
from costwarden.core.publish import send_once
from costwarden.idle import alerts, k8s_gpu
from costwarden.idle.keeps import active_keeps
from costwarden.idle.marks import EXPIRABLE_ENVIRONMENTS, MarkPlan, plan_marks
from costwarden.idle.model import Finding
from costwarden.idle.service import Ports, Scan, scan
from costwarden.models.alert import AlertEvent
from costwarden.models.idle_ports import Store
from costwarden.models.ports import K8sSource, Publisher
from costwarden.resources.base import error_text
from costwarden.resources.model import Decision, Status
from costwarden.settings import Settings

log = logging.getLogger("costwarden.idle")


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


def _requests(plan: MarkPlan, settings: Settings) -> list[Request]:
    """The planned marks (expiry + marker tags) and unmarks (the keys it set) as requests for the one action path."""
    requests = [
        Request(
            resource, Verb.TAG, decision, tags={settings.tags.expires_key: expiry, settings.idle.marker_key: marker}
        )
        for resource, decision, expiry, marker in plan.marks
    ]
    requests += [Request(resource, Verb.UNTAG, decision, keys=keys) for resource, decision, keys in plan.unmarks]
    return requests


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
    k8s: K8sSource | None = None,
    found_elsewhere: Sequence[Finding] = (),
) -> IdleRun:
    """Run the idle finder once (see the module docstring). ``k8s``: EKS split cost facts, whose idle GPU nodes join
    the findings when ``k8s_guard.enabled`` (``idle.k8s_gpu``). ``found_elsewhere``: findings of another source (unit
    costs: a denominator at zero while cost continues) reported, kept and alerted like the scan's own; a resource
    the scan already found is reported once, as the scan found it. They are never marked for expiry."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-idle-{uuid.uuid4().hex[:8]}"
    result = scan(settings, regions=regions, ports=ports, now=now)
    seen = {f.arn for f in result.findings}
    result.findings += [f for f in found_elsewhere if f.arn not in seen]
    if k8s is not None and settings.k8s_guard.enabled:
        gpu_nodes, problems = k8s_gpu.read_findings(k8s, settings, now)
        result.findings = sorted(
            [*result.findings, *gpu_nodes], key=lambda f: (f.monthly_usd is None, -(f.monthly_usd or 0.0), f.arn)
        )
        result.errors += problems
    kept = _leave_out_kept(result, store, now)
    expire = settings.idle.action == "expire"
    plan = (
        plan_marks(result.findings, result.resources, result.busy, settings, now, kept=kept)
        if expire
        else MarkPlan(cap=settings.reaper.max_actions_per_run)
    )
    applied = expire and apply and not plan.blocked
    decisions = list(plan.decisions)
    errors: list[str] = []
    acted: set[str] = set()
    if expire and not plan.blocked and (plan.marks or plan.unmarks):
        # Marks go through the reaper's own guards (and IAM's): never production, only development/experiment.
        rules = Rules.for_settings(settings, allow_production=False, environments=EXPIRABLE_ENVIRONMENTS)
        batch = act_on(
            _requests(plan, settings),
            trigger=Trigger.IDLE_EXPIRY,
            rules=rules,
            dry_run=not applied,
            clients=ports.clients,
            audit=audit,
            now=now,
            run_id=run_id,
        )
        decisions = batch.settle(decisions)
        acted = {o.arn for o in batch.outcomes}
        if batch.audit_error:
            errors.append(f"audit write failed: {batch.audit_error}")
    run = IdleRun(run_id, result, settings.idle.action, applied, plan, decisions, errors=errors)
    for decision in decisions:
        log.info("idle decision", extra={"run_id": run_id, "applied": applied, **decision.to_dict()})
    rest = [d for d in decisions if d.arn not in acted]  # act_on audited the others
    if audit is not None and rest:
        error = audit(run_id, now, not applied, rest)
        if error and not run.errors:  # a failing store is said once
            run.errors.append(f"audit write failed: {error}")
    if store is not None:
        try:
            store.put(SUMMARY_PK, SUMMARY_SK, alerts.digest_summary(result.findings, now), ttl_days=DEDUP_TTL_DAYS)
        except Exception as error:  # the digest then says the idle summary is missing
            run.errors.append(f"idle summary not stored: {error_text(error)}")
    if publish_fn is not None and store is not None:
        _publish(run, settings, store, publish_fn, now)
    return run


def _leave_out_kept(result: Scan, store: Store | None, now: datetime) -> set[str]:
    """Drop the findings of resources kept from Slack (``idle.keeps``) until their keep expires; the kept ARNs.
    A keep that cannot be read leaves every finding in (reported, never silently quiet)."""
    if store is None:
        return set()
    try:
        kept = set(active_keeps(store, now))
    except Exception as error:  # the findings stay; the run says why keeps were not applied
        result.errors.append(f"idle keeps not read: {error_text(error)}")
        return set()
    before = len(result.findings)
    result.findings = [f for f in result.findings if f.arn not in kept]
    result.expected_idle += before - len(result.findings)
    return kept


def _send_once(run: IdleRun, store: Store, publish_fn: Publisher, event: AlertEvent, now: datetime) -> None:
    """This week's alert for the team, once (``core.publish``); a failure is recorded and retried next run."""
    key = (f"dedup#idle#{event.team}", str(event.details["week"]))
    sent = send_once(event, key=key, store=store, publish=publish_fn, ttl_days=DEDUP_TTL_DAYS, now=now)
    if sent.error is not None:
        run.errors.append(f"idle/{event.team}: {error_text(sent.error)}")
    elif sent.sent:
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
