"""The savings advisor in the template: two functions on their schedules, a private encrypted report bucket, and IAM
that refuses a lifecycle change unless ``storage.action`` is ``apply`` (cdk-nag clean: synth itself would fail)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.advisor import ADVISOR_HANDLER, ADVISOR_READS, REPORT_HANDLER
from tests.infra.conftest import Synth, actions_of, synthesize

ADVISOR = "Advisor/Function/Function"
REPORT = "Advisor/ReportFunction/Function"
BUCKET = "Advisor/ReportBucket"


def statements(synth: Synth, function_path: str) -> list[dict[str, Any]]:
    return synth.role_statements(synth.resource(function_path)["Properties"]["Role"]["Fn::GetAtt"][0])


def allowed(synth: Synth, function_path: str) -> set[str]:
    return {a for s in statements(synth, function_path) if s["Effect"] == "Allow" for a in actions_of(s)}


def test_functions_and_schedules(synth: Synth) -> None:
    advisor = synth.resource(ADVISOR)["Properties"]
    report = synth.resource(REPORT)["Properties"]
    assert advisor["Handler"] == ADVISOR_HANDLER and report["Handler"] == REPORT_HANDLER
    assert report["Environment"]["Variables"]["REPORT_BUCKET_NAME"] == {"Ref": synth.logical_id(BUCKET)}
    rules = {r["Properties"]["Description"]: r["Properties"] for r in synth.resources("AWS::Events::Rule").values()}
    weekly = next(v for k, v in rules.items() if "savings advisor" in k)
    monthly = next(v for k, v in rules.items() if "monthly cost report" in k)
    assert weekly["ScheduleExpression"] == "cron(0 6 ? * MON *)"
    assert monthly["ScheduleExpression"] == "cron(30 6 1 * ? *)"
    assert monthly["Targets"][0]["Arn"] == {"Fn::GetAtt": [synth.logical_id(REPORT), "Arn"]}


def test_report_bucket_is_private_encrypted_ssl_only(synth: Synth) -> None:
    bucket = synth.resource(BUCKET)["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    policies = [
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": synth.logical_id(BUCKET)}
    ]
    [policy] = policies
    deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_least_privilege_and_no_lifecycle_put_by_default(synth: Synth) -> None:
    advisor = allowed(synth, ADVISOR)
    assert set(ADVISOR_READS) <= advisor
    assert "s3:PutLifecycleConfiguration" not in advisor
    assert not {a for a in advisor if a.startswith("s3:") and ("Delete" in a or "Put" in a or a.endswith("*"))}
    report = allowed(synth, REPORT)
    assert {a for a in report if a.startswith(("s3:", "ce:"))} == {"s3:PutObject", "s3:GetObject", "ce:GetCostAndUsage"}
    objects = [s for s in statements(synth, REPORT) if "s3:PutObject" in actions_of(s)]
    assert objects[0]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [synth.logical_id(BUCKET), "Arn"]}, "/reports/*"]]
    }


@pytest.mark.slow
def test_opt_in_apply_grants_the_put_but_never_on_the_report_bucket(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {"storage": {"action": "apply"}}})
    assert "s3:PutLifecycleConfiguration" in allowed(synth, ADVISOR)
    denies = [s for s in statements(synth, ADVISOR) if s["Effect"] == "Deny"]
    assert [actions_of(s) for s in denies] == [["s3:PutLifecycleConfiguration"]]
    assert denies[0]["Resource"] == {"Fn::GetAtt": [synth.logical_id(BUCKET), "Arn"]}
