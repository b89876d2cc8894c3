"""Issue 22, part 1, on moto and the Slack stand-in: an anomaly alert tells the whole story.

vision's EC2 spend jumps in us-west-2 on two days (a warning, then a critical escalation) while its S3 spend falls:
the escalation carries the episode's start, duration and extra so far; causes by service, usage type, region and
account (one grouped request each, counted); the sentence saying why the services add up to more than the extra;
the team's instance in that service and region, named by the tagging API (not the one elsewhere, not another
team's, not its notebook of another service); one next step; a Cost Explorer link whose query parameters say team,
service and dates.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
import numpy as np
from costwarden.core.money import usd
from costwarden.cost.monitor import run
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.models.alert import AlertEvent, AlertKind
from costwarden.notifier.blocks import render_message
from costwarden.notifier.slack import post_message
from costwarden.settings import Settings

from tests.support.slack_posts import problems

from .conftest import World
from .test_monitor import EC2

TODAY = date(2026, 3, 22)
DAY1, DAY2 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
GPU_USAGE = "USW2-BoxUsage:g5.12xlarge"
AMI = "ami-12c6146b"


def _instance(region: str, **tags: str) -> str:
    found = boto3.client("ec2", region_name=region).run_instances(
        ImageId=AMI,  # one of moto's own images: no DescribeImages (it loads every image, seconds a call)
        InstanceType="g5.12xlarge",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )
    return str(found["Instances"][0]["InstanceId"])


def _launch_time(region: str, instance_id: str) -> datetime:
    """The instance's ``LaunchTime`` as EC2 reports it (moto: the moment it was created)."""
    found = boto3.client("ec2", region_name=region).describe_instances(InstanceIds=[instance_id])
    return found["Reservations"][0]["Instances"][0]["LaunchTime"].astimezone(UTC)


def _spike(world: World) -> None:
    """60 flat days (3 % noise, no weekly rhythm: the days before today may be any weekday) for two teams, 70 % EC2
    and 30 % S3, then the spike."""
    rng = np.random.default_rng(7)
    start = TODAY - timedelta(days=60)
    for team, level in (("vision", 1200.0), ("nlp", 800.0)):
        values = [level * float(rng.normal(1, 0.03)) for _ in range(60)]
        world.fake.add_series(team, start, [0.7 * v for v in values], service=EC2)
        world.fake.add_series(team, start, [0.3 * v for v in values], service="Amazon Simple Storage Service")
    for day, extra in ((DAY1, 0.8 * 1200), (DAY2, 2.5 * 1200)):  # 1.8x: warning, then 3.5x: critical
        world.fake.add(day.isoformat(), "vision", extra, service=EC2, usage_type=GPU_USAGE, region="us-west-2")
        world.fake.add(day.isoformat(), "vision", -250.0, service="Amazon Simple Storage Service")  # S3 fell


def _daily(world: World, today: date) -> None:
    def clients(service: str, region: str) -> Any:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]

    run(Settings(), ce=world.explorer(), store=world.store, publish=_publisher(world), today=today, clients=clients)


def _publisher(world: World) -> Any:
    from costwarden.adapters import sns

    return lambda event: sns.publish(event, world.topic_arn)


def _escalation(world: World) -> tuple[AlertEvent, AlertEvent, list[dict[str, Any]]]:
    _spike(world)
    _daily(world, TODAY)  # judges the last week: DAY1's warning opens the episode, DAY2's critical escalates it
    cause_requests = [r for r in world.fake.requests if r["GroupBy"][0]["Type"] == "DIMENSION"]
    first, escalated = [e for e in world.published() if e.kind is AlertKind.COST_ANOMALY and e.team == "vision"]
    return first, escalated, cause_requests


def test_escalated_alert_tells_the_whole_story_in_slack(world: World) -> None:
    gpu = _instance("us-west-2", team="vision", created_by="alice@example.com")
    _instance("us-east-1", team="vision", created_by="bob@example.com")  # a region the causes do not name
    _instance("us-west-2", team="nlp", created_by="carol@example.com")  # another team's
    boto3.client("sagemaker", region_name="us-west-2").create_notebook_instance(  # another service
        NotebookInstanceName="vision-nb",
        InstanceType="ml.t3.medium",
        RoleArn="arn:aws:iam::123456789012:role/sm",
        Tags=[{"Key": "team", "Value": "vision"}],
    )
    first, event, cause_requests = _escalation(world)

    # one grouped request per cause dimension and alert (two alerts), each filtered to the team
    dimensions = ["SERVICE", "USAGE_TYPE", "REGION", "LINKED_ACCOUNT"]
    assert [r["GroupBy"][0]["Key"] for r in cause_requests] == [d for d in dimensions for _ in range(2)]
    team_filter = {"Tags": {"Key": "team", "Values": ["vision"], "MatchOptions": ["EQUALS"]}}
    assert all(team_filter in r["Filter"]["And"] for r in cause_requests)

    figures = event.details["figures"]
    so_far = float(first.details["finding"]["impact_usd"]) + float(event.details["finding"]["impact_usd"])
    assert (figures["Since"], figures["Duration"], figures["Extra so far"]) == (
        DAY1.isoformat(),
        "2 days",
        f"+{usd(so_far)}",
    )
    assert f"Running since {DAY1} (2 days), +{usd(so_far)} over the usual so far." in event.summary
    assert "more than the" in event.summary and "other services fell by $" in event.summary  # the offsets
    assert event.title.startswith(f"vision: +{usd(event.details['finding']['impact_usd'])} in {EC2} on {DAY2}")

    sections = {s["title"]: s["lines"] for s in event.details["sections"]}
    assert sections["Root causes by usage type"][0].endswith(f" in {GPU_USAGE}")
    assert sections["Root causes by region"][0].endswith(" in us-west-2")
    assert sections["Root causes by account"][0].endswith(" in 123456789012")
    started = _launch_time("us-west-2", gpu)  # moto launches now: after the episode began (DAY1)
    assert sections[f"Launched since {DAY1} in {EC2} (us-west-2)"] == [
        f"ec2:instance {gpu} g5.12xlarge (us-west-2), owner alice@example.com, started {started:%Y-%m-%d %H:%M} UTC"
    ]
    assert event.details["next_step"] == (
        f"Stop or scale down {gpu}, launched since {DAY1}, if vision does not need it running."
    )

    with SlackStandIn() as slack:
        post_message(slack.url("/hooks/vision"), render_message(event), channel="vision", remaining_ms=lambda: 60_000)
        (received,) = slack.accepted("/hooks/vision")
    message = received.body
    assert message is not None and problems(message) == []
    shown = json.dumps(message["blocks"])
    assert "*What to do:* Stop or scale down" in shown and "|Open in Cost Explorer>" in shown
    assert event.dedup_key not in shown and "z-score" not in shown
    assert message["metadata"]["event_payload"]["zscore"] == round(float(event.details["finding"]["zscore"]), 2)

    link = event.details["links"][0]["url"]
    assert link in message["blocks"][-2]["text"]["text"].replace("&amp;", "&")
    fragment = urlsplit(link).fragment
    assert fragment.startswith("/cost-explorer?")
    params = dict(parse_qsl(fragment.split("?", 1)[1]))
    assert (params["startDate"], params["endDate"], params["granularity"]) == (
        (DAY1 - timedelta(days=7)).isoformat(),
        DAY2.isoformat(),
        "Daily",
    )
    filters = json.loads(params["filter"])
    assert {
        (f["dimension"]["id"], f["values"][0]["value"], f.get("growableValue", {}).get("value")) for f in filters
    } == {
        ("TagKey", "vision", "team"),
        ("Service", EC2, None),
    }
    assert unquote(link) != link  # every parameter percent-encoded
