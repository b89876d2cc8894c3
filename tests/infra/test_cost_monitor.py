"""The cost monitor in the template: analytics bundle function, daily schedule from settings, least privilege
(Cost Explorer read only, table, topic), dashboard on its EMF metrics, cdk-nag acknowledgment with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.cost.rootcause import LAUNCH_READ_TYPES
from costwarden.resources import REGISTRY

from infra.cost_monitor import CE_ACTIONS, HANDLER, RESOURCE_READS
from tests.infra.conftest import Synth, actions_of, synthesize

FUNCTION = "CostMonitor/Function/Function"


def test_function_runs_the_handler_with_the_settings(synth: Synth) -> None:
    props = synth.resource(FUNCTION)["Properties"]
    assert props["Handler"] == HANDLER
    assert props["Architectures"] == ["arm64"]
    assert props["MemorySize"] >= 1024 and props["Timeout"] >= 300
    env = props["Environment"]["Variables"]
    assert {"COSTWARDEN_SETTINGS", "ALERT_TOPIC_ARN", "STATE_TABLE_NAME"} <= set(env)
    assert env["POWERTOOLS_SERVICE_NAME"] == "cost_monitor"


def test_daily_schedule_at_the_configured_hour(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {"schedules": {"cost_monitor_hour_utc": 6}}})
    rules = [
        r for r in synth.resources("AWS::Events::Rule").values() if "cost monitor" in r["Properties"]["Description"]
    ]
    assert len(rules) == 1
    assert rules[0]["Properties"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    target = rules[0]["Properties"]["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": [synth.logical_id(FUNCTION), "Arn"]}


def test_iam_is_cost_explorer_read_table_and_topic_only(synth: Synth) -> None:
    """Changed on purpose (issue 22, part 1): the anomaly alert reads the launch times of the team's resources in the
    driving service and region through the registry, so the role now holds the read-only list/describe actions of
    exactly those registry types (``rootcause.LAUNCH_READ_TYPES``, from their ``read_permissions``) besides
    ``tag:GetResources`` — nothing destructive, no tagging, no IAM."""
    role_id = synth.resource(FUNCTION)["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = synth.role_statements(role_id)
    everything = {a for s in statements for a in actions_of(s)}
    ce = {a for a in everything if a.startswith("ce:")}
    assert ce == set(CE_ACTIONS) == {"ce:GetCostAndUsage"}
    ce_statements = [s for s in statements if set(actions_of(s)) & ce]
    assert all(s["Resource"] == "*" and set(actions_of(s)) == ce for s in ce_statements)
    assert "sns:Publish" in everything
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"} <= everything
    # nothing destructive, and no wildcard actions beyond KMS data keys
    assert not any(a.endswith(":*") or a == "*" for a in everything)
    resource_reads = {a for a in everything if a.startswith(("ec2:", "sagemaker:", "elasticmapreduce:", "tag:"))}
    declared = {a for name in LAUNCH_READ_TYPES for a in REGISTRY[name].read_permissions} | {"tag:GetResources"}
    assert resource_reads == declared == set(RESOURCE_READS)
    assert {"ec2:DescribeInstances", "sagemaker:ListNotebookInstances"} <= resource_reads
    verbs = {a.split(":", 1)[1].removeprefix("Batch") for a in resource_reads}
    assert all(v.startswith(("Describe", "List", "Get")) for v in verbs), sorted(verbs)
    assert not {a for a in everything if a.startswith("iam:")}


def test_cost_explorer_wildcard_is_acknowledged_with_a_reason(synth: Synth) -> None:
    text = json.dumps(synth.report)
    assert "ce:GetCostAndUsage supports no resource-level permissions" in text
    assert "CostMonitor/CostExplorerRead" in text


def test_dashboard_shows_cost_per_team_anomalies_budget_and_requests(synth: Synth) -> None:
    dashboard = synth.resource("CostMonitor/Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "Costwarden-cost"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("DailyCostUSD", "Anomalies", "BudgetUsedPercent", "CostExplorerRequests"):
        assert metric in body, metric


@pytest.mark.parametrize("key", ["Errors", "Throttles"])
def test_function_has_alarms(synth: Synth, key: str) -> None:
    fn_id = synth.logical_id(FUNCTION)
    alarms = [
        a
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == key
        and {"Name": "FunctionName", "Value": {"Ref": fn_id}} in a["Properties"].get("Dimensions", [])
    ]
    assert len(alarms) == 1
