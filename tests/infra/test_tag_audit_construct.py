"""The tag audit's infrastructure: weekly schedule from settings, light bundle, least-privilege role."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from costwarden.settings import Settings

from infra.stack import CostwardenStack
from infra.tag_audit import TAG_AUDIT_HANDLER


def template(settings: Settings) -> Template:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return Template.from_stack(CostwardenStack(app, "Costwarden", settings=settings))


@pytest.fixture(scope="module")
def default_template() -> Template:
    return template(Settings())


def audit_function(tpl: Template) -> tuple[str, dict[str, Any]]:
    functions = tpl.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": TAG_AUDIT_HANDLER}})
    assert len(functions) == 1
    return next(iter(functions.items()))


def test_function_is_light_and_named(default_template: Template) -> None:
    _, function = audit_function(default_template)
    props = function["Properties"]
    assert props["Architectures"] == ["arm64"]
    env = props["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "tag_audit"
    assert {"COSTWARDEN_SETTINGS", "ALERT_TOPIC_ARN", "STATE_TABLE_NAME"} <= set(env)


def test_weekly_schedule_from_settings(default_template: Template) -> None:
    logical_id, _ = audit_function(default_template)
    default_template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 7 ? * MON *)",
            "State": "ENABLED",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}})],
        },
    )
    custom = template(Settings.model_validate({"schedules": {"tag_audit_weekday": "FRI", "tag_audit_hour_utc": 5}}))
    custom.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "cron(0 5 ? * FRI *)"})


def test_role_has_exactly_the_audit_permissions(default_template: Template) -> None:
    _, function = audit_function(default_template)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = default_template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"tag:GetResources", "ce:GetCostAndUsage", "ce:ListCostAllocationTags", "sns:Publish"} <= actions
    star = [s for s in statements if s["Resource"] == "*" and not str(s["Action"]).count("xray:")]
    assert len(star) == 1  # X-Ray's statement (tracing, from CostwardenFunction) aside
    assert sorted(star[0]["Action"]) == ["ce:GetCostAndUsage", "ce:ListCostAllocationTags", "tag:GetResources"]
    # No state table access, nothing destructive.
    assert not [a for a in actions if a.startswith("dynamodb:")]
    assert not [a for a in actions if a.split(":")[1].startswith(("Delete", "Terminate", "Stop", "Tag", "Untag"))]
