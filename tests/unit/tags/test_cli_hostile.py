"""``costwarden tags validate`` under hostile input (issue 9): never a traceback, never a silent pass.

Every case goes through the real CLI entry point: a CI gate reads exit 1 as "policy violated", so a crash (which
also exits 1) would be a wrong verdict, and exit 2 must always come with the file and the path inside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from costwarden.cli import main as cli_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.cli import tags_validate as run
from tests.support.cli import validate_body
from tests.support.tags import GOOD_TAGS as GOOD

AWS = "registry.terraform.io/hashicorp/aws"


@pytest.fixture(autouse=True)
def _only_tags_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("costwarden.cli.tags",))


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def change(address: str, after: dict[str, Any], unknown: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    type_name = address.split(".")[-2]
    return {
        "address": address,
        "mode": "managed",
        "type": type_name,
        "provider_name": extra.pop("provider_name", AWS),
        "change": {"actions": ["create"], "after": after, "after_unknown": unknown or {}},
        **extra,
    }


def plan(*changes: dict[str, Any], configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"format_version": "1.2", "resource_changes": list(changes)}
    if configuration is not None:
        out["configuration"] = configuration
    return out


def default_tags_config(tags_expression: dict[str, Any]) -> dict[str, Any]:
    return {"provider_config": {"aws": {"name": "aws", "expressions": {"default_tags": [{"tags": tags_expression}]}}}}


# --- known values are checked even when another value is unknown ------------------------------------------------

ONE_UNKNOWN = change(
    "aws_instance.box",
    {"tags": {"environment": "prod"}},
    {"tags": {"project": True}, "tags_all": True},
)


def test_one_unknown_value_does_not_hide_known_values_or_missing_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, write(tmp_path, "plan.json", plan(ONE_UNKNOWN)), "--format", "json")
    assert code == 1
    body = validate_body(out)
    got = sorted((v["code"], v["key"]) for v in body["violations"])
    assert got == sorted(
        [
            ("value_not_allowed", "environment"),
            ("missing", "team"),
            ("missing", "model_id"),
            ("missing", "lifecycle_phase"),
            ("missing", "cost_center"),
        ]
    )
    assert [(n["code"], n["key"]) for n in body["notes"] if "key" in n] == [("unresolved_value", "project")]


def test_missing_keys_deferred_only_to_default_tags_and_said_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = default_tags_config({"references": ["var.default_tags"]})
    code, out, _ = run(
        capsys, write(tmp_path, "plan.json", plan(ONE_UNKNOWN, configuration=config)), "--format", "json"
    )
    assert code == 1  # environment=prod is known and wrong whatever default_tags hold
    body = validate_body(out)
    assert [(v["code"], v["key"]) for v in body["violations"]] == [("value_not_allowed", "environment")]
    deferred = [n for n in body["notes"] if n["code"] == "missing_deferred"]
    assert sorted(n["key"] for n in deferred) == ["cost_center", "lifecycle_phase", "model_id", "team"]
    assert "default_tags" in deferred[0]["message"]
    code, out, _ = run(capsys, write(tmp_path, "plan.json", plan(ONE_UNKNOWN, configuration=config)))
    assert "missing_deferred" in out and "default_tags" in out


def test_constant_default_tags_supply_keys(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    supplied = {k: v for k, v in GOOD.items() if k not in ("project", "environment")}
    config = default_tags_config({"constant_value": supplied})
    fixed = change(
        "aws_instance.box", {"tags": {"environment": "staging"}}, {"tags": {"project": True}, "tags_all": True}
    )
    code, out, _ = run(capsys, write(tmp_path, "plan.json", plan(fixed, configuration=config)), "--format", "json")
    assert code == 0, out
    # Only some keys supplied: the others are plainly missing (the provider's default tags are known).
    partial = default_tags_config({"constant_value": {"team": "ml"}})
    code, out, _ = run(capsys, write(tmp_path, "plan.json", plan(fixed, configuration=partial)), "--format", "json")
    assert code == 1
    assert sorted(v["key"] for v in validate_body(out)["violations"]) == ["cost_center", "lifecycle_phase", "model_id"]


# --- an empty or null value is "empty" --------------------------------------------------------------------------


def test_cloudformation_value_left_empty_is_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tags = "".join(f"        - Key: {k}\n          Value: {v}\n" for k, v in GOOD.items() if k != "team")
    template = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags:\n"
        + tags
        + "        - Key: team\n          Value:\n"
    )
    code, out, _ = run(capsys, write(tmp_path, "t.yaml", template), "--format", "json")
    assert code == 1
    assert [(v["code"], v["key"]) for v in validate_body(out)["violations"]] == [("empty", "team")]


@pytest.mark.parametrize("document", [{**GOOD, "team": None}, {"Tags": [{"Key": "team", "Value": None}]}])
def test_null_values_are_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path, document: Any) -> None:
    if "Tags" in document:
        document["Tags"] += [{"Key": k, "Value": v} for k, v in GOOD.items() if k != "team"]
    code, out, _ = run(capsys, write(tmp_path, "tags.json", document), "--format", "json")
    assert code == 1
    assert [(v["code"], v["key"]) for v in validate_body(out)["violations"]] == [("empty", "team")]


def test_terraform_null_value_is_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    box = change("aws_instance.box", {"tags": {**GOOD, "team": None}, "tags_all": {**GOOD, "team": None}})
    code, out, _ = run(capsys, write(tmp_path, "plan.json", plan(box)), "--format", "json")
    assert code == 1
    assert [(v["code"], v["key"]) for v in validate_body(out)["violations"]] == [("empty", "team")]


# --- malformed shapes: exit 2, file and path named --------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (plan(change("aws_instance.box", {"tags": ["team", "ml"]})), "resource_changes[0].change.after.tags"),
        (
            plan(change("aws_instance.box", {"tags": {"team": {"nested": 1}}})),
            "resource_changes[0].change.after.tags.team",
        ),
        (plan(change("aws_instance.box", {"tags_all": "team=ml"})), "resource_changes[0].change.after.tags_all"),
        ({"format_version": "1.2", "resource_changes": {"a": 1}}, "resource_changes"),
        ({"format_version": "1.2", "resource_changes": [{"address": "x", "change": []}]}, "resource_changes[0].change"),
        ({"format_version": "1.2", "resource_changes": ["x"]}, "resource_changes[0]"),
        (
            {"planned_values": {"root_module": {"resources": [{"address": "a", "values": []}]}}},
            "planned_values.root_module.resources[0].values",
        ),
        (
            {"planned_values": {"root_module": {"child_modules": [{"resources": "x"}]}}},
            "planned_values.root_module.child_modules[0].resources",
        ),
        ({"ResourceTagMappingList": [{"Tags": []}]}, "ResourceTagMappingList[0].ResourceARN"),
        (
            {"ResourceTagMappingList": [{"ResourceARN": "arn:x", "Tags": [{"Value": "v"}]}]},
            "ResourceTagMappingList[0].Tags[0].Key",
        ),
        ({"ResourceTagMappingList": [{"ResourceARN": "arn:x", "Tags": {"a": "b"}}]}, "ResourceTagMappingList[0].Tags"),
        ({"ResourceTagMappingList": ["arn:x"]}, "ResourceTagMappingList[0]"),
        (
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": "team=ml"}}}},
            "Resources.Q.Properties.Tags",
        ),
        (
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": ["team"]}}}},
            "Resources.Q.Properties.Tags[0]",
        ),
        (
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Value": "x"}]}}}},
            "Resources.Q.Properties.Tags[0].Key",
        ),
        ({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": []}}}, "Resources.Q.Properties"),
        ({"Resources": {"Q": "AWS::SQS::Queue"}}, "Resources.Q"),
        ({"Resources": {"Q": {"Type": ["AWS::SQS::Queue"]}}}, "Resources.Q.Type"),
        ({"Tags": [{"Key": "team", "Value": {"a": 1}}]}, "Tags[0].Value"),
    ],
)
def test_malformed_shapes_are_clear_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, document: Any, where: str
) -> None:
    path = write(tmp_path, "input.json", document)
    code, out, err = run(capsys, path)
    assert code == 2, (out, err)
    assert path in err and where in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"a":' * 5_000 + "1" + "}" * 5_000,
        "a:\n" + "".join("  " * i + "- x:\n" for i in range(1, 3_000)),
    ],
)
def test_very_deep_nesting_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "deep.json", text)
    code, _, err = run(capsys, path)
    assert code == 2
    assert path in err and "nested" in err


def test_yaml_alias_bomb_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines += ["Resources:", "  Q:", "    Type: AWS::SQS::Queue", "    Properties:", "      Tags: *a8"]
    code, _, err = run(capsys, write(tmp_path, "bomb.yaml", "\n".join(lines)))
    assert code == 2
    assert "too large" in err


def test_binary_and_non_utf8_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("Resources:\n  Q:\n    Type: AWS::SQS::Queue # caf\xe9\n".encode("latin-1"))
    code, _, err = run(capsys, str(path))
    assert code == 2 and str(path) in err


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
SHAPES = st.sampled_from(
    [
        lambda v: {"Resources": {"R": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": v}}}},
        lambda v: {"Resources": {"R": v}},
        lambda v: {"Resources": v} if isinstance(v, dict) else {"Resources": {"R": {"Type": v}}},
        lambda v: {"Transform": "AWS::Serverless-2016-10-31", "Globals": v, "Resources": {}},
        lambda v: {
            "Transform": "AWS::Serverless-2016-10-31",
            "Globals": {"Function": {"Tags": v}},
            "Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {}}},
        },
        lambda v: {"Resources": {"R": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Fn::If": v}]}}}},
        lambda v: {"Resources": {"R": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": v}}}},
        lambda v: {"Resources": {"R": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": v}}}},
        lambda v: plan(change("aws_instance.x", {"tags": v})),
        lambda v: plan(change("aws_instance.x", {"tags": None}, {"tags_all": v})),
        lambda v: plan(change("aws_autoscaling_group.x", {"tag": v})),
        lambda v: plan(change("aws_autoscaling_group.x", {"tags": v})),
        lambda v: plan(change("aws_instance.x", {"tags": None}), configuration={"provider_config": v}),
        lambda v: plan(change("aws_instance.x", {"tags": None}), configuration=default_tags_config(v)),
        lambda v: {"planned_values": v},
        lambda v: {"format_version": "1.2", "resource_changes": [v]},
        lambda v: {"ResourceTagMappingList": [v]},
        lambda v: {"Tags": v},
        lambda v: v,
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=SHAPES, value=JSON_VALUES)
def test_any_document_gets_a_verdict_or_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shape: Any, value: Any
) -> None:
    path = write(tmp_path, "fuzz.json", json.dumps(shape(value)))
    code, _, err = run(capsys, path)
    assert code in (0, 1, 2)
    if code == 2:
        assert path in err


@pytest.mark.parametrize(
    "content",
    [
        '{"context": ["not", "a", "map"]}',
        '{"context": {"costwarden": "x"}}',
        '{"context": {"costwarden": {"tags": 3}}}',
        "[" * 100_000,
        b"\xff\xfe\x00bad".decode("latin-1"),
        '{"required": "team"}',
    ],
)
def test_bad_policy_files_are_clear_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(content, encoding="latin-1")
    tags = write(tmp_path, "tags.json", GOOD)
    code, _, err = run(capsys, tags, "--policy", str(policy))
    assert code == 2
    assert str(policy) in err
