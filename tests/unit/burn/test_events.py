"""Reading EventBridge CloudTrail events: hostile input names where it is malformed, failed and service-made calls
count nothing, and every call listed has a rule pattern that delivers it."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.burn.events import CALLS, JOB_STATE_CHANGES, BurnInputError, Change, Ignored, read_event, rule_patterns

from tests.support.burn import events

LAUNCH = 1  # launch_day.json: the eight p4d.24xlarge


def launch() -> dict[str, Any]:
    return events()[LAUNCH]


HOSTILE = {
    "not an object": (lambda e: ["a", "list"], "expected an EventBridge event"),
    "no id": (lambda e: {k: v for k, v in e.items() if k != "id"}, "id: missing"),
    "detail a string": (lambda e: {**e, "detail": "RunInstances"}, "detail: missing or not an object"),
    "time not a time": (lambda e: {**e, "time": "yesterday at nine"}, "time: not an ISO 8601 time"),
    "type a number": (
        lambda e: {
            **e,
            "detail": {**e["detail"], "requestParameters": {**e["detail"]["requestParameters"], "instanceType": 7}},
        },
        "detail.requestParameters.instanceType: expected a string",
    ),
    "count absurd": (
        lambda e: {
            **e,
            "detail": {
                **e["detail"],
                "responseElements": None,
                "requestParameters": {"instanceType": "p4d.24xlarge", "instancesSet": {"items": [{"minCount": 10**9}]}},
            },
        },
        "minCount: expected a count 0..100000",
    ),
    "tags not a list": (
        lambda e: {
            **e,
            "detail": {**e["detail"], "requestParameters": {"instanceType": "p4d.24xlarge", "tagSpecificationSet": 5}},
        },
        "tagSpecificationSet: expected a list",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_events_name_where(case: str) -> None:
    change, message = HOSTILE[case]
    with pytest.raises(BurnInputError, match=message):
        read_event(change(launch()), 3)


def test_the_error_names_the_event() -> None:
    with pytest.raises(BurnInputError, match=r"^event 3 \(id '6a7e8feb-b491-4cf7-a9f1-bf3703467718'\): time"):
        read_event({**launch(), "time": 12}, 3)


def test_eight_p4d_are_eight_instances_of_the_requests_team() -> None:
    (change,) = read_event(launch())
    assert isinstance(change, Change)
    assert (change.call, change.action, change.resource_type) == ("RunInstances", "start", "ec2:instance")
    assert len(change.resources) == 8 and change.count == 1
    assert change.resources[0] == "ec2:i-00000000000000000"
    assert (change.instance_type, change.service, change.market, change.zone) == (
        "p4d.24xlarge",
        "ec2",
        "on-demand",
        "us-east-1a",
    )
    assert change.tags["team"] == "nlp" and change.tags["project"] == "llm-pretrain"
    assert change.caller == "arn:aws:sts::123456789012:assumed-role/ml-research-launcher/alice"
    assert change.role_arn == "arn:aws:iam::123456789012:role/ml-research-launcher"
    assert change.account == "123456789012" and change.region == "us-east-1"


def test_a_failed_run_instances_counts_nothing() -> None:
    failed = events()[0]
    assert failed["detail"]["errorCode"] == "InsufficientInstanceCapacity"
    (read,) = read_event(failed)
    assert isinstance(read, Ignored) and "failed (InsufficientInstanceCapacity)" in read.reason


def test_an_instance_auto_scaling_launched_is_counted_through_its_group() -> None:
    event = launch()
    event["detail"]["userIdentity"] = {"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"}
    (read,) = read_event(event)
    assert isinstance(read, Ignored) and "parent" in read.reason


def test_spot_and_the_group_tag() -> None:
    event = launch()
    event["detail"]["requestParameters"]["instanceMarketOptions"] = {"marketType": "spot"}
    (change,) = read_event(event)
    assert isinstance(change, Change) and change.market == "spot"
    spec = event["detail"]["requestParameters"]["tagSpecificationSet"]["items"][0]
    spec["tags"].append({"key": "aws:autoscaling:groupName", "value": "g"})
    (read,) = read_event(event)
    assert isinstance(read, Ignored)


def test_sagemaker_training_and_its_completion() -> None:
    day = events()
    (start,) = read_event(day[3])
    assert isinstance(start, Change)
    assert (start.resources, start.instance_type, start.count, start.service) == (
        ("sagemaker-training:llm-sft-0007",),
        "ml.p4d.24xlarge",
        2,
        "sagemaker-training",
    )
    assert start.tags == {"team": "vision"}
    (done,) = read_event(day[-1])
    assert isinstance(done, Change) and done.action == "stop" and done.resources == start.resources
    running = {**day[-1], "detail": {**day[-1]["detail"], "TrainingJobStatus": "InProgress"}}
    assert isinstance(read_event(running)[0], Ignored)


def test_wrapped_newer_ec2_calls_and_pascal_case() -> None:
    event = launch()
    event["detail"].update(
        eventName="CreateCapacityReservation",
        requestParameters={"CreateCapacityReservationRequest": {"InstanceType": "p5.48xlarge", "InstanceCount": 2}},
        responseElements={
            "CreateCapacityReservationResponse": {"capacityReservation": {"capacityReservationId": "cr-1"}}
        },
    )
    (change,) = read_event(event)
    assert isinstance(change, Change)
    assert (change.resources, change.instance_type, change.count) == (("capacity-reservation:cr-1",), "p5.48xlarge", 2)


def test_a_call_not_listed_and_another_detail_type_change_nothing() -> None:
    event = launch()
    event["detail"]["eventName"] = "DescribeInstances"
    assert isinstance(read_event(event)[0], Ignored)
    assert isinstance(read_event({**launch(), "detail-type": "EC2 Instance State-change Notification"})[0], Ignored)


def test_every_call_has_a_rule_pattern() -> None:
    patterns = rule_patterns()
    delivered = {
        (source, name)
        for p in patterns
        if "detail" in p
        for source in p["detail"]["eventSource"]
        for name in p["detail"]["eventName"]
    }
    assert delivered == set(CALLS)
    assert {"source": ["aws.sagemaker"], "detail-type": sorted(JOB_STATE_CHANGES)} in patterns
    for p in patterns:
        if "detail" in p:
            assert p["detail-type"] == ["AWS API Call via CloudTrail"]
    issue_calls = {
        "RunInstances", "StartInstances", "ModifyInstanceAttribute", "CreateAutoScalingGroup", "UpdateAutoScalingGroup",
        "SetDesiredCapacity", "CreateTrainingJob", "CreateProcessingJob", "CreateEndpoint", "UpdateEndpoint",
        "UpdateEndpointWeightsAndCapacities", "CreateNotebookInstance", "StartNotebookInstance", "RunJobFlow",
        "ModifyInstanceGroups", "CreateNodegroup", "UpdateNodegroupConfig", "CreateCapacityReservation",
        "PurchaseCapacityBlock", "StopInstances", "TerminateInstances", "DeleteEndpoint", "StopTrainingJob",
        "TerminateJobFlows",
    }  # fmt: skip
    assert issue_calls <= {name for _source, name in CALLS}
