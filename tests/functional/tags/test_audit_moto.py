"""The tag audit against moto: tagged EC2 and SageMaker resources, Cost Explorer results injected."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from costwarden.adapters import tagging
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.services.tag_audit import publish_report, run_audit
from costwarden.settings import Settings
from costwarden.tags.audit import NO_TEAM

from tests.support.aws import alert_queue
from tests.support.tags import GOOD_TAGS as GOOD

from .conftest import allocation_tags, answer, ce_client, ce_daily_by_team, inject_ce

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the audit's windows: 11-16..11-22 and 11-09..11-15
AMI = "ami-12c6146b"


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def instance(region: str, tags: dict[str, str], count: int = 1) -> list[str]:
    ec2 = boto3.client("ec2", region_name=region)
    reservation = ec2.run_instances(
        ImageId=AMI,
        MinCount=count,
        MaxCount=count,
        InstanceType="g5.xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list(tags)}],
    )
    return [i["InstanceId"] for i in reservation["Instances"]]


def notebook(name: str, tags: dict[str, str]) -> None:
    boto3.client("sagemaker", region_name="us-east-1").create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.p3.2xlarge",
        RoleArn="arn:aws:iam::123456789012:role/sagemaker",
        Tags=tag_list(tags),
    )


def account() -> dict[str, Any]:
    """Compliant and non-compliant resources in two regions."""
    ok = instance("us-east-1", GOOD)
    partial = instance("us-east-1", {k: v for k, v in GOOD.items() if k != "cost_center"})
    typo = instance("us-east-1", {**{k: v for k, v in GOOD.items() if k != "team"}, "Team": "research"})
    orphan = instance("eu-west-1", {"project": "scratch", "environment": "dev"})
    notebook("risk-nb", {**GOOD, "team": "risk", "lifecycle_phase": "trainig"})
    notebook("good-nb", GOOD)
    return {"ok": ok[0], "partial": partial[0], "typo": typo[0], "orphan": orphan[0]}


def cost_two_weeks() -> dict[str, Any]:
    # Previous week: 100/day, 10 untagged (10%). This week: 100/day, 25 untagged (25%).
    previous = [{"ml-platform": 90.0, "": 10.0}] * 7
    current = [{"ml-platform": 60.0, "risk": 15.0, "": 25.0}] * 7
    return ce_daily_by_team(date(2026, 11, 9), previous + current)


def two_weeks_ce(active: dict[str, str] | None = None) -> Any:
    """Cost Explorer answering ``cost_two_weeks()``, with ``active`` as its cost allocation tag statuses (none)."""
    inject_ce(cost_two_weeks())
    ce = ce_client()
    answer(ce, "ListCostAllocationTags", allocation_tags(active or {}))
    return ce


def refusing(
    operation: str, code: str, message: str, *, service: str | None = None, region: str | None = None
) -> Callable[[str, str], Any]:
    """A client factory whose clients answer ``operation`` with the error ``code`` for ``service`` or in ``region``."""

    def factory(of: str, at: str) -> Any:
        client = boto3.client(of, region_name=at)
        if of == service or at == region:
            error = {"Error": {"Code": code, "Message": message}}
            answer(client, operation, lambda _params: error)
        return client

    return factory


def run(settings: Settings, ce: Any, regions: tuple[str, ...] = ("us-east-1", "eu-west-1")) -> Any:
    return run_audit(settings, now=NOW, regions=regions, ce=ce)


@pytest.mark.usefixtures("aws")
def test_audit_groups_by_team_and_publishes_one_digest_each() -> None:
    ids = account()
    ce = two_weeks_ce(dict.fromkeys(Settings().tags.required, "Active"))
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic, queue = alert_queue(sns, sqs, "alerts")

    report = publish_report(run(Settings(), ce), topic)

    assert report.facts.scanned == 6
    assert report.facts.failed_regions == {}
    by_team = {event.team: event for event in report.events}
    assert list(by_team) == ["ml-platform", "research", "risk", NO_TEAM]
    assert all(event.kind == AlertKind.TAG_VIOLATION for event in report.events)

    platform = by_team["ml-platform"]
    assert platform.details["items"] == [
        f"ec2:instance/{ids['partial']} (us-east-1): missing cost_center",
    ]
    assert platform.details["figures"] == {"Resources": "1", "Problems": "1", "Most common": "missing cost_center"}
    # The misspelt team key still tells whose it is; the digest tells them to rename it.
    research = by_team["research"]
    assert "rename tag 'Team' to 'team'" in research.details["items"][0]
    assert ids["typo"] in research.details["items"][0]
    risk = by_team["risk"]
    assert risk.details["items"][0].startswith("sagemaker:notebook-instance/risk-nb (us-east-1): lifecycle_phase=")
    assert "did you mean 'training'?" in risk.details["items"][0]

    summary = by_team[NO_TEAM]
    assert summary.severity == Severity.WARNING
    assert summary.details["items"] == [
        f"ec2:instance/{ids['orphan']} (eu-west-1): missing team, model_id, lifecycle_phase, cost_center; "
        "environment='dev' is not allowed; allowed: production, staging, development, experiment; "
        "did you mean 'development'?"
    ]
    assert summary.details["figures"]["Untagged spend (7d)"] == "25.0%"
    assert summary.details["figures"]["Trend"] == "up 15.0 points from 10.0%"
    assert summary.details["figures"]["Cost allocation tags"] == "active"
    assert summary.summary.startswith("25.0% of spend ($175 of $700) had no team tag in the last 7 days")
    assert summary.details["untagged_share"]["previous_untagged_usd"] == 70.0

    # Published: one SNS message per digest, with the filterable attributes.
    assert len(report.published) == 4
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert sorted(b["MessageAttributes"]["team"]["Value"] for b in bodies) == sorted(by_team)
    assert {AlertEvent.from_json(b["Message"]).dedup_key for b in bodies} == {
        f"tag_violation#{team}#2026-W48" for team in by_team
    }


@pytest.mark.usefixtures("aws")
def test_inactive_cost_allocation_tags_are_said_plainly() -> None:
    instance("us-east-1", GOOD)
    statuses = {"team": "Inactive", "project": "Inactive", "model_id": "Active", "environment": "Active"}
    ce = two_weeks_ce(statuses)
    report = run(Settings(), ce, regions=("us-east-1",))
    summary = report.events[-1]
    assert [e.team for e in report.events] == [NO_TEAM]
    assert summary.severity == Severity.WARNING
    assert summary.details["figures"]["Cost allocation tags"] == "NOT ACTIVE"
    assert summary.details["cost_allocation_tags"]["team"] == "Inactive"
    # Required keys billing has never seen are named too (optional ones such as expires_at are not checked).
    assert summary.details["cost_allocation_tags"]["cost_center"] is None
    assert "expires_at" not in summary.details["cost_allocation_tags"]
    line = summary.details["items"][0]
    assert line.startswith(
        "cost allocation tags not active (inactive: team, project; "
        "not yet seen by billing (no tagged usage yet): lifecycle_phase, cost_center)"
    )
    assert "per-team cost shows nothing until you activate these tags in Billing -> Cost allocation tags" in line
    assert "Cost allocation tags team, project, lifecycle_phase, cost_center are not active" in summary.summary
    assert report.summary()["cost_allocation_tags_inactive"] == ["team", "project"]


@pytest.mark.usefixtures("aws")
def test_clean_account_gets_an_info_summary() -> None:
    instance("us-east-1", GOOD)
    inject_ce(ce_daily_by_team(date(2026, 11, 9), [{"ml-platform": 100.0}] * 14))
    ce = ce_client()
    answer(ce, "ListCostAllocationTags", allocation_tags(dict.fromkeys(Settings().tags.required, "Active")))
    report = run(Settings(), ce, regions=("us-east-1",))
    assert [(e.team, e.severity) for e in report.events] == [(NO_TEAM, Severity.INFO)]
    assert report.events[0].details["figures"]["Untagged spend (7d)"] == "0.0%"
    assert report.events[0].details["figures"]["Trend"] == "unchanged from 0.0%"


@pytest.mark.usefixtures("aws")
def test_every_page_is_followed() -> None:
    instance("us-east-1", {**GOOD, "team": "bulk", "cost_center": ""}, count=130)
    scan = tagging.scan(["us-east-1"])
    # moto pages differently from AWS (100 resources per page there); what matters: every page, nothing twice.
    assert scan.pages >= 2
    assert len({r.arn for r in scan.resources}) == len(scan.resources) == 130


@pytest.mark.usefixtures("aws")
def test_a_failing_region_is_reported_and_the_others_go_on() -> None:
    instance("us-east-1", {"team": "ml-platform"})

    factory = refusing("GetResources", "UnrecognizedClientException", "region not enabled", region="ap-south-2")
    ce = two_weeks_ce()
    report = run_audit(Settings(), now=NOW, regions=("ap-south-2", "us-east-1"), client_factory=factory, ce=ce)
    assert list(report.facts.failed_regions) == ["ap-south-2"]
    assert "region not enabled" in report.facts.failed_regions["ap-south-2"]
    assert [e.team for e in report.events] == ["ml-platform", NO_TEAM]
    summary = report.events[-1]
    assert any(line.startswith("region ap-south-2 not scanned:") for line in summary.details["items"])
    assert summary.details["cost_allocation_tags"]["team"] is None


@pytest.mark.usefixtures("aws")
def test_cost_explorer_refused_is_reported_not_fatal() -> None:
    instance("us-east-1", GOOD)
    ce = ce_client()
    denied = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform ce:GetCostAndUsage"}}
    answer(ce, "GetCostAndUsage", lambda _params: denied)
    answer(ce, "ListCostAllocationTags", allocation_tags(dict.fromkeys(Settings().tags.required, "Active")))
    report = run(Settings(), ce, regions=("us-east-1",))
    assert report.facts.share is None
    assert report.facts.errors[0].startswith("untagged spend not measured (Cost Explorer GetCostAndUsage)")
    assert report.events[-1].severity == Severity.WARNING


@pytest.mark.usefixtures("aws")
def test_publish_failure_does_not_stop_other_digests() -> None:
    instance("us-east-1", {"team": "a"})
    instance("us-east-1", {"team": "b"})
    ce = two_weeks_ce()
    report = run(Settings(), ce, regions=("us-east-1",))
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    calls: list[str] = []

    def flaky(params: dict[str, Any]) -> dict[str, Any]:
        calls.append(params.get("Subject", ""))
        if len(calls) == 1:
            return {"Error": {"Code": "InternalError", "Message": "boom"}}
        return {"MessageId": f"m{len(calls)}"}

    answer(sns, "Publish", flaky)
    with pytest.raises(ClientError):
        sns.publish(TopicArn=topic, Message="x")  # the hook answers as an error when the body says so
    calls.clear()
    publish_report(report, topic, sns)
    assert len(calls) == 3


@pytest.mark.usefixtures("aws")
def test_terminated_instances_are_not_audited() -> None:
    [alive] = instance("us-east-1", {"team": "ml-platform"})
    [gone] = instance("us-east-1", {"team": "ml-platform", "project": "old"})
    boto3.client("ec2", region_name="us-east-1").terminate_instances(InstanceIds=[gone])
    ce = two_weeks_ce()
    report = run(Settings(), ce, regions=("us-east-1",))
    assert report.facts.scanned == 1
    assert report.facts.terminated_skipped == 1
    assert [v.arn.rsplit("/", 1)[1] for v in report.violations] == [alive]
    assert report.summary()["terminated_instances_skipped"] == 1


@pytest.mark.usefixtures("aws")
def test_instances_that_cannot_be_described_are_kept_and_said() -> None:
    instance("us-east-1", {"team": "ml-platform"})

    denied = "not authorized: ec2:DescribeInstances"
    factory = refusing("DescribeInstances", "UnauthorizedOperation", denied, service="ec2")
    ce = two_weeks_ce()
    report = run_audit(Settings(), now=NOW, regions=("us-east-1",), client_factory=factory, ce=ce)
    assert report.facts.scanned == 1 and len(report.violations) == 1
    assert report.facts.errors[0].startswith("EC2 instances in us-east-1 not checked for termination")
