"""``costwarden run tag_audit``: the Lambda handler with the committed sample event, against moto."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import boto3
import pytest
from costwarden.adapters import aws
from costwarden.cli.run import HANDLERS, invoke

from .conftest import allocation_tags, answer, ce_daily_by_team, inject_ce

EVENT = Path(__file__).parents[3] / "events" / "tag_audit" / "scheduled.json"


@pytest.mark.usefixtures("aws")
def test_handler_runs_the_weekly_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HANDLERS["tag_audit"] == "costwarden.handlers.tag_audit.handler"
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"reaper": {"regions": ["us-east-1", "eu-west-1"]}}))
    boto3.client("ec2", region_name="eu-west-1").run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "vision"}]}],
    )
    # The sample event's time is 2026-11-23T07:00Z: windows 11-16..11-22 (current) and 11-09..11-15.
    inject_ce(ce_daily_by_team(date(2026, 11, 9), [{"vision": 80.0, "": 20.0}] * 14))
    # The handler's Cost Explorer client is the cached default; moto lacks ListCostAllocationTags (see conftest).
    answer(aws.client("ce", "us-east-1"), "ListCostAllocationTags", allocation_tags({"team": "Active"}))

    summary = invoke("tag_audit", json.loads(EVENT.read_text()))

    assert summary["regions"] == ["us-east-1", "eu-west-1"]
    assert summary["resources_scanned"] == 1
    assert summary["teams"] == ["vision"]
    assert summary["untagged_share"] == pytest.approx(0.2)
    assert summary["cost_allocation_tags_unseen"] == [
        "project",
        "model_id",
        "environment",
        "lifecycle_phase",
        "cost_center",
    ]
    assert summary["published"] == 2
    assert summary["publish_errors"] == []
