"""Reading real-world files right (issue 14): every AWS-provider tag shape, non-AWS resources, SAM Globals,
``Fn::If`` tag lists, nested stacks, DynamoDB global tables, and the ``not_checked`` list.

Through the real CLI entry point, the way a CI job runs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from costwarden.cli import main as cli_main

from tests.support.cli import validate_body
from tests.support.tags import GOOD_TAGS as GOOD

REQUIRED = ["team", "project", "model_id", "environment", "lifecycle_phase", "cost_center"]
AWS = "registry.terraform.io/hashicorp/aws"
SAM = "AWS::Serverless-2016-10-31"


@pytest.fixture(autouse=True)
def _only_tags_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("costwarden.cli.tags",))


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = cli_main.main(["tags", "validate", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, validate_body(out)


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def violations(body: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for v in body["violations"]:
        out.setdefault(v["resource"], []).append((v["code"], v["key"]))
    return out


def change(
    address: str, after: dict[str, Any], unknown: dict[str, Any] | None = None, provider: str = AWS
) -> dict[str, Any]:
    return {
        "address": address,
        "mode": "managed",
        "type": address.split(".")[-2],
        "provider_name": provider,
        "change": {"actions": ["create"], "after": after, "after_unknown": unknown or {}},
    }


def tf_plan(*changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "resource_changes": list(changes), **extra}


# --- Terraform ---------------------------------------------------------------------------------------------------


def test_legacy_autoscaling_group_tag_shapes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    as_list = [{"key": k, "value": v, "propagate_at_launch": True} for k, v in GOOD.items()]
    # Provider 2.x/3.x: `tags` as a list of maps (propagate_at_launch a string in some versions).
    old = change("aws_autoscaling_group.old", {"tags": [{**t, "propagate_at_launch": "true"} for t in as_list[:4]]})
    blocks = change("aws_autoscaling_group.blocks", {"tag": as_list, "tags": None})
    both = change("aws_autoscaling_group.both", {"tag": as_list[:3], "tags": as_list[3:]})
    code, body = run_json(capsys, write(tmp_path, "plan.json", tf_plan(old, blocks, both)))
    assert code == 1
    assert violations(body) == {
        "aws_autoscaling_group.old": [("missing", "lifecycle_phase"), ("missing", "cost_center")]
    }


def test_non_aws_resources_are_listed_not_judged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    google = change(
        "google_compute_instance.vm",
        {"tags": ["web", "ssh"], "labels": {"team": "x"}},
        provider="registry.terraform.io/hashicorp/google",
    )
    datadog = change(
        "datadog_monitor.cpu", {"tags": ["team:ml", "env:prod"]}, provider="registry.terraform.io/datadog/datadog"
    )
    box = change("aws_instance.box", {"tags": GOOD, "tags_all": GOOD})
    code, body = run_json(capsys, write(tmp_path, "plan.json", tf_plan(google, datadog, box)))
    assert code == 0
    not_aws = [n for n in body["not_checked"] if n["reason"] == "not_aws"]
    assert sorted(n["resource"] for n in not_aws) == ["datadog_monitor.cpu", "google_compute_instance.vm"]
    assert body["files"][0]["resources_checked"] == 1
    code = cli_main.main(["tags", "validate", write(tmp_path, "plan.json", tf_plan(google, datadog, box))])
    out = capsys.readouterr().out
    assert "2 not AWS: not checked" in out


def test_tags_null_with_tags_all_unknown_and_no_default_tags_is_a_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bare = change("aws_sqs_queue.q", {"tags": None}, {"tags_all": True})
    code, body = run_json(capsys, write(tmp_path, "plan.json", tf_plan(bare)))
    assert code == 1
    assert violations(body) == {"aws_sqs_queue.q": [("missing", k) for k in REQUIRED]}
    # With a default_tags block whose keys are not known in the plan, the keys are deferred, and the output says so.
    config = {"provider_config": {"aws": {"expressions": {"default_tags": [{"tags": {"references": ["var.t"]}}]}}}}
    code, body = run_json(capsys, write(tmp_path, "plan.json", tf_plan(bare, configuration=config)))
    assert code == 0
    assert {n["code"] for n in body["notes"]} == {"missing_deferred"}
    assert all("default_tags" in n["message"] for n in body["notes"])


def test_default_tags_from_variables_and_per_provider_alias(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = {
        "provider_config": {
            "aws": {"expressions": {"default_tags": [{"tags": {"references": ["var.default_tags"]}}]}},
            "aws.west": {"alias": "west", "expressions": {"region": {"constant_value": "us-west-2"}}},
        },
        "root_module": {
            "resources": [
                {"address": "aws_sqs_queue.east", "provider_config_key": "aws"},
                {"address": "aws_sqs_queue.west", "provider_config_key": "aws.west"},
            ]
        },
    }
    east = change("aws_sqs_queue.east", {"tags": {"project": "p"}}, {"tags_all": True})
    west = change("aws_sqs_queue.west", {"tags": {"project": "p"}}, {"tags_all": True})
    variables = {"default_tags": {"value": {k: v for k, v in GOOD.items() if k != "project"}}}
    code, body = run_json(
        capsys, write(tmp_path, "plan.json", tf_plan(east, west, configuration=config, variables=variables))
    )
    assert code == 1
    # east's provider supplies every other key (read from the plan's variables); west's provider has no default_tags.
    assert violations(body) == {"aws_sqs_queue.west": [("missing", k) for k in REQUIRED if k != "project"]}


def test_planned_values_without_format_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = {
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.b",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "provider_name": AWS,
                        "values": {"tags": {"team": "ml"}, "tags_all": {"team": "ml"}},
                    }
                ]
            }
        }
    }
    code, body = run_json(capsys, write(tmp_path, "plan.json", document))
    assert code == 1
    assert body["files"][0]["format"] == "terraform"
    assert len(violations(body)["aws_s3_bucket.b"]) == 5


def test_awscc_tags_list_of_key_value(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cc = change(
        "awscc_s3_bucket.b",
        {"tags": [{"key": k, "value": v} for k, v in GOOD.items() if k != "team"]},
        provider="registry.terraform.io/hashicorp/awscc",
    )
    code, body = run_json(capsys, write(tmp_path, "plan.json", tf_plan(cc)))
    assert code == 1
    assert violations(body) == {"awscc_s3_bucket.b": [("missing", "team")]}


# --- CloudFormation / SAM ----------------------------------------------------------------------------------------


def test_sam_globals_tags_reach_functions_and_http_apis(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = {
        "Transform": SAM,
        "Globals": {
            "Function": {"Tags": {k: v for k, v in GOOD.items() if k != "model_id"}},
            "HttpApi": {"Tags": GOOD},
        },
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Tags": {"model_id": "m"}}},
            "Override": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Tags": {"model_id": "m", "environment": "qa"}},
            },
            "Ignoring": {
                "Type": "AWS::Serverless::Function",
                "IgnoreGlobals": "*",
                "Properties": {"Tags": {"model_id": "m"}},
            },
            "NoModel": {"Type": "AWS::Serverless::Function", "Properties": {}},
            "Http": {"Type": "AWS::Serverless::HttpApi", "Properties": {}},
            # Globals.Api cannot carry Tags (SAM refuses it): a REST API's tags are its own.
            "Rest": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "v1", "Tags": GOOD}},
        },
    }
    code, body = run_json(capsys, write(tmp_path, "sam.json", template))
    assert code == 1
    assert violations(body) == {
        "Override": [("value_not_allowed", "environment")],
        "Ignoring": [("missing", k) for k in REQUIRED if k != "model_id"],
        "NoModel": [("missing", "model_id")],
    }


def test_sam_globals_in_yaml_with_transform_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tags = "".join(f"      {k}: {v}\n" for k, v in GOOD.items())
    template = (
        f"Transform: [AWS::LanguageExtensions, {SAM}]\nGlobals:\n  Function:\n    Runtime: python3.12\n    Tags:\n"
        + tags
        + "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n"
    )
    code, body = run_json(capsys, write(tmp_path, "template.yaml", template))
    assert code == 0, body


def test_fn_if_tag_lists_check_both_branches(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = [{"Key": k, "Value": v} for k, v in GOOD.items() if k not in ("cost_center", "environment")]
    template = {
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Resources": {
            "Q": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "Tags": [
                        *base,
                        {"Fn::If": ["IsProd", {"Key": "cost_center", "Value": "cc-1"}, {"Ref": "AWS::NoValue"}]},
                        {"Key": "environment", "Value": {"Fn::If": ["IsProd", "production", "prod"]}},
                    ]
                },
            },
            "Whole": {
                "Type": "AWS::SNS::Topic",
                "Properties": {
                    "Tags": {
                        "Fn::If": [
                            "IsProd",
                            [{"Key": k, "Value": v} for k, v in GOOD.items()],
                            [{"Key": "team", "Value": "ml"}],
                        ]
                    }
                },
            },
        },
    }
    code, body = run_json(capsys, write(tmp_path, "t.json", template))
    assert code == 1
    got = violations(body)
    assert got["Q"] == [("value_not_allowed", "environment"), ("missing", "cost_center")]
    q = [v for v in body["violations"] if v["resource"] == "Q"]
    assert all(v["when"] == "condition IsProd is false" for v in q)
    assert "when condition IsProd is false" in q[0]["message"]
    assert sorted(got["Whole"]) == sorted(("missing", k) for k in REQUIRED if k != "team")


def test_nested_stack_with_local_template_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    child = {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "project", "Value": "p"}]}}}
    }
    write(tmp_path, "nested/child.json", child)
    parent = {
        "Resources": {
            "Child": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": "nested/child.json",
                    "Tags": [{"Key": k, "Value": v} for k, v in GOOD.items() if k not in ("project", "model_id")],
                },
            },
            "Remote": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": "https://s3.amazonaws.com/b/k.json", "Tags": []},
            },
        }
    }
    code, body = run_json(capsys, write(tmp_path, "parent.json", parent))
    assert code == 1
    got = violations(body)
    # The stack's tags propagate to every resource of the nested stack.
    assert got["Child/Q"] == [("missing", "model_id")]
    assert got["Child"] == [("missing", "project"), ("missing", "model_id")]
    assert any(n["resource"] == "Remote" and n["reason"] == "unknown" for n in body["not_checked"])


def test_nested_stack_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    parent = {
        "Resources": {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "gone.yaml"}}}
    }
    path = write(tmp_path, "parent.json", parent)
    assert cli_main.main(["tags", "validate", path]) == 2
    err = capsys.readouterr().err
    assert path in err and "Resources.Child.Properties.TemplateURL" in err and "gone.yaml" in err
    loop = {"Resources": {"Me": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "loop.json"}}}}
    path = write(tmp_path, "loop.json", loop)
    assert cli_main.main(["tags", "validate", path]) == 2
    assert "includes itself" in capsys.readouterr().err


def test_cdk_out_nested_stack_assets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    nested = {
        "Resources": {
            "Bucket83908E77": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "team", "Value": "ml"}]}}
        }
    }
    write(out, "ParentNestedC0FFEE12.nested.template.json", nested)
    parent = {
        "Resources": {
            "NestedNestedStackNestedStackResource9C617903": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": {"Fn::Join": ["", ["https://s3.", {"Ref": "AWS::Region"}, ".amazonaws.com/x.json"]]},
                    "Tags": [{"Key": k, "Value": v} for k, v in GOOD.items()],
                },
                "Metadata": {
                    "aws:cdk:path": "Parent/Nested.NestedStack/Nested.NestedStackResource",
                    "aws:asset:path": "ParentNestedC0FFEE12.nested.template.json",
                    "aws:asset:property": "TemplateURL",
                },
            }
        }
    }
    write(out, "Parent.template.json", parent)
    code, body = run_json(capsys, str(out))
    assert code == 0, body
    # The nested template is read through its parent (with the parent's stack tags), not a second time alone.
    assert [Path(f["file"]).name for f in body["files"]] == ["Parent.template.json"]
    assert body["files"][0]["resources_checked"] == 2


def test_dynamodb_global_table_replicas(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {
                    "Replicas": [
                        {"Region": "us-east-1", "Tags": [{"Key": k, "Value": v} for k, v in GOOD.items()]},
                        {"Region": "eu-west-1", "Tags": [{"Key": "team", "Value": "ml"}]},
                        {"Region": {"Ref": "Other"}},
                    ]
                },
            }
        }
    }
    code, body = run_json(capsys, write(tmp_path, "t.json", template))
    assert code == 1
    got = violations(body)
    assert set(got) == {"Table[eu-west-1]", "Table[2]"}
    assert len(got["Table[2]"]) == 6


def test_json_keeps_its_shape_and_lists_not_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Policy": {"Type": "AWS::IAM::Policy", "Properties": {}},
            "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn"}},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": k, "Value": v} for k, v in GOOD.items()]}},
        }
    }
    code, body = run_json(capsys, write(tmp_path, "t.json", template))
    assert code == 0
    assert set(body) == {"ok", "violations", "notes", "files", "not_checked"}
    assert {(n["resource"], n["reason"]) for n in body["not_checked"]} == {
        ("Policy", "untaggable"),
        ("Custom", "unknown"),
    }
    assert all({"file", "resource", "resource_type", "reason", "detail"} <= set(n) for n in body["not_checked"])
    assert body["files"][0]["not_taggable"] == [
        {"resource": "Policy", "type": "AWS::IAM::Policy"},
        {"resource": "Custom", "type": "Custom::Thing"},
    ]


def test_cdk_nested_stack_found_through_the_assets_manifest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Snapshots and some synth settings drop the aws:asset:path metadata: the TemplateURL's object key and the
    # *.assets.json beside the template still name the nested template.
    out = tmp_path / "cdk.out"
    key = "ab" * 32
    nested = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    write(out, "ParentNested1A2B3C4D.nested.template.json", nested)
    manifest = {
        "version": "36.0.0",
        "files": {
            key: {
                "source": {"path": "ParentNested1A2B3C4D.nested.template.json", "packaging": "file"},
                "destinations": {"current_account-current_region": {"objectKey": f"{key}.json"}},
            }
        },
    }
    write(out, "Parent.assets.json", manifest)
    url = {
        "Fn::Join": ["", ["https://s3.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, f"/bucket/{key}.json"]]
    }
    parent = {
        "Resources": {"NestedStackResource": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}}
    }
    write(out, "Parent.template.json", parent)
    code, body = run_json(capsys, str(out))
    assert code == 1
    assert set(violations(body)) == {"NestedStackResource", "NestedStackResource/Topic"}


def test_utf16_plan_from_powershell(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    box = change("aws_instance.box", {"tags": GOOD, "tags_all": GOOD})
    path.write_bytes(json.dumps(tf_plan(box)).encode("utf-16"))  # with its byte-order mark, as PowerShell writes
    code, body = run_json(capsys, str(path))
    assert code == 0
    assert body["files"][0]["resources_checked"] == 1
