"""Extend for the types the tagging API does not list (issue 23 item 4): Auto Scaling groups
(``CreateOrUpdateTags``), EMR clusters (``AddTags``) and EKS node groups (``TagResource``), each read fresh by ARN
through its own describe call and tagged through the one action path — the audit record shows the guard decisions.

moto tags ASGs and EMR clusters; its ``TagResource`` tags EKS clusters only, so the node group's describe and
tag calls are served by botocore's Stubber with the real response shapes (the describe is moto's own answer)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from costwarden.adapters import aws
from costwarden.models.expiry import parse_expires_at

from tests.functional.interact.world import World, in_days
from tests.functional.reaper.reaper_env import Account

TAGS = {"team": "nlp", "environment": "experiment"}


def _extend(arn: str, days: int) -> dict[str, object]:
    return {"a": "extend", "t": "nlp", "c": "ml-nlp", "r": arn, "d": days}


def _decisions(world: World, arn: str) -> list[dict[str, Any]]:
    """The one action path's audit records (``<run_id>#<arn>``) of ``arn`` today."""
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return [item for item in world.state.query(f"audit#{today}", "") if str(item["sk"]).endswith(f"#{arn}")]


def _asg_tags(name: str) -> dict[str, str]:
    [group] = boto3.client("autoscaling", "us-east-1").describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    return {t["Key"]: t["Value"] for t in group["Tags"]}


def test_extend_an_auto_scaling_group_through_create_or_update_tags(world: World) -> None:
    expiry = in_days(1)
    Account().asg("train-fleet", size=1, ttl_until=expiry, **TAGS)
    [group] = boto3.client("autoscaling", "us-east-1").describe_auto_scaling_groups(
        AutoScalingGroupNames=["train-fleet"]
    )["AutoScalingGroups"]
    arn = group["AutoScalingGroupARN"]
    world.press(_extend(arn, 3))
    new = _asg_tags("train-fleet")["ttl_until"]
    assert parse_expires_at(new).expired_from - parse_expires_at(expiry).expired_from == timedelta(days=3)
    [audit] = world.audit()
    assert (audit["status"], audit["before"], audit["after"]) == ("done", {"ttl_until": expiry}, {"ttl_until": new})
    [decision] = _decisions(world, arn)
    assert (decision["type"], decision["action"], decision["status"]) == ("autoscaling:group", "extend", "done")
    assert f"ttl_until is now {new}" in world.replies()[-1]["text"]


def test_extend_an_emr_cluster_through_add_tags_capped_from_its_creation(world: World) -> None:
    cluster_id = Account().emr("etl", ttl_until=in_days(8), **TAGS)
    described = boto3.client("emr", "us-east-1").describe_cluster(ClusterId=cluster_id)["Cluster"]
    arn, created = described["ClusterArn"], described["Status"]["Timeline"]["CreationDateTime"]
    world.press(_extend(arn, 7))  # 8 + 7 days is past the 10-day cap counted from the cluster's creation
    tags = {
        t["Key"]: t["Value"]
        for t in boto3.client("emr", "us-east-1").describe_cluster(ClusterId=cluster_id)["Cluster"]["Tags"]
    }
    cap = created.astimezone(UTC) + timedelta(days=10)
    assert parse_expires_at(tags["ttl_until"]).expired_from == cap.replace(microsecond=0)
    reply = world.replies()[-1]["text"]
    assert "capped: reaper.max_lifetime_days is 10 (from launch" in reply
    [decision] = _decisions(world, arn)
    assert (decision["type"], decision["status"]) == ("emr:cluster", "done")


def test_a_production_emr_cluster_is_refused_and_the_refusal_audited(world: World) -> None:
    expiry = in_days(1)
    cluster_id = Account().emr("prod-etl", ttl_until=expiry, team="nlp", environment="production")
    arn = boto3.client("emr", "us-east-1").describe_cluster(ClusterId=cluster_id)["Cluster"]["ClusterArn"]
    world.press(_extend(arn, 1))
    tags = boto3.client("emr", "us-east-1").describe_cluster(ClusterId=cluster_id)["Cluster"]["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["ttl_until"] == expiry  # unchanged
    [audit] = world.audit()
    assert audit["status"] == "refused" and "production" in audit["reply"]


@pytest.fixture
def stubbed_eks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stubber, list[dict[str, Any]]]]:
    """The worker's ``eks`` client served by a Stubber (every other service: moto); the TagResource calls made."""
    client = boto3.client("eks", region_name="us-east-1")
    calls: list[dict[str, Any]] = []
    client.meta.events.register("before-parameter-build.eks.TagResource", lambda params, **_: calls.append(params))
    original = aws.client

    def clients(service: str, region: str | None = None, *args: Any, **kwargs: Any) -> Any:
        return client if service == "eks" else original(service, region, *args, **kwargs)

    monkeypatch.setattr(aws, "client", clients)
    with Stubber(client) as stubber:
        yield stubber, calls


def test_extend_an_eks_node_group_through_tag_resource(
    world: World, stubbed_eks: tuple[Stubber, list[dict[str, Any]]]
) -> None:
    stubber, calls = stubbed_eks
    expiry = in_days(1)
    arn = Account().nodegroup("ml", "gpu-a", ttl_until=expiry, **TAGS)
    described = boto3.client("eks", "us-east-1").describe_nodegroup(clusterName="ml", nodegroupName="gpu-a")
    described.pop("ResponseMetadata")
    stubber.add_response("describe_nodegroup", described, {"clusterName": "ml", "nodegroupName": "gpu-a"})
    stubber.add_response("tag_resource", {}, {"resourceArn": arn, "tags": {"ttl_until": ANY}})
    world.press(_extend(arn, 7))
    stubber.assert_no_pending_responses()
    [call] = calls
    new = call["tags"]["ttl_until"]
    assert parse_expires_at(new).expired_from - parse_expires_at(expiry).expired_from == timedelta(days=7)
    [audit] = world.audit()
    assert (audit["status"], audit["after"]) == ("done", {"ttl_until": new})
    [decision] = _decisions(world, arn)
    assert (decision["type"], decision["status"]) == ("eks:nodegroup", "done")


def test_a_node_group_arn_without_its_cluster_is_refused_with_a_reason(world: World) -> None:
    arn = "arn:aws:eks:us-east-1:123456789012:nodegroup/gpu-a"
    world.press(_extend(arn, 1))
    [audit] = world.audit()
    assert audit["status"] == "refused" and "not a eks:nodegroup ARN" in audit["reply"]
