"""cdk-nag (AwsSolutions) runs on every synth: zero unacknowledged findings, and every acknowledgment has a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs

from infra.bundling import Bundle
from infra.function import CostwardenFunction
from infra.nag import ACKNOWLEDGMENTS, KMS_DATA_KEY_WILDCARD
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
        assert finding["reason"] == ACKNOWLEDGMENTS[finding["acknowledgedId"]]
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

    synth = synthesize(tmp_path, extend=add_probe)
    plugin = _plugin(synth.report)
    assert plugin["violations"] == []
    acknowledged = {(f["acknowledgedId"], f["acknowledgedAt"]) for f in plugin["suppressedViolations"]}
    assert (KMS_DATA_KEY_WILDCARD, f"{synth.stack.stack_name}/Probe/Role") in acknowledged
    probe = synth.resource("Probe/Function")["Properties"]
    assert probe["MemorySize"] == 1024
    assert probe["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "probe"


def test_an_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    def add_plain_queue(stack: Any) -> None:
        sqs.Queue(stack, "PlainQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)

    with pytest.raises(Exception, match="AwsSolutions-SQS"):
        synthesize(tmp_path, extend=add_plain_queue)
