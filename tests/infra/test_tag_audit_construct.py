"""The tag audit's infrastructure: weekly schedule from settings, light bundle, least-privilege role, cdk-nag clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match, Template

from infra.nag import TAG_AUDIT_READS_REASON
from infra.tag_audit import TAG_AUDIT_HANDLER
from tests.infra.conftest import Synth, synthesize


def audit_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    functions = {
        k: v
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function" and v["Properties"].get("Handler") == TAG_AUDIT_HANDLER
    }
    assert len(functions) == 1
    return next(iter(functions.items()))


def test_function_is_light_and_named(synth: Synth) -> None:
    _, function = audit_function(synth.template)
    props = function["Properties"]
    assert props["Architectures"] == ["arm64"]
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "tag_audit"
    assert {"COSTWARDEN_SETTINGS", "ALERT_TOPIC_ARN", "STATE_TABLE_NAME"} <= set(env)


def test_weekly_schedule_from_settings(synth: Synth, tmp_path: Path) -> None:
    logical_id, _ = audit_function(synth.template)
    Template.from_json(synth.template).has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 7 ? * MON *)",
            "State": "ENABLED",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}})],
        },
    )
    custom = synthesize(tmp_path, {"costwarden": {"schedules": {"tag_audit_weekday": "FRI", "tag_audit_hour_utc": 5}}})
    Template.from_json(custom.template).has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "cron(0 5 ? * FRI *)"}
    )


def test_role_has_exactly_the_audit_permissions(synth: Synth) -> None:
    _, function = audit_function(synth.template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [p for p in synth.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"tag:GetResources", "ce:GetCostAndUsage", "ce:ListCostAllocationTags", "sns:Publish"} <= actions
    assert "ec2:DescribeInstances" in actions
    star = [s for s in statements if s["Resource"] == "*" and "xray:" not in str(s["Action"])]
    assert len(star) == 1  # X-Ray's statement (tracing, from CostwardenFunction) aside
    assert sorted(star[0]["Action"]) == [
        "ce:GetCostAndUsage",
        "ce:ListCostAllocationTags",
        "ec2:DescribeInstances",
        "tag:GetResources",
    ]
    # No state table access, nothing that changes a resource.
    assert not [a for a in actions if a.startswith("dynamodb:")]
    assert not [a for a in actions if a.split(":")[1].startswith(("Delete", "Terminate", "Stop", "Tag", "Untag"))]


def test_nag_finding_acknowledged_on_the_read_policy_alone(synth: Synth) -> None:
    (plugin,) = [p for p in synth.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert plugin["violations"] == []
    ours = [f for f in plugin["suppressedViolations"] if f["reason"] == TAG_AUDIT_READS_REASON]
    assert len(ours) == 1
    assert ours[0]["acknowledgedAt"] == f"{synth.stack.stack_name}/TagAudit/ReadTagsAndCost"
    paths = [c["constructPath"] for c in ours[0]["violatingConstructs"]]
    assert paths == [f"{synth.stack.stack_name}/TagAudit/ReadTagsAndCost/Resource"]
