"""Every command's ``--format json`` is the one envelope of docs/cli.md, valid against docs/cli.schema.json.

The commands are read from the CLI's own parser (``build_parser``), subcommands included, so a command added to
``COMMAND_MODULES`` without an invocation here fails ``test_every_command_has_an_invocation`` instead of going
unchecked. Each invocation runs in-process against moto (a state table in ``us-east-1``), as a user would type it.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from costwarden.cli.main import build_parser, main
from moto import mock_aws

from tests.functional.test_no_credentials import COMMANDS as NO_CREDENTIALS_COMMANDS
from tests.functional.test_no_credentials import no_credentials  # noqa: F401 (the fixture, used by name)
from tests.support.aws import create_state_table
from tests.support.moto_ce import answer_cost_allocation_tags

TABLE = "costwarden-state"

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "docs" / "cli.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SETTINGS = {
    "reaper": {"regions": ["us-east-1"]},
    "teams": {"nlp": {"monthly_usd": 1000, "limits": {"development_instances": 2}}},
}
LAST_MONTH = (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
FIXTURES = REPO / "tests" / "fixtures"

#: Command (as the envelope names it) -> the invocations that exercise its ``--format json`` ({tmp}: tmp_path).
INVOCATIONS: dict[str, list[list[str]]] = {
    "run": [["run", "tag_audit", "--event", str(REPO / "events/tag_audit/scheduled.json")]],
    "detect": [["detect", "--costs", str(FIXTURES / "cost/cur_daily_by_department.csv")]],
    "demo": [["demo", "--out", "{tmp}/demo-out"]],
    "tags validate": [["tags", "validate", str(FIXTURES / "tags/training_stack.yaml")]],
    "tags audit": [["tags", "audit", "--regions", "us-east-1"]],
    "digest": [["digest"]],
    "config-doc": [["config-doc"], ["config-doc", "--check", str(REPO / "README.md")]],
    "reap": [["reap", "--regions", "us-east-1"]],
    "budgets": [["budgets", "--month", LAST_MONTH]],
    "limits": [["limits", "--regions", "us-east-1"]],
    "advise": [["advise", "--fleet", str(FIXTURES / "advisor/fleet_source_example.csv")], ["advise"]],
    "report": [["report", "--month", LAST_MONTH, "--out", "{tmp}/report.html"]],
    "idle": [["idle", "--regions", "us-east-1"]],
    "plan": [["plan", "nlp", "2026-12-10", "2026-12-12", "900", "a", "training", "run", "--state-table", TABLE]],
    "doctor": [["doctor"]],
    "bedrock": [
        [
            "bedrock",
            "--metrics",
            str(FIXTURES / "bedrock/tokens.csv"),
            "--prices",
            str(FIXTURES / "bedrock/prices.json"),
        ]
    ],
    "k8s": [["k8s", "--cur", str(FIXTURES / "k8s/aws_accelerated_example.csv"), "--by", "workload"]],
    "burn": [
        [
            "burn",
            "--events",
            str(FIXTURES / "burn/launch_day.json"),
            "--baseline",
            str(FIXTURES / "burn/baseline.csv"),
            "--prices",
            str(FIXTURES / "burn/prices.csv"),
        ]
    ],
    "unit-costs": [
        ["unit-costs", "--cur", str(FIXTURES / "unitcost/bedrock_cur2.csv")],
        [
            "unit-costs",
            "--cur",
            str(FIXTURES / "unitcost/sagemaker_cur2.csv"),
            "--usage",
            str(FIXTURES / "unitcost/usage.csv"),
        ],
    ],
}
#: The exit codes a run may end with here (docs/cli.md): 0 clean, 1 found something, 3 could not read a source.
RAN = {0, 1, 3}


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    """Every leaf command of the parser, as ``tags validate`` / ``reap``: what the envelope calls ``command``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                leaves = list(commands(sub, f"{prefix}{name} "))
                yield from leaves or [f"{prefix}{name}"]


ALL = sorted(commands(build_parser()))
CASES = [(name, argv) for name in ALL for argv in INVOCATIONS.get(name, [[]])]


def test_every_command_has_an_invocation() -> None:
    assert sorted(INVOCATIONS) == ALL
    assert sorted(SCHEMA["properties"]["command"]["enum"]) == ALL


def test_the_readme_table_lists_every_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## What it does") : readme.index("**Why this and not")]
    assert [name for name in ALL if f"| `costwarden {name}` |" not in table] == []


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """moto with the state table; the repository as the working folder (``run`` reads ``events/`` from it)."""
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(SETTINGS))
    monkeypatch.setenv("STATE_TABLE_NAME", TABLE)
    monkeypatch.chdir(REPO)
    answer_cost_allocation_tags(monkeypatch)
    with mock_aws():
        create_state_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        yield


def _json_run(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([part.replace("{tmp}", str(tmp_path)) for part in argv] + ["--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    try:
        body = json.loads(out)
    except json.JSONDecodeError as error:
        pytest.fail(f"costwarden {' '.join(argv)} --format json printed no JSON ({error}): {out[:500]!r}\n{err[-800:]}")
    return code, body


@pytest.mark.parametrize(("name", "argv"), CASES, ids=[" ".join(argv) or name for name, argv in CASES])
def test_format_json_is_the_envelope(
    name: str, argv: list[str], request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert argv, f"no invocation for {name!r} in INVOCATIONS: add one (every command's --format json is checked)"
    if name == "demo":  # its own moto server, reset before and after; one chapter keeps this test short
        from costwarden.demo import runner

        request.getfixturevalue("monkeypatch").setattr(runner, "CHAPTERS", runner.CHAPTERS[:1])
    else:
        request.getfixturevalue("account")
    code, body = _json_run(argv, tmp_path, capsys)
    errors = sorted(VALIDATOR.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert body["command"] == name
    assert code in RAN
    if code == 3:  # could not read a source: never a complete result
        assert body["complete"] is False
    if body["complete"] is False:  # and an incomplete one never exits 0
        assert code != 0


def _valid() -> dict[str, Any]:
    return {
        "command": "reap",
        "generated_at": "2026-12-07T09:00:00+00:00",
        "complete": True,
        "errors": [],
        "results": [
            {
                "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
                "type": "ec2_instance",
                "region": "us-east-1",
                "team": "nlp",
                "expires_at": "2026-12-01",
                "action": "terminate",
                "status": "planned",
                "reason": "expired",
                "id": "i-0abc",
            }
        ],
        "totals": {"planned": 1},
    }


def _drop(key: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        del body[key]

    return change


MALFORMED = {
    "no totals": _drop("totals"),
    "no command": _drop("command"),
    "unknown command": lambda b: b.update(command="frobnicate"),
    "complete with errors": lambda b: b.update(errors=["ec2 in us-east-1: AccessDenied"]),
    "incomplete without errors": lambda b: b.update(complete=False),
    "results not a list": lambda b: b.update(results={"rows": []}),
    "a reap result without arn": lambda b: b["results"][0].pop("arn"),
    "generated_at not a time": lambda b: b.update(generated_at="yesterday"),
    "an extra top-level key": lambda b: b.update(rows=[]),
    "the old bare list": lambda b: b.clear() or b.update(results=[]),
}


def test_the_valid_example_passes() -> None:
    VALIDATOR.validate(_valid())


@pytest.mark.parametrize("why", sorted(MALFORMED))
def test_a_malformed_envelope_fails_the_schema(why: str) -> None:
    body = copy.deepcopy(_valid())
    MALFORMED[why](body)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(body)


@pytest.mark.parametrize("argv", NO_CREDENTIALS_COMMANDS, ids=" ".join)
@pytest.mark.usefixtures("no_credentials")
def test_could_not_run_is_an_incomplete_envelope(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """No credentials with ``--format json``: still the envelope, ``complete`` false and the reason in ``errors``."""
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in err
    body = json.loads(out)
    VALIDATOR.validate(body)
    assert body["complete"] is False and body["command"] == " ".join(a for a in argv[:2] if not a.startswith("-"))
    assert "credentials" in " ".join(body["errors"]).lower()
