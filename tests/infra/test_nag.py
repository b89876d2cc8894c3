"""cdk-nag (AwsSolutions) runs on every synth: zero unacknowledged findings, and every acknowledgment has a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs

from infra.bundling import Bundle
from infra.function import CostwardenFunction
from infra.nag import ACKNOWLEDGMENTS, KMS_DATA_KEY_WILDCARD, OTHER_REASONS
from tests.infra.conftest import Synth, synthesize


def _plugin(report: dict[str, Any]) -> dict[str, Any]:
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return plugin


def test_stack_has_zero_unacknowledged_findings(synth: Synth) -> None:
    plugin = _plugin(synth.report)
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []


def test_every_acknowledgment_is_narrow_and_carries_its_recorded_reason(synth: Synth) -> None:
    suppressed = _plugin(synth.report)["suppressedViolations"]
    assert suppressed, "the stack is expected to acknowledge some findings (X-Ray, runtime, SNS DLQ)"
    for finding in suppressed:
        finding_id = finding["acknowledgedId"]
        assert finding["reason"] in (ACKNOWLEDGMENTS[finding_id], *OTHER_REASONS.get(finding_id, ()))
        # Acknowledged on the construct that causes it, never on the whole stack.
        assert finding["acknowledgedAt"].startswith(f"{synth.stack.stack_name}/")
        for construct in finding["violatingConstructs"]:
            assert construct["constructPath"].startswith(finding["acknowledgedAt"] + "/")


def test_recorded_reasons_are_real_sentences() -> None:
    for finding, reason in ACKNOWLEDGMENTS.items():
        assert finding.startswith("AwsSolutions::AwsSolutions-")
        assert len(reason.split()) >= 15, finding


def test_a_capability_function_built_with_the_helper_passes_cdk_nag(tmp_path: Path) -> None:
    def add_probe(stack: Any) -> None:
        CostwardenFunction(
            stack,
            "Probe",
            core=stack.core,
            service_name="probe",
            handler="costwarden.handlers.cost_monitor.handler",
            description="A producer of alerts, as the cost monitor is",
            bundle=Bundle.ANALYTICS,
            memory_size=1024,
        )
        CostwardenFunction(
            stack,
            "ReadOnlyProbe",
            core=stack.core,
            service_name="read_only_probe",
            handler="costwarden.handlers.tag_audit.handler",
            description="Reads state, publishes nothing",
            publishes_alerts=False,
            state_access="read",
            reserved_concurrency=2,
            environment={"EXTRA_NAME": "value"},
        )

    synth = synthesize(tmp_path, extend=add_probe)
    plugin = _plugin(synth.report)
    assert plugin["violations"] == []
    acknowledged = {(f["acknowledgedId"], f["acknowledgedAt"]) for f in plugin["suppressedViolations"]}
    assert (KMS_DATA_KEY_WILDCARD, f"{synth.stack.stack_name}/Probe/Role") in acknowledged
    probe = synth.resource("Probe/Function")["Properties"]
    assert probe["MemorySize"] == 1024
    assert probe["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "probe"
    read_only = synth.resource("ReadOnlyProbe/Function")["Properties"]
    assert read_only["ReservedConcurrentExecutions"] == 2
    assert read_only["Environment"]["Variables"]["EXTRA_NAME"] == "value"
    role_id = synth.logical_id("ReadOnlyProbe/Role")
    actions = {
        action
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert "sns:Publish" not in actions
    assert "dynamodb:GetItem" in actions and "dynamodb:Query" in actions
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & actions


def test_an_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    def add_plain_queue(stack: Any) -> None:
        sqs.Queue(stack, "PlainQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)

    with pytest.raises(Exception, match="AwsSolutions-SQS"):
        synthesize(tmp_path, extend=add_plain_queue)
