"""Reading tag sets, CloudFormation templates (CDK output, hand-written YAML) and Terraform plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from costwarden.settings import TagPolicy
from costwarden.tags.cfn_types import known_untaggable, taggable_types
from costwarden.tags.iac import (
    DocumentReport,
    IacError,
    check_document,
    detect_format,
    extract_cloudformation,
    extract_terraform,
    load_document,
)
from costwarden.tags.validate import Code

from tests.support.tags import GOOD_TAGS as GOOD

FIXTURES = Path(__file__).parents[2] / "fixtures" / "tags"
POLICY = TagPolicy()


def report_for(name: str) -> DocumentReport:
    path = FIXTURES / name
    return check_document(load_document(path.read_text(), name), POLICY, name=name)


def findings(report: DocumentReport) -> dict[str, list[tuple[str, str]]]:
    return {r.resource: [(f.code.value, f.key) for f in r.check.violations] for r in report.results}


def test_cdk_synthesized_template() -> None:
    report = report_for("cdk_ml_stack.template.json")
    assert report.format == "cloudformation"
    assert findings(report) == {
        "Artifacts82DD59A1": [],
        "JobsDF1CC2D4": [
            ("key_typo", "team"),
            ("missing", "model_id"),
            ("missing", "environment"),
            ("missing", "lifecycle_phase"),
            ("missing", "cost_center"),
        ],
        "Notebook": [("value_not_allowed", "environment")],
        "Alerts91F83244": [],
    }
    # Bucket policy, queue policy and SNS subscription cannot carry tags: not flagged, listed as skipped.
    assert sorted(t for _, t in report.skipped) == [
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",
    ]
    topic = next(r for r in report.results if r.resource == "Alerts91F83244")
    assert [(f.code, f.key) for f in topic.check.notes] == [(Code.UNRESOLVED_VALUE, "environment")]


def test_hand_written_yaml_with_intrinsic_functions() -> None:
    report = report_for("training_stack.yaml")
    got = findings(report)
    # Values from !Ref / !Sub / !GetAtt are present but unknown at synth: accepted, not value-checked.
    assert got["TrainingRole"] == []
    assert got["Params"] == []  # SSM parameter: tags as a map
    # The conditional (!If) expires_at counts as present; the typo and the misspelt value do not pass.
    assert got["GpuBox"] == [("key_typo", "lifecycle_phase"), ("value_not_allowed", "lifecycle_phase")]
    assert got["ScratchVolume"] == [
        ("empty", "team"),
        ("missing", "project"),
        ("missing", "model_id"),
        ("value_not_allowed", "environment"),
        ("missing", "lifecycle_phase"),
        ("missing", "cost_center"),
        ("malformed_expires_at", "expires_at"),
    ]
    # EventBridge rules do take tags: an untagged rule is flagged with every required key.
    assert [k for _, k in got["NightlyStop"]] == list(POLICY.required)
    assert dict(report.skipped) == {
        "TrainingPolicy": "AWS::IAM::Policy",
        "TrainingProfile": "AWS::IAM::InstanceProfile",
        "Attachment": "AWS::EC2::VolumeAttachment",
    }
    role = next(r for r in report.results if r.resource == "TrainingRole")
    assert {f.key for f in role.check.notes} == {"team", "project", "environment"}


def test_yaml_short_forms_become_long_forms() -> None:
    doc = load_document("A: !Ref X\nB: !GetAtt R.Arn\nC: !Sub '${X}'\nD: !If [c, a, b]\nE: !Condition c\n")
    assert doc == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::Sub": "${X}"},
        "D": {"Fn::If": ["c", "a", "b"]},
        "E": {"Condition": "c"},
    }


def test_terraform_plan_reads_tags_all_with_default_tags() -> None:
    report = report_for("terraform_plan.json")
    assert report.format == "terraform"
    got = findings(report)
    # team and cost_center come only from the provider's default_tags (present in tags_all, not in tags).
    assert got["aws_instance.trainer"] == []
    assert got["module.serving.aws_sagemaker_endpoint.this"] == []
    assert got["aws_sagemaker_notebook_instance.scratch"] == [
        ("key_typo", "project"),
        ("missing", "model_id"),
        ("value_not_allowed", "environment"),
        ("missing", "lifecycle_phase"),
        ("malformed_expires_at", "expires_at"),
    ]
    assert got["aws_autoscaling_group.workers"] == [
        ("missing", "model_id"),
        ("missing", "lifecycle_phase"),
        ("missing", "cost_center"),
    ]
    assert got["aws_ebs_volume.cache"] == [("missing", "lifecycle_phase")]
    # project = random_pet.project.id: known after apply, present.
    assert got["aws_s3_bucket.artifacts"] == []
    # No tag attribute → cannot carry tags; another provider → not AWS, not judged; deleted resources and data
    # sources are not checked at all.
    assert {a for a, _ in report.skipped} == {"aws_iam_role_policy.read", "aws_s3_bucket_policy.artifacts"}
    assert [(n.resource, n.reason) for n in report.not_checked if n.reason == "not_aws"] == [
        ("random_pet.project", "not_aws")
    ]
    assert "aws_instance.old_trainer" not in got
    assert "data.aws_iam_policy_document.assume" not in got


def test_terraform_planned_values_without_resource_changes() -> None:
    plan = json.loads((FIXTURES / "terraform_plan.json").read_text())
    del plan["resource_changes"]
    resources, skipped = extract_terraform(plan)
    addresses = {r.resource for r in resources}
    assert "module.serving.aws_sagemaker_endpoint.this" in addresses
    assert "aws_instance.trainer" in addresses
    assert ("aws_iam_role_policy.read", "aws_iam_role_policy", "untaggable") in [
        (n.resource, n.resource_type, n.reason) for n in skipped
    ]


def _instance_plan(after: dict[str, Any], after_unknown: dict[str, Any]) -> dict[str, Any]:
    """A Terraform plan (``show -json``) creating one ``aws_instance.x`` with these known and unknown values."""
    change = {"actions": ["create"], "after": after, "after_unknown": after_unknown}
    instance = {"address": "aws_instance.x", "mode": "managed", "type": "aws_instance", "change": change}
    return {"format_version": "1.2", "resource_changes": [instance]}


def test_terraform_tags_null_and_tags_all_unknown_without_default_tags_is_flagged() -> None:
    # Issue 14: nothing can tag this resource (no tags, no provider default_tags), so it must not pass.
    plan = _instance_plan(after={"tags": None}, after_unknown={"tags_all": True})
    report = check_document(plan, POLICY)
    assert [f.key for _, f in report.violations] == list(POLICY.required)
    assert "no provider default_tags apply" in report.results[0].notes[0]


def test_terraform_resource_without_any_tags_is_flagged() -> None:
    plan = _instance_plan(after={"tags": None, "tags_all": {}}, after_unknown={})
    assert [f.key for _, f in check_document(plan, POLICY).violations] == list(POLICY.required)


@pytest.mark.parametrize(
    "document",
    [
        GOOD,
        [{"Key": k, "Value": v} for k, v in GOOD.items()],
        {"Tags": [{"Key": k, "Value": v} for k, v in GOOD.items()]},
    ],
)
def test_tag_set_shapes(document: object) -> None:
    assert detect_format(document) == "tagset"
    assert check_document(document, POLICY).ok


def test_tag_set_violation() -> None:
    report = check_document({**GOOD, "environment": "qa"}, POLICY)
    assert [(f.code.value, f.key) for _, f in report.violations] == [("value_not_allowed", "environment")]


def test_stack_tags_fill_gaps_and_resource_tags_win() -> None:
    template = {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "team", "Value": "a"}]}}}
    }
    base = {k: v for k, v in GOOD.items() if k != "team"}
    report = check_document(template, POLICY, stack_tags={**base, "team": "ignored"})
    assert report.ok


def test_untagged_taggable_cfn_resource_is_flagged_and_custom_resources_skipped() -> None:
    template = {
        "Resources": {
            "Box": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t3.micro"}},
            "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn"}},
            "Meta": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2"}},
        }
    }
    resources, skipped = extract_cloudformation(template)
    assert [r.resource for r in resources] == ["Box"]
    assert {(n.resource, n.reason) for n in skipped} == {("Custom", "unknown"), ("Meta", "untaggable")}


def test_unknown_type_with_tags_property_is_checked() -> None:
    template = {"Resources": {"New": {"Type": "AWS::Brand::New", "Properties": {"Tags": {"team": "a"}}}}}
    report = check_document(template, POLICY)
    assert len(report.results) == 1 and not report.ok


def test_non_default_tag_property() -> None:
    assert taggable_types()["AWS::Backup::BackupVault"] == "BackupVaultTags"
    template = {"Resources": {"V": {"Type": "AWS::Backup::BackupVault", "Properties": {"BackupVaultTags": GOOD}}}}
    assert check_document(template, POLICY).ok


def test_whole_tags_property_computed_is_a_note() -> None:
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": {"Ref": "TagList"}}}}}
    result = check_document(template, POLICY).results[0]
    assert "unknown until deploy" in result.notes[0]


def test_whole_tags_property_conditional_checks_both_branches() -> None:
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": {"Fn::If": ["c", [], []]}}}}}
    result = check_document(template, POLICY).results[0]
    # Empty on both branches: plain findings, no "when".
    assert [(f.code, f.when) for f in result.check.violations] == [(Code.MISSING, None)] * len(POLICY.required)


def test_non_taggable_rule_data() -> None:
    untaggable = known_untaggable()
    for type_name in ("AWS::IAM::Policy", "AWS::SNS::Subscription", "AWS::Lambda::Permission", "AWS::S3::BucketPolicy"):
        assert type_name in untaggable and type_name not in taggable_types()
    for type_name in ("AWS::Events::Rule", "AWS::EC2::Instance", "AWS::SageMaker::Endpoint", "AWS::Lambda::Function"):
        assert taggable_types()[type_name] == "Tags"


@pytest.mark.parametrize("document", [{"Foo": 1}, [1, 2], "text", {}])
def test_unrecognised_documents(document: object) -> None:
    with pytest.raises(IacError, match="not a tag set"):
        detect_format(document, "f.json")


def test_unreadable_text() -> None:
    with pytest.raises(IacError, match="neither JSON"):
        load_document("{: [", "bad.json")


def test_terraform_configuration_instead_of_plan() -> None:
    with pytest.raises(IacError, match="pass the plan"):
        detect_format({"format_version": "1.2"}, "main.tf.json")


def test_unquoted_yaml_dates_stay_text() -> None:
    template = load_document(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags:\n"
        + "".join(f"        - Key: {k}\n          Value: {v}\n" for k, v in GOOD.items())
        + "        - Key: expires_at\n          Value: 2026-12-01\n"
    )
    assert template["Resources"]["Q"]["Properties"]["Tags"][-1]["Value"] == "2026-12-01"
    result = check_document(template, POLICY).results[0]
    assert result.check.findings == ()


def test_tagging_api_output() -> None:
    # The shape of `aws resourcegroupstaggingapi get-resources` (API_GetResources / API_ResourceTagMapping).
    document = {
        "PaginationToken": "",
        "ResourceTagMappingList": [
            {
                "ResourceARN": "arn:aws:ec2:us-east-1:123456789012:instance/i-0abcd1234ef567890",
                "Tags": [{"Key": k, "Value": v} for k, v in GOOD.items()],
            },
            {"ResourceARN": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/research-nb-01", "Tags": []},
        ],
    }
    report = check_document(document, POLICY)
    assert report.format == "tagging-api"
    assert findings(report) == {
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0abcd1234ef567890": [],
        "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/research-nb-01": [
            ("missing", key) for key in POLICY.required
        ],
    }
