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

Field names: CloudTrail writes EC2's, Auto Scaling's and EMR's parameters in camelCase, newer EC2 calls wrapped in
``<Call>Request`` / ``<Call>Response``, and some services in PascalCase; ``_get`` reads a key in either case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

#: The EventBridge ``detail-type`` of a CloudTrail API-call event.
API_CALL = "AWS API Call via CloudTrail"
#: SageMaker's own job state-change events: a job that completed, failed or was stopped stops counting.
JOB_STATE_CHANGES = {
    "SageMaker Training Job State Change": ("TrainingJobName", "TrainingJobStatus", "sagemaker-training"),
    "SageMaker Processing Job State Change": ("ProcessingJobName", "ProcessingJobStatus", "sagemaker-processing"),
}
JOB_ENDED = frozenset({"Completed", "Failed", "Stopped"})
#: Tags a service puts on the instances it launches for a parent (the parent is counted, never its instances).
PARENT_TAGS = ("aws:autoscaling:groupName", "eks:nodegroup-name", "aws:elasticmapreduce:job-flow-id")

Action = Literal["start", "stop", "resize", "retype"]
Market = Literal["on-demand", "spot", "capacity-block"]


class BurnInputError(ValueError):
    """An event that is not what EventBridge delivers; the message names the event and the field."""


@dataclass(frozen=True)
class Change:
    """One spend change read from one event: ``action`` on ``resources`` (each ``count`` x ``instance_type``)."""

    event_id: str
    time: datetime
    call: str
    region: str
    account: str
    action: Action
    resource_type: str
    resources: tuple[str, ...]
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
    prefix: bool = False
    """``resources`` are key prefixes (an EMR cluster: every instance group of it)."""


@dataclass(frozen=True)
class Ignored:
    """An event that changes no spend here, and why."""

    event_id: str
    reason: str


Read = Change | Ignored


# ---- reading fields ----------------------------------------------------------------------------------------------


class _Where:
    """The event being read (its position and id), for error messages."""

    def __init__(self, index: int, event_id: str) -> None:
        self.index, self.event_id = index, event_id

    def fail(self, path: str, problem: str) -> BurnInputError:
        return BurnInputError(f"event {self.index} (id {self.event_id[:60]!r}): {path}: {problem}")


def _get(data: Mapping[str, Any], name: str) -> Any:
    """``data[name]``, or its PascalCase/camelCase twin (CloudTrail writes both, by service)."""
    if name in data:
        return data[name]
    twin = name[:1].upper() + name[1:] if name[:1].islower() else name[:1].lower() + name[1:]
    return data.get(twin)


def _unwrap(data: Any) -> Any:
    """``{"CreateCapacityReservationRequest": {...}}`` -> its inside (newer EC2 calls are logged wrapped)."""
    if isinstance(data, Mapping) and len(data) == 1:
        (key, inner), *_ = data.items()
        if isinstance(key, str) and key.endswith(("Request", "Response")) and isinstance(inner, Mapping):
            return inner
    return data


class _Params:
    """One mapping of an event with its path, read with checks that name where it is malformed."""

    def __init__(self, data: Any, path: str, where: _Where) -> None:
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.path, self.where = path, where

    def sub(self, name: str) -> _Params:
        value = _unwrap(_get(self.data, name))
        if value is not None and not isinstance(value, Mapping):
            raise self.where.fail(f"{self.path}.{name}", f"expected an object, got {type(value).__name__}")
        return _Params(value or {}, f"{self.path}.{name}", self.where)

    def text(self, name: str, *, required: bool = False) -> str:
        value = _get(self.data, name)
        if value is None or value == "":
            if required:
                raise self.where.fail(f"{self.path}.{name}", "missing")
            return ""
        if not isinstance(value, str) or len(value) > 2048:
            raise self.where.fail(f"{self.path}.{name}", f"expected a string, got {type(value).__name__}")
        return value

    def count(self, name: str, default: int | None = None) -> int | None:
        value = _get(self.data, name)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
            raise self.where.fail(f"{self.path}.{name}", f"expected a count 0..100000, got {value!r}"[:200])
        return value

    def items(self, name: str) -> list[_Params]:
        """A list of objects: a plain list, or EC2's ``{"items": [...]}``."""
        value = _get(self.data, name)
        if isinstance(value, Mapping):
            value = value.get("items", [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.where.fail(f"{self.path}.{name}", f"expected a list, got {type(value).__name__}")
        return [_Params(item, f"{self.path}.{name}[{i}]", self.where) for i, item in enumerate(value)]

    def texts(self, name: str) -> list[str]:
        value = _get(self.data, name)
        if isinstance(value, Mapping):
            value = value.get("items", [])
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.where.fail(f"{self.path}.{name}", "expected a list of strings")
        return list(value)


def _tags(params: _Params, *names: str) -> dict[str, str]:
    """Tags under any of ``names``: a list of ``{key, value}`` (EC2, SageMaker, EMR), EC2's tag-on-create
    ``tagSpecificationSet`` (instance specifications first), or a plain map (EKS)."""
    tags: dict[str, str] = {}
    for name in names:
        raw = _get(params.data, name)
        if isinstance(raw, Mapping) and "items" not in raw:
            tags.update({str(k): str(v) for k, v in raw.items() if isinstance(v, str | int | float)})
            continue
        for item in params.items(name):
            if "tags" in item.data or "Tags" in item.data or "resourceType" in item.data:
                kind = item.text("resourceType")
                spec = _tags(item, "tags", "tag")
                tags.update(spec if kind in {"", "instance"} else {k: v for k, v in spec.items() if k not in tags})
                continue
            key = item.text("key")
            if key:
                tags[key] = item.text("value")
    return tags


# ---- the calls ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    """What one call does to spend: read from its request (``req``) and response (``resp``)."""

    read: Callable[[_Params, _Params], list[dict[str, Any]]]
    resource_type: str
    action: Action


def _run_instances(req: _Params, resp: _Params) -> list[dict[str, Any]]:
    spec = req.items("instancesSet")
    launched = resp.items("instancesSet")
    ids = tuple(f"ec2:{i.text('instanceId')}" for i in launched if i.text("instanceId"))
    wanted = spec[0].count("minCount", 1) if spec else req.count("minCount", 1)
    market = req.sub("instanceMarketOptions").text("marketType").lower()
    zone = req.sub("placement").text("availabilityZone") or (
        launched[0].sub("placement").text("availabilityZone") if launched else ""
    )
    itype = req.text("instanceType") or (launched[0].text("instanceType") if launched else "")
    base: dict[str, Any] = {
        "service": "ec2",
        "instance_type": itype,
        "market": "spot" if market == "spot" else "on-demand",
    }
    base.update(zone=zone, tags=_tags(req, "tagSpecificationSet", "tagSpecifications"))
    if not itype:
        base["note"] = "the request names a launch template, not an instance type"
    if ids:
        return [{**base, "resources": ids, "count": 1}]
    return [{**base, "resources": (f"ec2-request:{resp.text('reservationId') or 'unknown'}",), "count": wanted or 1}]


def _instance_ids(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    ids = [i.text("instanceId") for i in req.items("instancesSet")] or req.texts("instanceIds")
    return [{"resources": tuple(f"ec2:{i}" for i in ids if i)}]


def _modify_instance(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    itype = req.sub("instanceType").text("value") or req.text("instanceType")
    if not itype:
        return []  # another attribute changed (a security group, termination protection): no spend change
    return [{"resources": (f"ec2:{req.text('instanceId', required=True)}",), "service": "ec2", "instance_type": itype}]


def _asg_create(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    name = req.text("autoScalingGroupName", required=True)
    overrides = req.sub("mixedInstancesPolicy").sub("launchTemplate").items("overrides")
    itype = overrides[0].text("instanceType") if overrides else req.text("instanceType")
    desired = req.count("desiredCapacity")
    count = desired if desired is not None else req.count("minSize", 0)
    row: dict[str, Any] = {"resources": (f"asg:{name}",), "service": "ec2", "instance_type": itype, "count": count}
    row["tags"] = _tags(req, "tags")
    if not itype:
        row["note"] = "the group's launch template names the instance type, not the request"
    return [row]


def _asg_resize(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    desired = req.count("desiredCapacity")
    if desired is None:
        return []  # min/max only: the desired count did not move
    return [{"resources": (f"asg:{req.text('autoScalingGroupName', required=True)}",), "count": desired}]


def _asg_delete(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    return [{"resources": (f"asg:{req.text('autoScalingGroupName', required=True)}",)}]


def _sagemaker(kind: str, name_field: str, service: str) -> Callable[[_Params, _Params], list[dict[str, Any]]]:
    def read(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
        name = req.text(name_field, required=True)
        if kind == "training":
            config = req.sub("resourceConfig")
        elif kind == "processing":
            config = req.sub("processingResources").sub("clusterConfig")
        else:
            config = req
        itype, count = config.text("instanceType"), config.count("instanceCount", 1)
        row: dict[str, Any] = {"resources": (f"{service}:{name}",), "service": service, "instance_type": itype}
        row.update(count=count, tags=_tags(req, "tags"))
        if kind == "training" and _get(req.data, "enableManagedSpotTraining") is True:
            row["market"] = "spot"
        if not itype:
            row["note"] = "the instance type is not in the request"
        return [row]

    return read


def _named(service: str, name_field: str) -> Callable[[_Params, _Params], list[dict[str, Any]]]:
    def read(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
        return [{"resources": (f"{service}:{req.text(name_field, required=True)}",)}]

    return read


def _endpoint_create(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    name = req.text("endpointName", required=True)
    note = f"endpoint config {req.text('endpointConfigName')[:80]!r} names the instance types, not this call"
    row = {"resources": (f"sagemaker-hosting:{name}",), "service": "sagemaker-hosting", "tags": _tags(req, "tags")}
    return [{**row, "note": note}]


def _endpoint_capacity(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    counts = [v.count("desiredInstanceCount") for v in req.items("desiredWeightsAndCapacities")]
    known = [c for c in counts if c is not None]
    if not known:
        return []
    return [{"resources": (f"sagemaker-hosting:{req.text('endpointName', required=True)}",), "count": sum(known)}]


def _run_job_flow(req: _Params, resp: _Params) -> list[dict[str, Any]]:
    cluster = resp.text("jobFlowId") or f"request-{req.text('name')[:40]}"
    instances, tags = req.sub("instances"), _tags(req, "tags")
    rows: list[dict[str, Any]] = []
    for index, group in enumerate(instances.items("instanceGroups")):
        market = "spot" if group.text("market").upper() == "SPOT" else "on-demand"
        rows.append(
            {
                "resources": (f"emr:{cluster}#{group.text('instanceRole') or index}",),
                "service": "ec2",
                "instance_type": group.text("instanceType"),
                "count": group.count("instanceCount", 1),
                "market": market,
                "tags": tags,
            }
        )
    if not rows and instances.text("masterInstanceType"):
        total = instances.count("instanceCount", 1) or 1
        rows.append(_emr_row(cluster, "MASTER", instances.text("masterInstanceType"), 1, tags))
        if total > 1:
            rows.append(_emr_row(cluster, "CORE", instances.text("slaveInstanceType"), total - 1, tags))
    if not rows:
        note = "instance fleets name several types: priced as unknown"
        rows.append({"resources": (f"emr:{cluster}#fleet",), "service": "ec2", "tags": tags, "note": note})
    note = "EC2 price only (the EMR charge per instance-hour is not included)"
    return [{**row, "note": row.get("note") or note} for row in rows]


def _emr_row(cluster: str, role: str, itype: str, count: int, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "resources": (f"emr:{cluster}#{role}",),
        "service": "ec2",
        "instance_type": itype,
        "count": count,
        "tags": tags,
    }


def _modify_groups(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    cluster = req.text("clusterId")
    return [
        {"resources": (f"emr-group:{cluster}#{g.text('instanceGroupId')}",), "count": g.count("instanceCount")}
        for g in req.items("instanceGroups")
        if g.count("instanceCount") is not None
    ]


def _terminate_flows(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    return [{"resources": tuple(f"emr:{c}#" for c in req.texts("jobFlowIds")), "prefix": True}]


def _nodegroup(req: _Params) -> str:
    cluster = req.text("clusterName") or req.text("name")
    return f"eks:{cluster}/{req.text('nodegroupName', required=True)}"


def _nodegroup_create(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    types = req.texts("instanceTypes")
    scaling = req.sub("scalingConfig")
    count = scaling.count("desiredSize")
    row: dict[str, Any] = {
        "resources": (_nodegroup(req),),
        "service": "ec2",
        "instance_type": types[0] if types else "",
    }
    row.update(count=scaling.count("minSize", 1) if count is None else count, tags=_tags(req, "tags"))
    if req.text("capacityType").upper() == "SPOT":
        row["market"] = "spot"
    if not types:
        row["note"] = "the node group's launch template names the instance type, not the request"
    return [row]


def _nodegroup_resize(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    count = req.sub("scalingConfig").count("desiredSize")
    return [] if count is None else [{"resources": (_nodegroup(req),), "count": count}]


def _nodegroup_delete(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    return [{"resources": (_nodegroup(req),)}]


def _capacity_reservation(req: _Params, resp: _Params) -> list[dict[str, Any]]:
    made = resp.sub("capacityReservation")
    ident = made.text("capacityReservationId") or f"request-{req.text('clientToken')[:40] or 'unknown'}"
    row: dict[str, Any] = {"resources": (f"capacity-reservation:{ident}",), "service": "ec2"}
    row.update(
        instance_type=req.text("instanceType"), count=req.count("instanceCount", 1), zone=req.text("availabilityZone")
    )
    row["tags"] = _tags(req, "tagSpecifications", "tagSpecificationSet", "TagSpecification")
    return [row]


def _capacity_block(req: _Params, resp: _Params) -> list[dict[str, Any]]:
    made = resp.sub("capacityReservation")
    ident = made.text("capacityReservationId") or f"offering-{req.text('capacityBlockOfferingId')[:40]}"
    row: dict[str, Any] = {"resources": (f"capacity-block:{ident}",), "market": "capacity-block"}
    row.update(instance_type=made.text("instanceType"), count=made.count("totalInstanceCount", 1))
    row["tags"] = _tags(req, "tagSpecifications", "TagSpecification", "tagSpecificationSet")
    return [row]


def _cancel_reservation(req: _Params, _resp: _Params) -> list[dict[str, Any]]:
    ident = req.text("capacityReservationId", required=True)
    return [{"resources": (f"capacity-reservation:{ident}", f"capacity-block:{ident}")}]


#: Every call that starts, resizes or stops spend. A new call is one entry (and, for a launch, its EventBridge rule
#: pattern follows from it: ``rule_patterns``).
CALLS: dict[tuple[str, str], _Call] = {
    ("ec2.amazonaws.com", "RunInstances"): _Call(_run_instances, "ec2_instance", "start"),
    ("ec2.amazonaws.com", "StartInstances"): _Call(_instance_ids, "ec2_instance", "start"),
    ("ec2.amazonaws.com", "ModifyInstanceAttribute"): _Call(_modify_instance, "ec2_instance", "retype"),
    ("ec2.amazonaws.com", "StopInstances"): _Call(_instance_ids, "ec2_instance", "stop"),
    ("ec2.amazonaws.com", "TerminateInstances"): _Call(_instance_ids, "ec2_instance", "stop"),
    ("ec2.amazonaws.com", "CreateCapacityReservation"): _Call(_capacity_reservation, "capacity_reservation", "start"),
    ("ec2.amazonaws.com", "PurchaseCapacityBlock"): _Call(_capacity_block, "capacity_block", "start"),
    ("ec2.amazonaws.com", "CancelCapacityReservation"): _Call(_cancel_reservation, "capacity_reservation", "stop"),
    ("autoscaling.amazonaws.com", "CreateAutoScalingGroup"): _Call(_asg_create, "autoscaling_group", "start"),
    ("autoscaling.amazonaws.com", "UpdateAutoScalingGroup"): _Call(_asg_resize, "autoscaling_group", "resize"),
    ("autoscaling.amazonaws.com", "SetDesiredCapacity"): _Call(_asg_resize, "autoscaling_group", "resize"),
    ("autoscaling.amazonaws.com", "DeleteAutoScalingGroup"): _Call(_asg_delete, "autoscaling_group", "stop"),
    ("sagemaker.amazonaws.com", "CreateTrainingJob"): _Call(
        _sagemaker("training", "trainingJobName", "sagemaker-training"), "sagemaker_training_job", "start"
    ),
    ("sagemaker.amazonaws.com", "CreateProcessingJob"): _Call(
        _sagemaker("processing", "processingJobName", "sagemaker-processing"), "sagemaker_processing_job", "start"
    ),
    ("sagemaker.amazonaws.com", "CreateEndpoint"): _Call(_endpoint_create, "sagemaker_endpoint", "start"),
    ("sagemaker.amazonaws.com", "UpdateEndpoint"): _Call(_endpoint_create, "sagemaker_endpoint", "start"),
    ("sagemaker.amazonaws.com", "UpdateEndpointWeightsAndCapacities"): _Call(
        _endpoint_capacity, "sagemaker_endpoint", "resize"
    ),
    ("sagemaker.amazonaws.com", "CreateNotebookInstance"): _Call(
        _sagemaker("notebook", "notebookInstanceName", "sagemaker-notebook"), "sagemaker_notebook", "start"
    ),
    ("sagemaker.amazonaws.com", "StartNotebookInstance"): _Call(
        _named("sagemaker-notebook", "notebookInstanceName"), "sagemaker_notebook", "start"
    ),
    ("sagemaker.amazonaws.com", "StopNotebookInstance"): _Call(
        _named("sagemaker-notebook", "notebookInstanceName"), "sagemaker_notebook", "stop"
    ),
    ("sagemaker.amazonaws.com", "DeleteNotebookInstance"): _Call(
        _named("sagemaker-notebook", "notebookInstanceName"), "sagemaker_notebook", "stop"
    ),
    ("sagemaker.amazonaws.com", "DeleteEndpoint"): _Call(
        _named("sagemaker-hosting", "endpointName"), "sagemaker_endpoint", "stop"
    ),
    ("sagemaker.amazonaws.com", "StopTrainingJob"): _Call(
        _named("sagemaker-training", "trainingJobName"), "sagemaker_training_job", "stop"
    ),
    ("sagemaker.amazonaws.com", "StopProcessingJob"): _Call(
        _named("sagemaker-processing", "processingJobName"), "sagemaker_processing_job", "stop"
    ),
    ("elasticmapreduce.amazonaws.com", "RunJobFlow"): _Call(_run_job_flow, "emr_cluster", "start"),
    ("elasticmapreduce.amazonaws.com", "ModifyInstanceGroups"): _Call(_modify_groups, "emr_cluster", "resize"),
    ("elasticmapreduce.amazonaws.com", "TerminateJobFlows"): _Call(_terminate_flows, "emr_cluster", "stop"),
    ("eks.amazonaws.com", "CreateNodegroup"): _Call(_nodegroup_create, "eks_nodegroup", "start"),
    ("eks.amazonaws.com", "UpdateNodegroupConfig"): _Call(_nodegroup_resize, "eks_nodegroup", "resize"),
    ("eks.amazonaws.com", "DeleteNodegroup"): _Call(_nodegroup_delete, "eks_nodegroup", "stop"),
}


def rule_patterns() -> list[dict[str, Any]]:
    """The EventBridge event patterns that deliver every call in ``CALLS`` (one per service) and SageMaker's job
    state changes: what ``infra/burn.py`` deploys in every guarded region and member account."""
    by_source: dict[str, list[str]] = {}
    for source, name in CALLS:
        by_source.setdefault(source, []).append(name)
    patterns: list[dict[str, Any]] = [
        {
            "source": [f"aws.{source.split('.')[0].replace('elasticmapreduce', 'emr')}"],
            "detail-type": [API_CALL],
            "detail": {"eventSource": [source], "eventName": sorted(names)},
        }
        for source, names in sorted(by_source.items())
    ]
    patterns.append({"source": ["aws.sagemaker"], "detail-type": sorted(JOB_STATE_CHANGES)})
    return patterns


# ---- one event ---------------------------------------------------------------------------------------------------


def _time(raw: Any, where: _Where) -> datetime:
    if not isinstance(raw, str) or not raw:
        raise where.fail("time", "missing (an ISO 8601 time, e.g. 2026-12-07T09:00:00Z)")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise where.fail("time", f"not an ISO 8601 time: {raw[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _caller(identity: _Params) -> tuple[str, str, bool]:
    """Who called (``arn``), the role behind an assumed role, and whether a service called on a parent's behalf."""
    arn = identity.text("arn")
    issuer = identity.sub("sessionContext").sub("sessionIssuer")
    role = issuer.text("arn") if issuer.text("type") == "Role" else ""
    by_service = bool(identity.text("invokedBy").endswith(".amazonaws.com")) or identity.text("type") == "AWSService"
    return arn, role, by_service


def _text(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    return value if isinstance(value, str) else ""


def _job_state(event: Mapping[str, Any], detail: _Params, when: datetime, event_id: str) -> list[Read]:
    """A SageMaker job state change: a job that ended stops counting (as its stop call would)."""
    kind = _text(event, "detail-type")
    name_field, status_field, service = JOB_STATE_CHANGES[kind]
    status = detail.text(status_field)
    if status not in JOB_ENDED:
        return [Ignored(event_id, f"{kind}: {status or 'no status'} (still running)")]
    resource = (f"{service}:{detail.text(name_field, required=True)}",)
    region, account = _text(event, "region"), _text(event, "account")
    return [Change(event_id, when, kind, region, account, "stop", service.replace("-", "_"), resource)]


def read_event(event: Any, index: int = 0) -> list[Read]:
    """The spend changes one EventBridge event makes (``Ignored`` with the reason when none)."""
    if not isinstance(event, Mapping):
        raise BurnInputError(
            f"event {index}: expected an EventBridge event (a JSON object), got {type(event).__name__}"
        )
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 256:
        raise BurnInputError(f"event {index}: id: missing (EventBridge gives every event an id)")
    where = _Where(index, event_id)
    if not isinstance(event.get("detail"), Mapping):
        raise where.fail("detail", "missing or not an object")
    detail = _Params(event.get("detail"), "detail", where)
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


def _call(call: _Call, event: Mapping[str, Any], detail: _Params, when: datetime, event_id: str) -> list[Read]:
    """A successful call's changes (none for an instance a service launched or ended on a parent's behalf)."""
    name = detail.text("eventName")
    caller, role, by_service = _caller(detail.sub("userIdentity"))
    if by_service and call.resource_type == "ec2_instance":
        return [Ignored(event_id, f"{name} by a service on a parent's behalf: the parent's count is counted")]
    rows = call.read(detail.sub("requestParameters"), detail.sub("responseElements"))
    if call.resource_type == "ec2_instance" and any(t in row.get("tags", {}) for row in rows for t in PARENT_TAGS):
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
