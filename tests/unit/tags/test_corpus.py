"""The tag gate on a vendored corpus of public, real-world files (issue 14): CloudFormation from the AWS template
library and cfn-lint's fixtures, SAM's own transform inputs, Terraform plans from checkov's and
terraform-compliance's fixtures (AWS provider 2.x-era to 5.x), and a real ``cdk synth`` assembly with nested stacks.

Each file is labelled by hand in ``tests/fixtures/tags/corpus/manifest.json``: the exit code, how many resources are
checked and not checked (by reason), and for the files that exercise one reading rule, findings that must and must
not appear (with a policy written for that file, so the verdict turns on the rule, not on the six default keys).
Every run goes through the real CLI entry point: no traceback, exit codes 0, 1 or 2 only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from costwarden.cli import main as cli_main

from tests.support.cli import validate_body

CORPUS = Path(__file__).parents[2] / "fixtures" / "tags" / "corpus"
MANIFEST: dict[str, dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())


@pytest.fixture(autouse=True)
def _only_tags_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("costwarden.cli.tags",))


def test_every_corpus_file_is_labelled() -> None:
    on_disk = {
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.suffix in (".json", ".yaml", ".yml")
        and "cdk.out" not in p.parts
        and p.name not in ("manifest.json", "stack_nested.yaml")  # stack_nested: read through its parent
    }
    assert on_disk | {"cdk/cdk.out"} == set(MANIFEST)
    for folder in {p.parent for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS} - {CORPUS / "cdk"}:
        if folder.name != "cdk.out":
            assert any(folder.glob("LICENSE*")), f"{folder} has no license beside its files"


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file_verdict(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    label = MANIFEST[name]
    argv = ["tags", "validate", str(CORPUS / name), "--format", "json"]
    if "policy" in label:
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps(label["policy"]))
        argv += ["--policy", str(policy)]
    code = cli_main.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code == label["exit"], (out[-2000:], err)
    if code == 2:
        assert label["error"] in err and str(CORPUS / name) in err
        return
    body = validate_body(out)
    assert sum(f["resources_checked"] for f in body["files"]) == label["checked"]
    reasons: dict[str, int] = {}
    for entry in body["not_checked"]:
        reasons[entry["reason"]] = reasons.get(entry["reason"], 0) + 1
    assert reasons == label["not_checked"]
    found = {(v["resource"], v["code"], v["key"]): v.get("when") for v in body["violations"]}
    for resource, code_name, key, *when in label.get("expect", []):
        assert (resource, code_name, key) in found, (resource, code_name, key, sorted(found))
        if when:
            assert found[resource, code_name, key] == when[0]
    for resource, code_name, key in label.get("absent", []):
        assert (resource, code_name, key) not in found
