"""Every call that starts, resizes or stops spend, and what it does (``CALLS``), read from its request and response;
the EventBridge rule patterns that deliver them (``rule_patterns``). Pure; ``burn.events`` applies them.

A new call is one entry in ``calls.json`` (its reader, here, returns one row per resource group: the resource keys,
instance type, count, price list, market and tags); its rule pattern follows from the entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from costwarden.burn.fields import Params, tags_of

API_CALL = "AWS API Call via CloudTrail"
#: SageMaker's own job state-change events: a job that completed, failed or was stopped stops counting.
#: detail-type -> (name field, status field, the key's price list, the registry type).
JOB_STATE_CHANGES = {
    "SageMaker Training Job State Change": (
        "TrainingJobName", "TrainingJobStatus", "sagemaker-training", "sagemaker:training-job"
    ),
    "SageMaker Processing Job State Change": (
        "ProcessingJobName", "ProcessingJobStatus", "sagemaker-processing", "sagemaker:processing-job"
    ),
}  # fmt: skip
Action = Literal["start", "stop", "resize", "retype"]


Reader = Callable[[Params, Params], list[dict[str, Any]]]
#: The readers ``calls.json`` names (``@_reader``): a reader, or a factory of one when its entry has ``args``.
READERS: dict[str, Callable[..., Any]] = {}


def _reader[F: Callable[..., Any]](function: F) -> F:
    READERS[function.__name__.removeprefix("_")] = function
    return function


def _read(entry: dict[str, Any]) -> Reader:
    found = READERS[entry["read"]]
    return found(*entry["args"]) if "args" in entry else found


@dataclass(frozen=True)
class Call:
    """What one call does to spend: read from its request (``req``) and response (``resp``)."""

    read: Reader
    resource_type: str
    action: Action


@_reader
def _run_instances(req: Params, resp: Params) -> list[dict[str, Any]]:
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
    base.update(zone=zone, tags=tags_of(req, "tagSpecificationSet", "tagSpecifications"))
    if not itype:
        base["note"] = "the request names a launch template, not an instance type"
    if ids:
        return [{**base, "resources": ids, "count": 1}]
    return [{**base, "resources": (f"ec2-request:{resp.text('reservationId') or 'unknown'}",), "count": wanted or 1}]


@_reader
def _instance_ids(req: Params, _resp: Params) -> list[dict[str, Any]]:
    ids = [i.text("instanceId") for i in req.items("instancesSet")] or req.texts("instanceIds")
    return [{"resources": tuple(f"ec2:{i}" for i in ids if i)}]


@_reader
def _modify_instance(req: Params, _resp: Params) -> list[dict[str, Any]]:
    itype = req.sub("instanceType").text("value") or req.text("instanceType")
    if not itype:
        return []  # another attribute changed (a security group, termination protection): no spend change
    return [{"resources": (f"ec2:{req.text('instanceId', required=True)}",), "service": "ec2", "instance_type": itype}]


@_reader
def _asg_create(req: Params, _resp: Params) -> list[dict[str, Any]]:
    name = req.text("autoScalingGroupName", required=True)
    overrides = req.sub("mixedInstancesPolicy").sub("launchTemplate").items("overrides")
    itype = overrides[0].text("instanceType") if overrides else req.text("instanceType")
    desired = req.count("desiredCapacity")
    count = desired if desired is not None else req.count("minSize", 0)
    row: dict[str, Any] = {"resources": (f"asg:{name}",), "service": "ec2", "instance_type": itype, "count": count}
    row["tags"] = tags_of(req, "tags")
    if not itype:
        row["note"] = "the group's launch template names the instance type, not the request"
    return [row]


@_reader
def _asg_resize(req: Params, _resp: Params) -> list[dict[str, Any]]:
    desired = req.count("desiredCapacity")
    if desired is None:
        return []  # min/max only: the desired count did not move
    return [{"resources": (f"asg:{req.text('autoScalingGroupName', required=True)}",), "count": desired}]


@_reader
def _asg_delete(req: Params, _resp: Params) -> list[dict[str, Any]]:
    return [{"resources": (f"asg:{req.text('autoScalingGroupName', required=True)}",)}]


@_reader
def _sagemaker(kind: str, name_field: str, service: str) -> Callable[[Params, Params], list[dict[str, Any]]]:
    def read(req: Params, _resp: Params) -> list[dict[str, Any]]:
        name = req.text(name_field, required=True)
        if kind == "training":
            config = req.sub("resourceConfig")
        elif kind == "processing":
            config = req.sub("processingResources").sub("clusterConfig")
        else:
            config = req
        itype, count = config.text("instanceType"), config.count("instanceCount", 1)
        row: dict[str, Any] = {"resources": (f"{service}:{name}",), "service": service, "instance_type": itype}
        row.update(count=count, tags=tags_of(req, "tags"))
        if kind == "training" and req.flag("enableManagedSpotTraining"):
            row["market"] = "spot"
        if not itype:
            row["note"] = "the instance type is not in the request"
        return [row]

    return read


@_reader
def _named(service: str, name_field: str) -> Callable[[Params, Params], list[dict[str, Any]]]:
    def read(req: Params, _resp: Params) -> list[dict[str, Any]]:
        return [{"resources": (f"{service}:{req.text(name_field, required=True)}",)}]

    return read


@_reader
def _endpoint_create(req: Params, _resp: Params) -> list[dict[str, Any]]:
    name = req.text("endpointName", required=True)
    note = f"endpoint config {req.text('endpointConfigName')[:80]!r} names the instance types, not this call"
    row = {"resources": (f"sagemaker-hosting:{name}",), "service": "sagemaker-hosting", "tags": tags_of(req, "tags")}
    return [{**row, "note": note}]


@_reader
def _endpoint_capacity(req: Params, _resp: Params) -> list[dict[str, Any]]:
    counts = [v.count("desiredInstanceCount") for v in req.items("desiredWeightsAndCapacities")]
    known = [c for c in counts if c is not None]
    if not known:
        return []
    return [{"resources": (f"sagemaker-hosting:{req.text('endpointName', required=True)}",), "count": sum(known)}]


@_reader
def _run_job_flow(req: Params, resp: Params) -> list[dict[str, Any]]:
    cluster = resp.text("jobFlowId") or f"request-{req.text('name')[:40]}"
    instances, tags = req.sub("instances"), tags_of(req, "tags")
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


@_reader
def _modify_groups(req: Params, _resp: Params) -> list[dict[str, Any]]:
    cluster = req.text("clusterId")
    return [
        {"resources": (f"emr-group:{cluster}#{g.text('instanceGroupId')}",), "count": g.count("instanceCount")}
        for g in req.items("instanceGroups")
        if g.count("instanceCount") is not None
    ]


@_reader
def _terminate_flows(req: Params, _resp: Params) -> list[dict[str, Any]]:
    return [{"resources": tuple(f"emr:{c}#" for c in req.texts("jobFlowIds")), "prefix": True}]


def _nodegroup(req: Params) -> str:
    cluster = req.text("clusterName") or req.text("name")
    return f"eks:{cluster}/{req.text('nodegroupName', required=True)}"


@_reader
def _nodegroup_create(req: Params, _resp: Params) -> list[dict[str, Any]]:
    types = req.texts("instanceTypes")
    scaling = req.sub("scalingConfig")
    count = scaling.count("desiredSize")
    row: dict[str, Any] = {
        "resources": (_nodegroup(req),),
        "service": "ec2",
        "instance_type": types[0] if types else "",
    }
    row.update(count=scaling.count("minSize", 1) if count is None else count, tags=tags_of(req, "tags"))
    if req.text("capacityType").upper() == "SPOT":
        row["market"] = "spot"
    if not types:
        row["note"] = "the node group's launch template names the instance type, not the request"
    return [row]


@_reader
def _nodegroup_resize(req: Params, _resp: Params) -> list[dict[str, Any]]:
    count = req.sub("scalingConfig").count("desiredSize")
    return [] if count is None else [{"resources": (_nodegroup(req),), "count": count}]


@_reader
def _nodegroup_delete(req: Params, _resp: Params) -> list[dict[str, Any]]:
    return [{"resources": (_nodegroup(req),)}]


@_reader
def _capacity_reservation(req: Params, resp: Params) -> list[dict[str, Any]]:
    made = resp.sub("capacityReservation")
    ident = made.text("capacityReservationId") or f"request-{req.text('clientToken')[:40] or 'unknown'}"
    row: dict[str, Any] = {"resources": (f"capacity-reservation:{ident}",), "service": "ec2"}
    row.update(
        instance_type=req.text("instanceType"), count=req.count("instanceCount", 1), zone=req.text("availabilityZone")
    )
    row["tags"] = tags_of(req, "tagSpecifications", "tagSpecificationSet", "TagSpecification")
    return [row]


@_reader
def _capacity_block(req: Params, resp: Params) -> list[dict[str, Any]]:
    made = resp.sub("capacityReservation")
    ident = made.text("capacityReservationId") or f"offering-{req.text('capacityBlockOfferingId')[:40]}"
    row: dict[str, Any] = {"resources": (f"capacity-block:{ident}",), "market": "capacity-block"}
    row.update(instance_type=made.text("instanceType"), count=made.count("totalInstanceCount", 1))
    row["tags"] = tags_of(req, "tagSpecifications", "TagSpecification", "tagSpecificationSet")
    return [row]


@_reader
def _cancel_reservation(req: Params, _resp: Params) -> list[dict[str, Any]]:
    ident = req.text("capacityReservationId", required=True)
    return [{"resources": (f"capacity-reservation:{ident}", f"capacity-block:{ident}")}]


#: Every call that starts, resizes or stops spend (``calls.json``: source -> call -> reader, resource type, action).
#: A new call is one entry there (and a reader here, ``@_reader``); its EventBridge rule pattern follows from it.
CALLS: dict[tuple[str, str], Call] = {
    (source, name): Call(_read(entry), entry["type"], entry["action"])
    for source, calls in json.loads(resources.files(__package__).joinpath("calls.json").read_text("utf-8"))[
        "calls"
    ].items()
    for name, entry in calls.items()
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
