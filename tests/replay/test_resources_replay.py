"""Recorded real AWS responses (Cloud Custodian's placebo recordings, fixtures/NOTICE) replayed through
Costwarden's resource types (``costwarden.resources``): what a real account answered, not what moto makes up;
``api-reference/`` fixtures where no recording was at hand (fixtures/README.md says which).

Each test queues the recordings in the order Costwarden's own listing calls the operations and asserts what it
made of them: ids, states, tags, ARNs. Stubber checks the calls happen in that order and that every recording
still fits the installed botocore's service model.
"""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.resources import REGISTRY

from tests.replay.placebo import add, load, stubbed

EKS = "placebo/test_eks_nodegroup_delete"
REGION = "eu-central-1"


def _clients(client: Any) -> Any:
    return lambda service, region: client


def _queue_eks(stub: Any, *, vanished: bool) -> None:
    """The recording's order: three clusters, node groups only in ``example`` (the others answer the documented
    empty list). ``vanished``: ``example`` also lists ``deleted-example``, gone before its DescribeNodegroup."""
    add(stub, "list_clusters", f"{EKS}/eks.ListClusters_1.json")
    empty = "api-reference/eks.ListNodegroups_empty.json"
    add(stub, "list_nodegroups", empty, {"clusterName": "sbx-spark-kubernetes-aws-side"})
    add(stub, "list_nodegroups", empty, {"clusterName": "sbx-ditto"})
    if vanished:
        add(stub, "list_nodegroups", "api-reference/eks.ListNodegroups_with_vanished.json", {"clusterName": "example"})
        add(
            stub,
            "describe_nodegroup",
            "api-reference/eks.DescribeNodegroup_vanished.json",
            {"clusterName": "example", "nodegroupName": "deleted-example"},
        )
    else:
        add(stub, "list_nodegroups", f"{EKS}/eks.ListNodegroups_3.json", {"clusterName": "example"})
    add(
        stub,
        "describe_nodegroup",
        f"{EKS}/eks.DescribeNodegroup_1.json",
        {"clusterName": "example", "nodegroupName": "node_group_example"},
    )


def test_eks_node_groups_from_a_real_listing() -> None:
    client, stub = stubbed("eks", REGION)
    _queue_eks(stub, vanished=False)
    with stub:
        found = REGISTRY["eks:nodegroup"].list_resources(_clients(client), REGION, None)
        stub.assert_no_pending_responses()
    assert [(r.key, r.state, r.active, r.tags) for r in found] == [("example/node_group_example", "ACTIVE", True, {})]
    assert found[0].arn.startswith("arn:aws:eks:eu-central-1:644160558196:nodegroup/example/node_group_example/")


def test_a_node_group_vanished_between_list_and_describe_is_skipped_and_the_others_kept() -> None:
    client, stub = stubbed("eks", REGION)
    _queue_eks(stub, vanished=True)
    with stub:
        found = REGISTRY["eks:nodegroup"].list_resources(_clients(client), REGION, None)
        stub.assert_no_pending_responses()
    assert [r.key for r in found] == ["example/node_group_example"]


def test_emr_cluster_from_a_real_describe() -> None:
    client, stub = stubbed("emr", "us-east-1")
    add(stub, "list_clusters", "api-reference/emr.ListClusters.json")
    add(
        stub,
        "describe_cluster",
        "placebo/test_emr_mark/elasticmapreduce.DescribeCluster_1.json",
        {"ClusterId": "j-1U3KBYP5TY79M"},
    )
    with stub:
        found = REGISTRY["emr:cluster"].list_resources(_clients(client), "us-east-1", None)
        stub.assert_no_pending_responses()
    assert len(found) == 1
    cluster = found[0]
    assert cluster.id == "j-1U3KBYP5TY79M" and cluster.state == "TERMINATED_WITH_ERRORS"
    assert cluster.tags == {"second_tag": "second", "test_tag": "Cluster will be terminated", "first_tag": "first"}
    assert cluster.termination_protected is False


def test_autoscaling_group_from_a_real_listing() -> None:
    client, stub = stubbed("autoscaling", "us-west-2")
    data = add(
        stub,
        "describe_auto_scaling_groups",
        "placebo/test_asg_config_filter/autoscaling.DescribeAutoScalingGroups_1.json",
    )
    with stub:
        found = REGISTRY["autoscaling:group"].list_resources(_clients(client), "us-west-2", None)
    recorded = data["AutoScalingGroups"][0]
    assert [r.id for r in found] == [recorded["AutoScalingGroupName"]] == ["CustodianASG"]
    assert found[0].arn == recorded["AutoScalingGroupARN"]
    assert found[0].tags == {"Platform": "Ubuntu"}


def test_ec2_instances_hydrated_from_a_describe() -> None:
    recording = load("api-reference/ec2.DescribeInstances.json")["data"]
    instances = [i for r in recording["Reservations"] for i in r["Instances"]]
    found_by_tagging: list[tuple[str, dict[str, str]]] = [
        (f"arn:aws:ec2:us-east-1:644160558196:instance/{i['InstanceId']}", {}) for i in instances
    ]
    client, stub = stubbed("ec2", "us-east-1")
    add(stub, "describe_instances", "api-reference/ec2.DescribeInstances.json")
    with stub:
        found = REGISTRY["ec2:instance"].hydrate(_clients(client), "us-east-1", found_by_tagging)
    assert sorted(r.id for r in found) == sorted(i["InstanceId"] for i in instances)
    assert {r.id: r.details["volumes"] for r in found}["i-1234567890abcdef0"] == ["vol-02e6ccdca7de29cf2"]
    by_id = {r.id: r for r in found}
    for instance in instances:
        resource = by_id[instance["InstanceId"]]
        assert resource.state == instance["State"]["Name"]
        assert resource.details["instance_type"] == instance["InstanceType"]
        assert resource.tags == {t["Key"]: t["Value"] for t in instance.get("Tags", [])}


@pytest.mark.parametrize(
    ("type_name", "operation", "fixture", "list_key", "name_key", "arn_key"),
    [
        (
            "sagemaker:endpoint",
            "list_endpoints",
            "placebo/test_sagemaker_endpoint_delete/api.sagemaker.ListEndpoints_1.json",
            "Endpoints",
            "EndpointName",
            "EndpointArn",
        ),
        (
            "sagemaker:notebook-instance",
            "list_notebook_instances",
            "placebo/test_sagemaker_notebook_instances/api.sagemaker.ListNotebookInstances_1.json",
            "NotebookInstances",
            "NotebookInstanceName",
            "NotebookInstanceArn",
        ),
    ],
)
def test_sagemaker_resources_hydrated_from_a_real_listing(
    type_name: str, operation: str, fixture: str, list_key: str, name_key: str, arn_key: str
) -> None:
    client, stub = stubbed("sagemaker", "us-east-1")
    data = add(stub, operation, fixture)
    recorded = data[list_key][0]
    with stub:
        found = REGISTRY[type_name].hydrate(_clients(client), "us-east-1", [(recorded[arn_key], {"team": "ml"})])
    assert [(r.id, r.arn, r.tags) for r in found] == [(recorded[name_key], recorded[arn_key], {"team": "ml"})]


def test_sagemaker_training_jobs_follow_the_real_next_token() -> None:
    client, stub = stubbed("sagemaker", "us-east-1")
    first = add(
        stub, "list_training_jobs", "placebo/test_sagemaker_training_job_query/api.sagemaker.ListTrainingJobs_1.json"
    )
    add(stub, "list_training_jobs", "placebo/test_sagemaker_training_job_query/api.sagemaker.ListTrainingJobs_2.json")
    job = first["TrainingJobSummaries"][0]
    with stub:
        found = REGISTRY["sagemaker:training-job"].hydrate(_clients(client), "us-east-1", [(job["TrainingJobArn"], {})])
        stub.assert_no_pending_responses()
    assert [(r.id, r.state) for r in found] == [(job["TrainingJobName"], job["TrainingJobStatus"])]
