"""Issue 22, part 1's last criterion, on moto and the Slack stand-in: an anomaly alert names the team's resources
launched since the episode began, read from the registry once per alert (``cost.launched``).

moto stamps ``LaunchTime`` / ``CreationTime`` with the moment a resource is created and offers no way to set them,
so time is controlled through the episode's dates, never by patching moto: the same resources are judged against an
episode that began the day they were launched (launched since) and one that begins the day after (running since
before it). Hostile first: a describe that fails (a botocore event hook raising ``ClientError``) through the whole
monitor run, then a tagging answer the registry cannot read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from costwarden.core import episodes
from costwarden.cost import launched, rootcause
from costwarden.cost.alerts import Explanation, anomaly_event
from costwarden.cost.monitor import run
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.models.alert import AlertEvent, AlertKind
from costwarden.notifier.blocks import render_message
from costwarden.notifier.slack import post_message
from costwarden.settings import Settings, TagPolicy
from moto import mock_aws

from tests.support.slack_posts import problems

from .conftest import World
from .test_anomaly_story import AMI, TODAY, _instance, _launch_time, _publisher, _spike
from .test_monitor import EC2

WEST = "us-west-2"
SAGEMAKER = "Amazon SageMaker"
ROLE = "arn:aws:iam::123456789012:role/sm"

Clients = Callable[[str, str], Any]


def _counted(calls: list[str], *, refuse: str | None = None) -> Clients:
    """boto3 clients whose every request is recorded (``service.Operation``); ``refuse``: that operation answers
    ``UnauthorizedOperation`` (the role without the describe permission)."""

    def refused(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"}}, str(refuse))

    def clients(service: str, region: str) -> Any:
        client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        if refuse is not None:
            client.meta.events.register(f"before-call.{service}.{refuse}", refused)
        return client

    return clients


def _post(event: AlertEvent) -> dict[str, Any]:
    """The alert as the team's channel receives it (the autouse checker also holds it to Block Kit's limits)."""
    with SlackStandIn() as slack:
        post_message(slack.url("/hooks/vision"), render_message(event), channel="vision", remaining_ms=lambda: 60_000)
        (received,) = slack.accepted("/hooks/vision")
    assert received.body is not None and problems(received.body) == []
    return received.body


def test_describe_refused_the_alert_still_posts_says_so_and_names_the_resources(world: World) -> None:
    gpu = _instance(WEST, team="vision", created_by="alice@example.com")
    calls: list[str] = []
    _spike(world)
    run(
        Settings(),
        ce=world.explorer(),
        store=world.store,
        publish=_publisher(world),
        today=TODAY,
        clients=_counted(calls, refuse="DescribeInstances"),
    )
    _, escalated = [e for e in world.published() if e.kind is AlertKind.COST_ANOMALY and e.team == "vision"]
    sections = {s["title"]: s["lines"] for s in escalated.details["sections"]}
    assert sections[f"Resources of the team in {EC2} ({WEST})"] == [
        f"ec2:instance {gpu} ({WEST}), owner alice@example.com: launch time not known",
        f"Launch times could not be read: ec2:instance in {WEST}: UnauthorizedOperation: not authorized",
    ]
    assert not any(title.startswith("Launched since") for title in sections)  # never "nothing launched"
    assert escalated.details["next_step"] == f"Stop or scale down {gpu} if vision does not need it running."
    assert "DescribeInstances" in calls  # asked, refused, said
    shown = json.dumps(_post(escalated)["blocks"])
    assert "Launch times could not be read" in shown and gpu in shown


def test_unreadable_answers_are_named_never_dropped() -> None:
    """A malformed ARN, a type the registry does not know, a registry read that raises: each named, no traceback."""

    class Tagging:
        def get_paginator(self, name: str) -> Tagging:
            return self

        def paginate(self, **request: Any) -> list[dict[str, Any]]:
            if "ResourceARNList" in request:  # the registry's read of the instance: the service answers garbage
                raise KeyError("ResourceTagMappingList")
            return [
                {
                    "ResourceTagMappingList": [
                        {"ResourceARN": "not-an-arn", "Tags": [{"Key": "created_by", "Value": "<!channel>"}]},
                        {"ResourceARN": f"arn:aws:sagemaker:{WEST}:123456789012:transform-job/tj", "Tags": None},
                        {"ResourceARN": f"arn:aws:ec2:{WEST}:123456789012:instance/i-1", "Tags": []},
                    ]
                }
            ]

    named = rootcause.team_resources(
        lambda service, region: Tagging(),
        [WEST],
        team_key="team",
        team="vision",
        services=[EC2, SAGEMAKER],
        since="2026-12-01",
        policy=TagPolicy(),
    )
    assert named.launches == launched.Launches(
        "2026-12-01",
        unknown=(
            launched.TeamResource("i-1", "ec2:instance", WEST, "", arn=f"arn:aws:ec2:{WEST}:123456789012:instance/i-1"),
            launched.TeamResource(
                "tj", "sagemaker:transform-job", WEST, "", arn=f"arn:aws:sagemaker:{WEST}:123456789012:transform-job/tj"
            ),
            launched.TeamResource("not-an-arn", "unknown", WEST, "", arn="not-an-arn"),
        ),
        errors=(f"ec2:instance in {WEST}: KeyError: 'ResourceTagMappingList'",),
    )
    assert launched.lines(named.launches, 5)[0] == f"ec2:instance i-1 ({WEST}), no owner tag: launch time not known"


@dataclass(frozen=True)
class Account:
    gpu: str
    cpu: str
    launched_on: str
    """The day moto launched them (``YYYY-MM-DD``)."""


@pytest.fixture
def account() -> Iterator[Account]:
    """vision: a GPU and a CPU instance, a notebook and a transform job in us-west-2; nlp: an instance there too."""
    with mock_aws():
        gpu = _instance(WEST, team="vision", created_by="alice@example.com")
        cpu = _instance(WEST, team="vision", created_by="U0BOB0001")
        _instance(WEST, team="nlp", created_by="carol@example.com")  # another team's
        sagemaker = boto3.client("sagemaker", region_name=WEST)
        sagemaker.create_notebook_instance(
            NotebookInstanceName="vision-nb",
            InstanceType="ml.p3.2xlarge",
            RoleArn=ROLE,
            Tags=[{"Key": "team", "Value": "vision"}, {"Key": "owner", "Value": "dana@example.com"}],
        )
        sagemaker.create_transform_job(  # bills under SageMaker; the registry does not read transform jobs
            TransformJobName="vision-batch",
            ModelName="vision-model",
            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/x"}}},
            TransformOutput={"S3OutputPath": "s3://out/x"},
            TransformResources={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1},
            Tags=[{"Key": "team", "Value": "vision"}],
        )
        yield Account(gpu, cpu, f"{_launch_time(WEST, gpu):%Y-%m-%d}")


def _alert(clients: Clients, since: str) -> AlertEvent:
    """The anomaly alert of an episode that began on ``since``, EC2 and SageMaker rising in us-west-2."""
    named = rootcause.team_resources(
        clients, [WEST], team_key="team", team="vision", services=[EC2, SAGEMAKER], since=since, policy=TagPolicy()
    )
    causes = (
        rootcause.Causes("SERVICE", [rootcause.Driver(EC2, 2900.0, 800.0), rootcause.Driver(SAGEMAKER, 900.0, 100.0)]),
        rootcause.Causes("REGION", [rootcause.Driver(WEST, 3700.0, 850.0, "REGION")]),
    )
    finding = {"date": since, "severity": "critical", "cost_usd": 4000.0, "baseline_usd": 1000.0, "ratio": 4.0}
    action = episodes.Action("alert", "vision|", {**finding, "impact_usd": 3000.0, "zscore": 12.0})
    story = episodes.Story(since, 1, 3000.0, 1)
    return anomaly_event(action, [], None, explained=Explanation(story, causes, named))


def _started(instance_id: str) -> str:
    return f"{_launch_time(WEST, instance_id):%Y-%m-%d %H:%M} UTC"


def test_the_alert_names_what_was_launched_since_the_episode_began(account: Account) -> None:
    calls: list[str] = []
    event = _alert(_counted(calls), account.launched_on)
    where = f"{EC2}, {SAGEMAKER} ({WEST})"
    sections = {s["title"]: s["lines"] for s in event.details["sections"]}
    launched_lines = sections[f"Launched since {account.launched_on} in {where}"]
    created = boto3.client("sagemaker", region_name=WEST).describe_notebook_instance(NotebookInstanceName="vision-nb")
    assert sorted(launched_lines) == sorted(  # newest first in the alert
        [
            f"ec2:instance {account.cpu} g5.12xlarge ({WEST}), owner U0BOB0001, started {_started(account.cpu)}",
            f"ec2:instance {account.gpu} g5.12xlarge ({WEST}), owner alice@example.com, "
            f"started {_started(account.gpu)}",
            f"sagemaker:notebook-instance vision-nb ml.p3.2xlarge ({WEST}), owner dana@example.com, "
            f"started {created['CreationTime'].astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        ]
    )
    assert len(launched_lines) == 3  # not nlp's instance, not the transform job
    assert sections[f"Other resources of the team in {where}"] == [
        f"sagemaker:transform-job vision-batch ({WEST}), no owner tag: launch time not known"
    ]
    first_two = [line.split()[1] for line in launched_lines[:2]]
    assert event.details["next_step"] == (
        f"Stop or scale down {first_two[0]} and {first_two[1]} (and 1 more), launched since {account.launched_on}, "
        "if vision does not need them running."
    )
    # one listing, then one read per (type, region): the tagging API's ARN batch, then one describe / one listing
    assert sorted(calls) == sorted(
        ["GetResources", "GetResources", "DescribeInstances", "GetResources", "ListNotebookInstances"]
    )
    shown = json.dumps(_post(event)["blocks"])
    assert "Launched since" in shown and "*What to do:* Stop or scale down" in shown


def test_an_episode_that_began_after_the_launches_counts_them_and_keeps_todays_choice(account: Account) -> None:
    after = (datetime.fromisoformat(account.launched_on) + timedelta(days=1)).date().isoformat()
    event = _alert(_counted([]), after)
    sections = {s["title"]: s["lines"] for s in event.details["sections"]}
    assert sections[f"Resources of the team in {EC2}, {SAGEMAKER} ({WEST})"] == [
        f"3 running since before {after}",
        f"sagemaker:transform-job vision-batch ({WEST}), no owner tag: launch time not known",
    ]
    assert not any(title.startswith("Launched since") for title in sections)
    ids = sorted([account.cpu, account.gpu])
    assert event.details["next_step"].startswith("Stop or scale down ") and all(
        i in event.details["next_step"] for i in ids
    )
    _post(event)


def test_requests_grow_with_batches_not_resources_and_the_read_is_bounded(account: Account) -> None:
    """Six more instances cost no request more; beyond the bound they are counted as not read."""
    tags: list[Any] = [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "vision"}]}]
    before: list[str] = []
    _alert(_counted(before), account.launched_on)
    boto3.client("ec2", region_name=WEST).run_instances(
        ImageId=AMI, InstanceType="t3.large", MinCount=6, MaxCount=6, TagSpecifications=tags
    )
    after: list[str] = []
    event = _alert(_counted(after), account.launched_on)
    assert sorted(after) == sorted(before)
    assert "... and 4 more" in next(s["lines"] for s in event.details["sections"] if s["title"].startswith("Launched"))

    bounded = rootcause.team_resources(
        _counted([]), [WEST], team_key="team", team="vision", services=[EC2], since=account.launched_on, read_limit=3
    )
    assert bounded.launches is not None
    assert (len(bounded.launches.launched), bounded.launches.unread) == (3, 5)
    assert "5 more not read (at most 3 per alert)" in launched.lines(bounded.launches, 5)
