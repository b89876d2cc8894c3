"""The hard limit at 200 % (issue 13, opt-in per team: ``budgets.hard_limit``): Enforce / Hold / Lift.

Enforcing, for one team:

1. stops its running EC2 instances tagged ``environment`` development or experiment — listed by the registry's EC2
   type and stopped through the one action path (``core.act.act_on``: never production, never protected, only
   development/experiment, all or nothing under ``reaper.max_actions_per_run`` — more candidates than the cap:
   nothing is stopped, the reply says so —, every decision audited in the reaper's record shape);
2. attaches the inline policy ``costwarden-hard-limit`` (deny ``ec2:RunInstances`` and SageMaker job / endpoint
   creation for requests tagging resources with the team) to each of the team's ``slack.launch_roles``.

What was attached is recorded (state ``hardlimit#<team>``); *Lift* deletes exactly those policies and nothing
else — an operator's own inline policies on the same roles are never touched. Stopped instances are not started
again by Lift (starting spend is a human decision); the record lists them.

All AWS calls go through ``clients`` — in a deployment, clients of the hard-limit role (its own role, with tag
conditions, deployed only when some team opts in), never the endpoint's own.

Not built yet: ``auto`` mode's timer (enforce after ``hard_limit_grace_hours`` unless *Hold*) and lifting when
the episode ends; *Hold* is recorded so that timer can honour it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from costwarden.core.act import Guard, Request, Rules, Trigger, Verb, act_on, decision_for, state_audit
from costwarden.models.ports import StateStore
from costwarden.resources import REGISTRY, Clients
from costwarden.resources.base import error_text
from costwarden.resources.ec2_instance import Ec2Instance
from costwarden.resources.model import Resource, Status
from costwarden.settings import Settings

POLICY_NAME = "costwarden-hard-limit"
STATE_PK = "hardlimit"
STOPPABLE_ENVIRONMENTS = ("development", "experiment")
#: Instance states the hard limit stops (a stopping or stopped instance costs no compute any more).
RUNNING_STATES = frozenset({"pending", "running"})
STOP_ACTION = "stop"
DENIED_ACTIONS = (
    "ec2:RunInstances",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
)


def mode(settings: Settings, team: str) -> str:
    return settings.budgets.hard_limit.get(team, "off")


def deny_policy(settings: Settings, team: str) -> dict[str, Any]:
    """Deny launching anything tagged with ``team`` (like an AWS Budgets action, scoped by tag)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CostwardenHardLimit",
                "Effect": "Deny",
                "Action": list(DENIED_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:RequestTag/{settings.tags.team_key}": team}},
            }
        ],
    }


def _running(clients: Clients, region: str, settings: Settings, team: str) -> list[Resource]:
    """The team's running instances in ``region``, listed by the registry's EC2 type (every page of
    ``DescribeInstances``, 1,000 a page: requests grow with pages, not instances)."""
    instances = REGISTRY[Ec2Instance.name].list_every(clients, region)
    return [r for r in instances if r.state in RUNNING_STATES and r.tags.get(settings.tags.team_key) == team]


def _stop(
    clients: Clients,
    settings: Settings,
    state: StateStore,
    team: str,
    *,
    regions: Sequence[str],
    by: str,
    now: datetime,
) -> tuple[list[str], list[dict[str, str]], str]:
    """``(stopped ids, decisions, problem)``: the team's dev/experiment EC2 stopped through the one action path
    (protect tag, never production, only development/experiment, all or nothing under the cap, audited)."""
    candidates = [r for region in regions for r in _running(clients, region, settings, team)]
    reason = f"hard limit of {team} enforced by {by}"
    batch = act_on(
        [
            Request(r, Verb.STOP, decision_for(r, STOP_ACTION, settings.tags, team=team, reason=reason))
            for r in candidates
        ],
        trigger=Trigger.HARD_LIMIT,
        rules=Rules.for_settings(settings, allow_production=False, environments=STOPPABLE_ENVIRONMENTS),
        dry_run=False,
        clients=clients,
        audit=state_audit(state, settings.reaper.audit_ttl_days),
        now=now,
    )
    decisions = [
        {"id": o.decision.id, "region": o.decision.region, "status": o.status.value, "reason": o.note}
        for o in batch.outcomes
    ]
    if batch.blocked:
        count, cap = len(batch.refused(Guard.CAP)), settings.reaper.max_actions_per_run
        return [], decisions, f"{count} instances to stop, above reaper.max_actions_per_run ({cap})"
    return [o.decision.id for o in batch.outcomes if o.status is Status.DONE], decisions, ""


def enforce(
    settings: Settings,
    state: StateStore,
    clients: Clients,
    team: str,
    *,
    by: str,
    now: datetime,
    regions: Sequence[str],
) -> tuple[str, str, dict[str, Any]]:
    """``(status, reply, record)``: stop and deny; refused when off or already enforced."""
    if mode(settings, team) == "off":
        return "refused", f"The hard limit is off for {team} (budgets.hard_limit).", {}
    current = state.get(STATE_PK, team)
    if current and current.get("active"):
        return "refused", f"The hard limit of {team} is already enforced (by {current.get('by')}).", {}
    stopped, decisions, problem = _stop(clients, settings, state, team, regions=regions, by=by, now=now)
    if problem:
        return "refused", f"Not enforced: {problem}. Stop by hand or raise the cap.", {"decisions": decisions}
    entry = settings.teams.get(team)
    roles = list(entry.slack.launch_roles) if entry is not None else []
    document = json.dumps(deny_policy(settings, team))
    attached, failures = [], []
    iam = clients("iam", regions[0])
    for role in roles:
        try:
            iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=document)
            attached.append(role)
        except Exception as error:  # named in the reply and the record
            failures.append(f"{role}: {error_text(error)}")
    record = {
        "active": True,
        "by": by,
        "at": now.isoformat(),
        "attached": attached,
        "policy_name": POLICY_NAME,
        "stopped": stopped,
        "decisions": decisions,
        "failures": failures,
    }
    state.put(STATE_PK, team, record)
    reply = (
        f"Hard limit enforced for {team}: {len(stopped)} instance(s) stopped, deny-launch on {len(attached)} role(s)"
    )
    if failures:
        reply += f"; failed on {len(failures)}: {'; '.join(failures)[:300]}"
    return ("done" if not failures else "failed"), reply, record


def lift(
    state: StateStore, clients: Clients, team: str, *, by: str, now: datetime, region: str
) -> tuple[str, str, dict[str, Any]]:
    """Delete exactly the policies ``enforce`` attached; ``(status, reply, record)``."""
    current = state.get(STATE_PK, team)
    if not current or not current.get("active"):
        return "refused", f"No hard limit is enforced for {team}.", {}
    iam = clients("iam", region)
    removed, failures = [], []
    for role in current.get("attached", []):
        try:
            iam.delete_role_policy(RoleName=role, PolicyName=str(current.get("policy_name", POLICY_NAME)))
            removed.append(role)
        except Exception as error:  # NoSuchEntity: already gone, which is what Lift wants
            if "NoSuchEntity" in error_text(error):
                removed.append(role)
            else:
                failures.append(f"{role}: {error_text(error)}")
    record = {k: v for k, v in current.items() if k not in {"pk", "sk", "expiration"}}
    record.update(
        active=bool(failures),
        attached=[r for r in current.get("attached", []) if r not in removed],
        lifted_by=by,
        lifted_at=now.isoformat(),
    )
    state.put(STATE_PK, team, record)
    if failures:
        return "failed", f"Lift incomplete for {team}: {'; '.join(failures)[:300]}", record
    return "done", f"Hard limit lifted for {team}: deny-launch removed from {len(removed)} role(s)", record


def hold(state: StateStore, team: str, *, by: str, now: datetime) -> tuple[str, str, dict[str, Any]]:
    """Record *Hold*: an ``auto`` hard limit must not be enforced for this episode."""
    current = state.get(STATE_PK, team) or {}
    if current.get("active"):
        return "refused", f"The hard limit of {team} is already enforced: use Lift.", {}
    record = {k: v for k, v in current.items() if k not in {"pk", "sk", "expiration"}}
    record.update(held_by=by, held_at=now.isoformat(), active=False)
    state.put(STATE_PK, team, record)
    return "done", f"Hard limit held for {team}", record
