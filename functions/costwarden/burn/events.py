"""CloudTrail API-call events, as EventBridge delivers them, read into the spend changes they make (pure).

An "AWS API Call via CloudTrail" event names the call (``detail.eventName``), who made it (``detail.userIdentity``),
where (``detail.awsRegion``), what was asked (``detail.requestParameters``) and what AWS answered
(``detail.responseElements``). Each call that starts, stops or resizes spend is one entry of ``CALLS``: which
resources it touches (their keys: ``ec2:i-0abc``, ``sagemaker-training:job``), their instance type and count, the
price list they are priced from (``service``), the market (on-demand, spot, capacity block) and the tags it was
created with. The SageMaker job state-change events (``detail-type`` "SageMaker Training Job State Change") end a
job as its stop call does.

What never counts: a failed call (``detail.errorCode`` present: nothing was launched), a call made by a service
on a parent's behalf (Auto Scaling's, EKS's or EMR's own ``RunInstances`` / ``TerminateInstances``: the parent's
desired count is what is counted), and an event of a call not listed (``Ignored``, with the reason). Every shape
check names where the event is malformed (``BurnInputError``): hostile input never raises anything else.

The calls and their readers are ``burn.calls``; reading a field with a check that names where is ``burn.fields``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from costwarden.burn.calls import API_CALL, CALLS, JOB_STATE_CHANGES, Action, Call, rule_patterns
from costwarden.burn.fields import BurnInputError, Params, Where

__all__ = [
    "API_CALL",
    "CALLS",
    "JOB_STATE_CHANGES",
    "BurnInputError",
    "Change",
    "Ignored",
    "read_event",
    "rule_patterns",
]

JOB_ENDED = frozenset({"Completed", "Failed", "Stopped"})
#: Tags a service puts on the instances it launches for a parent (the parent is counted, never its instances).
PARENT_TAGS = ("aws:autoscaling:groupName", "eks:nodegroup-name", "aws:elasticmapreduce:job-flow-id")

Market = Literal["on-demand", "spot", "capacity-block"]


@dataclass(frozen=True, kw_only=True)
class Change:
    """One spend change read from one event: ``action`` on ``resources`` (each ``count`` x ``instance_type``)."""

    event_id: str
    """EventBridge's id of the event (a redelivery carries the same one)."""
    time: datetime
    call: str = ""
    """``eventName`` (or the state-change event's ``detail-type``)."""
    region: str = ""
    account: str = ""
    """The account the call was made in (``recipientAccountId``)."""
    action: Action
    resource_type: str
    resources: tuple[str, ...]
    prefix: bool = False
    """``resources`` are key prefixes (an EMR cluster: every instance group of it)."""
    service: str = ""
    """The price list the type is priced from (``adapters/pricing.py`` ``SERVICES``); empty when not priced there."""
    instance_type: str = ""
    count: int = 1
    """Instances per resource (a training job's instance count, a group's desired capacity)."""
    market: Market = "on-demand"
    zone: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    caller: str = ""
    """``userIdentity.arn`` of who called."""
    role_arn: str = ""
    """The IAM role behind an assumed-role caller (whose tags own the launch when the request names no team)."""
    note: str = ""
    """Why it cannot be priced from the event alone (the endpoint config names the types, ...)."""


@dataclass(frozen=True)
class Ignored:
    """An event that changes no spend here, and why."""

    event_id: str
    reason: str


Read = Change | Ignored


def _time(raw: Any, where: Where) -> datetime:
    if not isinstance(raw, str) or not raw:
        raise where.fail("time", "missing (an ISO 8601 time, e.g. 2026-12-07T09:00:00Z)")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise where.fail("time", f"not an ISO 8601 time: {raw[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _caller(identity: Params) -> tuple[str, str, bool]:
    """Who called (``arn``), the role behind an assumed role, and whether a service called on a parent's behalf."""
    arn = identity.text("arn")
    issuer = identity.sub("sessionContext").sub("sessionIssuer")
    role = issuer.text("arn") if issuer.text("type") == "Role" else ""
    by_service = bool(identity.text("invokedBy").endswith(".amazonaws.com")) or identity.text("type") == "AWSService"
    return arn, role, by_service


def _text(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    return value if isinstance(value, str) else ""


def _job_state(event: Mapping[str, Any], detail: Params, when: datetime, event_id: str) -> list[Read]:
    """A SageMaker job state change: a job that ended stops counting (as its stop call would)."""
    kind = _text(event, "detail-type")
    name_field, status_field, service, rtype = JOB_STATE_CHANGES[kind]
    status = detail.text(status_field)
    if status not in JOB_ENDED:
        return [Ignored(event_id, f"{kind}: {status or 'no status'} (still running)")]
    resource = (f"{service}:{detail.text(name_field, required=True)}",)
    region, account = _text(event, "region"), _text(event, "account")
    kinds: dict[str, Any] = {"event_id": event_id, "time": when, "call": kind, "region": region, "account": account}
    return [Change(**kinds, action="stop", resource_type=rtype, resources=resource)]


def read_event(event: Any, index: int = 0) -> list[Read]:
    """The spend changes one EventBridge event makes (``Ignored`` with the reason when none)."""
    if not isinstance(event, Mapping):
        raise BurnInputError(
            f"event {index}: expected an EventBridge event (a JSON object), got {type(event).__name__}"
        )
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 256:
        raise BurnInputError(f"event {index}: id: missing (EventBridge gives every event an id)")
    where = Where(index, event_id)
    if not isinstance(event.get("detail"), Mapping):
        raise where.fail("detail", "missing or not an object")
    detail = Params(event.get("detail"), "detail", where)
    when = _time(event.get("time"), where)
    kind = _text(event, "detail-type")
    if kind in JOB_STATE_CHANGES:
        return _job_state(event, detail, when, event_id)
    if kind != API_CALL:
        return [Ignored(event_id, f"detail-type {kind[:80]!r} is not a CloudTrail API call")]
    source, name = detail.text("eventSource"), detail.text("eventName")
    call = CALLS.get((source, name))
    if call is None:
        return [Ignored(event_id, f"{source}:{name} changes no spend the guard counts")]
    if detail.text("errorCode"):
        return [Ignored(event_id, f"{name} failed ({detail.text('errorCode')[:80]}): nothing was launched")]
    return _call(call, event, detail, when, event_id)


def _call(call: Call, event: Mapping[str, Any], detail: Params, when: datetime, event_id: str) -> list[Read]:
    """A successful call's changes (none for an instance a service launched or ended on a parent's behalf)."""
    name = detail.text("eventName")
    caller, role, by_service = _caller(detail.sub("userIdentity"))
    if by_service and call.resource_type == "ec2:instance":
        return [Ignored(event_id, f"{name} by a service on a parent's behalf: the parent's count is counted")]
    rows = call.read(detail.sub("requestParameters"), detail.sub("responseElements"))
    if call.resource_type == "ec2:instance" and any(t in row.get("tags", {}) for row in rows for t in PARENT_TAGS):
        return [Ignored(event_id, f"{name} of a group's instance: the group's count is counted")]
    rows = [row for row in rows if row.get("resources")]
    if not rows:
        return [Ignored(event_id, f"{name}: no instance type or count changed")]
    region = detail.text("awsRegion") or _text(event, "region")
    account = detail.text("recipientAccountId") or _text(event, "account")
    common: dict[str, Any] = {"event_id": event_id, "time": when, "call": name, "region": region, "account": account}
    common.update(action=call.action, resource_type=call.resource_type, caller=caller, role_arn=role)
    return [Change(**common, **{**row, "count": 1 if row.get("count") is None else row["count"]}) for row in rows]


def read_events(events: Sequence[Any]) -> list[Read]:
    """Every event's changes, in the order given (``BurnInputError`` at the first malformed one)."""
    return [read for index, event in enumerate(events) for read in read_event(event, index)]
