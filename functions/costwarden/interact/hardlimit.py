"""The hard limit at 200 % (issue 13, opt-in per team: ``budgets.hard_limit``): Enforce / Hold / Lift.

Enforcing, for one team:

1. stops what of the team's is running and tagged ``environment`` development or experiment — EC2 instances,
   SageMaker notebook instances (``StopNotebookInstance``), training jobs (``StopTrainingJob``) and processing jobs
   (``StopProcessingJob``) — each listed by its registry type and stopped through the one action path
   (``core.act.act_on``: never production, never protected, only development/experiment, all or nothing under
   ``reaper.max_actions_per_run`` — more candidates than the cap: nothing is stopped, the reply says so —, every
   decision audited in the reaper's record shape);
2. SageMaker endpoints cannot be stopped, only deleted (or scaled to zero, which only serverless and inference
   components allow): with ``budgets.hard_limit_endpoints: off`` (the default) they go through the same path as a
   *dry run* — guards applied, audited as planned with ``dry_run`` true — and the reply names what would be
   deleted; with ``delete`` they are deleted (the reaper's action for an expired endpoint);
3. attaches the inline policy ``costwarden-hard-limit`` (deny ``ec2:RunInstances`` and SageMaker job / endpoint
   creation for requests tagging resources with the team) to each of the team's ``slack.launch_roles``.

What was attached is recorded (state ``hardlimit#<team>``); *Lift* deletes exactly those policies and nothing
else — an operator's own inline policies on the same roles are never touched. Stopped resources are not started
again by Lift (starting spend is a human decision); the record lists them.

All AWS calls go through ``clients`` — in a deployment, clients of the hard-limit role (its own role, with tag
conditions, deployed only when some team opts in), never the endpoint's own.

``auto`` mode (enforced after a grace period unless on-call presses *Hold*) is ``interact/hardlimit_timer.py``.
Not built: lifting by itself when the episode ends (*Lift* is a human decision, like starting spend again).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from costwarden.core import act
from costwarden.core.act import Guard, Request, Rules, Trigger, Verb, act_on, decision_for, state_audit
from costwarden.models.ports import StateStore
from costwarden.resources import REGISTRY, Clients
from costwarden.resources.base import error_text
from costwarden.resources.ec2_instance import Ec2Instance
from costwarden.resources.model import Resource, Status
from costwarden.resources.sagemaker_endpoint import SageMakerEndpoint
from costwarden.resources.sagemaker_jobs import SageMakerProcessingJob, SageMakerTrainingJob
from costwarden.resources.sagemaker_notebook import SageMakerNotebook
from costwarden.settings import Settings

POLICY_NAME = "costwarden-hard-limit"
STATE_PK = "hardlimit"
STOPPABLE_ENVIRONMENTS = ("development", "experiment")
#: Instance states the hard limit stops (a stopping or stopped instance costs no compute any more).
RUNNING_STATES = frozenset({"pending", "running"})
#: What the hard limit stops, per registry type: the states in which it still costs and can be stopped, and the
#: noun the reply counts it by. (A notebook can be stopped only once ``InService``; listed jobs are in progress.)
STOPPED: Mapping[str, tuple[frozenset[str], str]] = {
    Ec2Instance.name: (RUNNING_STATES, "instance(s)"),
    SageMakerNotebook.name: (frozenset({"InService"}), "notebook(s)"),
    SageMakerTrainingJob.name: (frozenset({"InProgress"}), "training job(s)"),
    SageMakerProcessingJob.name: (frozenset({"InProgress"}), "processing job(s)"),
}
#: Endpoint states in which an endpoint serves (and bills); the others are settling or already going.
SERVING_STATES = frozenset({"InService", "OutOfService", "Failed"})
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


def _running(
    clients: Clients, region: str, settings: Settings, team: str, *, type_name: str, states: frozenset[str]
) -> list[Resource]:
    """The team's resources of ``type_name`` in ``states`` in ``region``, listed by the registry type (every page:
    ``DescribeInstances`` 1,000 a page, the tagging API 100 a page — requests grow with pages, not resources)."""
    found = REGISTRY[type_name].list_every(clients, region)
    return [r for r in found if r.state in states and r.tags.get(settings.tags.team_key) == team]


def _decisions(batch: act.BatchResult) -> list[dict[str, str]]:
    return [
        {
            "id": o.decision.id,
            "type": o.decision.type,
            "region": o.decision.region,
            "status": o.status.value,
            "reason": o.note or o.decision.reason,
            "dry_run": str(batch.dry_run).lower(),
        }
        for o in batch.outcomes
    ]


@dataclass(frozen=True)
class _Enforcing:
    """One enforcement: who asked, for which team, where, with which clients and settings."""

    clients: Clients
    settings: Settings
    state: StateStore
    team: str
    regions: Sequence[str]
    by: str
    now: datetime

    def listed(self, type_name: str, states: frozenset[str]) -> list[Resource]:
        return [
            r
            for region in self.regions
            for r in _running(self.clients, region, self.settings, self.team, type_name=type_name, states=states)
        ]

    def batch(self, candidates: Sequence[Resource], verb: Verb, *, why: str, dry_run: bool) -> act.BatchResult:
        """One batch through the one action path: never production, only development/experiment, capped,
        audited."""
        settings, team = self.settings, self.team
        action = STOP_ACTION if verb is Verb.STOP else REGISTRY[SageMakerEndpoint.name].action
        reason = f"hard limit of {team} enforced by {self.by}" + (f"; {why}" if why else "")
        return act_on(
            [Request(r, verb, decision_for(r, action, settings.tags, team=team, reason=reason)) for r in candidates],
            trigger=Trigger.HARD_LIMIT,
            rules=Rules.for_settings(settings, allow_production=False, environments=STOPPABLE_ENVIRONMENTS),
            dry_run=dry_run,
            clients=self.clients,
            audit=state_audit(self.state, settings.reaper.audit_ttl_days),
            now=self.now,
        )


def _stop(run: _Enforcing) -> tuple[list[act.Outcome], list[dict[str, str]], str]:
    """``(done outcomes, decisions, problem)``: the team's running dev/experiment EC2 instances, notebooks and
    training/processing jobs stopped through the one action path (protect tag, never production, only
    development/experiment, all or nothing under the cap, audited)."""
    candidates = [r for type_name, (states, _noun) in STOPPED.items() for r in run.listed(type_name, states)]
    batch = run.batch(candidates, Verb.STOP, why="", dry_run=False)
    decisions = _decisions(batch)
    if batch.blocked:
        count, cap = len(batch.refused(Guard.CAP)), run.settings.reaper.max_actions_per_run
        return [], decisions, f"{count} resources to stop, above reaper.max_actions_per_run ({cap})"
    return [o for o in batch.outcomes if o.status is Status.DONE], decisions, ""


def _endpoints(run: _Enforcing) -> tuple[str, list[dict[str, str]]]:
    """``(reply part, decisions)`` for the team's serving dev/experiment endpoints: deleted only with
    ``budgets.hard_limit_endpoints: delete``, otherwise a dry run of the same path (guards, audit) that says so."""
    candidates = run.listed(SageMakerEndpoint.name, SERVING_STATES)
    if not candidates:
        return "", []
    delete = run.settings.budgets.hard_limit_endpoints == "delete"
    why = "budgets.hard_limit_endpoints is delete" if delete else "would delete: budgets.hard_limit_endpoints is off"
    batch = run.batch(candidates, Verb.ACT, why=why, dry_run=not delete)

    def names(status: Status) -> list[str]:
        return sorted(o.decision.id for o in batch.outcomes if o.status is status)

    if batch.blocked:
        return f"endpoints kept: {len(candidates)} above reaper.max_actions_per_run", _decisions(batch)
    if delete:
        done, failed = names(Status.DONE), names(Status.FAILED)
        part = f"{len(done)} endpoint(s) deleted" + (f", {len(failed)} failed" if failed else "")
        return part, _decisions(batch)
    planned = names(Status.PLANNED)
    if not planned:
        return "", _decisions(batch)
    shown = ", ".join(planned[:10]) + (f" and {len(planned) - 10} more" if len(planned) > 10 else "")
    part = (
        f"{len(planned)} endpoint(s) still serving (endpoints cannot be stopped; budgets.hard_limit_endpoints is off): "
        f"would delete {shown}"
    )
    return part, _decisions(batch)


def _counted(done: Sequence[act.Outcome]) -> str:
    """``2 instance(s) stopped`` (EC2 always named), then each SageMaker kind that was stopped."""
    counts = dict.fromkeys(STOPPED, 0)
    for outcome in done:
        counts[outcome.decision.type] += 1
    parts = [f"{counts[Ec2Instance.name]} {STOPPED[Ec2Instance.name][1]} stopped"]
    parts += [f"{n} {STOPPED[t][1]} stopped" for t, n in counts.items() if n and t != Ec2Instance.name]
    return ", ".join(parts)


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
    run = _Enforcing(clients, settings, state, team, regions, by, now)
    done, decisions, problem = _stop(run)
    if problem:
        return "refused", f"Not enforced: {problem}. Stop by hand or raise the cap.", {"decisions": decisions}
    endpoints, endpoint_decisions = _endpoints(run)
    entry = settings.teams.get(team)
    roles = list(entry.slack.launch_roles) if entry is not None else []
    document = json.dumps(deny_policy(settings, team))
    attached, failures = put_policies(clients("iam", regions[0]), roles, POLICY_NAME, document)
    record = {
        "active": True,
        "by": by,
        "at": now.isoformat(),
        "attached": attached,
        "policy_name": POLICY_NAME,
        "stopped": [o.decision.id for o in done],
        "decisions": [*decisions, *endpoint_decisions],
        "endpoints": endpoints,
        "failures": failures,
    }
    state.put(STATE_PK, team, record)
    reply = f"Hard limit enforced for {team}: {_counted(done)}, deny-launch on {len(attached)} role(s)"
    if endpoints:
        reply += f"; {endpoints}"
    if failures:
        reply += f"; failed on {len(failures)}: {'; '.join(failures)[:300]}"
    return ("done" if not failures else "failed"), reply, record


def lift(
    state: StateStore, clients: Clients, team: str, *, by: str, now: datetime, region: str
) -> tuple[str, str, dict[str, Any]]:
    """Delete exactly the policies ``enforce`` attached; ``(status, reply, record)``."""
    lifted = lift_policies(state, clients("iam", region), (STATE_PK, team), by=by, now=now, name=POLICY_NAME)
    if lifted is None:
        return "refused", f"No hard limit is enforced for {team}.", {}
    removed, failures, record = lifted
    if failures:
        return "failed", f"Lift incomplete for {team}: {'; '.join(failures)[:300]}", record
    return "done", f"Hard limit lifted for {team}: deny-launch removed from {len(removed)} role(s)", record


def put_policies(iam: Any, roles: Sequence[str], name: str, document: str) -> tuple[list[str], list[str]]:
    """``(attached, failures)``: ``document`` put as the inline policy ``name`` on each of ``roles`` (a failure is
    ``role: error``, named in the reply and the record). The hard limit's and the Bedrock deny's one way."""
    attached, failures = [], []
    for role in roles:
        try:
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
            attached.append(role)
        except Exception as error:  # named in the reply and the record
            failures.append(f"{role}: {error_text(error)}")
    return attached, failures


def lift_policies(
    state: StateStore, iam: Any, key: tuple[str, str], *, by: str, now: datetime, name: str
) -> tuple[list[str], list[str], dict[str, Any]] | None:
    """Delete exactly the policy the record ``key`` names from exactly the roles it lists, and write the record back
    (still active while a deletion failed); ``(removed, failures, record)``, None when nothing is enforced."""
    current = state.get(*key)
    if not current or not current.get("active"):
        return None
    removed, failures = [], []
    for role in current.get("attached", []):
        try:
            iam.delete_role_policy(RoleName=role, PolicyName=str(current.get("policy_name", name)))
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
    state.put(*key, record)
    return removed, failures, record
