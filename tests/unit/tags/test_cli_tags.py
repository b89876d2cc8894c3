"""``costwarden tags validate``: exit codes, every violation named, both output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.cli import main as cli_main

from tests.support.cli import tags_validate as run
from tests.support.cli import validate_body

FIXTURES = Path(__file__).parents[2] / "fixtures" / "tags"


@pytest.fixture(autouse=True)
def _only_tags_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other sub-commands are built on other branches; this test needs only ours registered.
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("costwarden.cli.tags",))


def test_registered_in_main() -> None:
    assert "costwarden.cli.tags" in cli_main.COMMAND_MODULES


def test_all_formats_json(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(FIXTURES / n) for n in ("cdk_ml_stack.template.json", "training_stack.yaml", "terraform_plan.json")]
    code, out, _ = run(capsys, *files, "--format", "json")
    assert code == 1
    body = validate_body(out)
    assert body["ok"] is False
    assert [f["format"] for f in body["files"]] == ["cloudformation", "cloudformation", "terraform"]
    named = {(Path(v["file"]).name, v["resource"], v["code"], v["key"]) for v in body["violations"]}
    assert ("cdk_ml_stack.template.json", "JobsDF1CC2D4", "key_typo", "team") in named
    assert ("training_stack.yaml", "GpuBox", "key_typo", "lifecycle_phase") in named
    assert (
        "terraform_plan.json",
        "aws_sagemaker_notebook_instance.scratch",
        "value_not_allowed",
        "environment",
    ) in named
    assert len(body["violations"]) == 30
    typo = next(v for v in body["violations"] if v["resource"] == "JobsDF1CC2D4" and v["code"] == "key_typo")
    assert typo["message"].startswith("rename tag 'Team' to 'team'")
    assert any(n["code"] == "unresolved_value" for n in body["notes"])
    not_taggable = {t["type"] for f in body["files"] for t in f["not_taggable"]}
    assert {"AWS::IAM::Policy", "aws_iam_role_policy", "AWS::SNS::Subscription"} <= not_taggable


def test_table_output_names_resources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "training_stack.yaml"))
    assert code == 1
    assert "FAIL ScratchVolume (AWS::EC2::Volume)" in out
    assert "add tag cost_center=<your cost center>" in out
    assert "TrainingPolicy" not in out  # an IAM policy cannot carry tags
    assert out.rstrip().splitlines()[-1] == "FAIL: 15 violation(s) in 3 of 5 taggable resource(s), 1 file(s)"


def test_compliant_tag_set_exits_zero(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "tags.json"
    good.write_text(
        json.dumps(
            [
                {"Key": "team", "Value": "ml"},
                {"Key": "project", "Value": "p"},
                {"Key": "model_id", "Value": "m"},
                {"Key": "environment", "Value": "staging"},
                {"Key": "lifecycle_phase", "Value": "feature_pipeline"},
                {"Key": "cost_center", "Value": "cc"},
            ]
        )
    )
    code, out, _ = run(capsys, str(good))
    assert code == 0
    assert out.rstrip().endswith("OK: 0 violation(s) in 0 of 1 taggable resource(s), 1 file(s)")


def test_directory_means_its_templates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "Stack.template.json").write_text((FIXTURES / "cdk_ml_stack.template.json").read_text())
    (tmp_path / "manifest.json").write_text("{}")
    code, out, _ = run(capsys, str(tmp_path), "--format", "json")
    assert code == 1
    assert [Path(f["file"]).name for f in validate_body(out)["files"]] == ["Stack.template.json"]


def test_policy_from_cdk_json_and_stack_tags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(
        json.dumps({"app": "x", "context": {"costwarden": {"tags": {"required": ["owner"], "allowed_values": {}}}}})
    )
    tags = tmp_path / "t.json"
    tags.write_text(json.dumps({"Name": "x"}))
    code, out, _ = run(capsys, str(tags), "--policy", str(cdk_json), "--format", "json")
    assert code == 1
    assert [v["key"] for v in validate_body(out)["violations"]] == ["owner"]
    code, _, _ = run(capsys, str(tags), "--policy", str(cdk_json), "--stack-tag", "owner=me")
    assert code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"Foo": 1}', "not a tag set"), ("{: [", "neither JSON")],
)
def test_bad_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, err = run(capsys, str(bad))
    assert code == 2
    assert message in err


def test_missing_file_and_bad_stack_tag(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "nope.json")[0] == 2
    code, _, err = run(capsys, str(FIXTURES / "terraform_plan.json"), "--stack-tag", "novalue")
    assert code == 2 and "KEY=VALUE" in err
