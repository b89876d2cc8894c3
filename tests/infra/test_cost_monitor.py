"""The cost monitor in the template: analytics bundle function, daily schedule from settings, least privilege
(Cost Explorer read only, table, topic), dashboard on its EMF metrics, cdk-nag acknowledgment with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.cost_monitor import CE_ACTIONS, HANDLER
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
    assert not {a for a in everything if a.startswith(("ec2:", "sagemaker:", "iam:"))}


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
