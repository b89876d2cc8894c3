"""The old output flags still work, each with one deprecation line on stderr naming what to write instead."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from costwarden.cli.main import main
from moto import mock_aws

from tests.support.aws import create_state_table

TABLE = "costwarden-state"


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "deprecated" in line]


def test_digest_format_text_is_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--format", "table"]) == 0
    table, err = capsys.readouterr()
    assert _lines(err) == []
    assert main(["digest", "--format", "text"]) == 0
    text, err = capsys.readouterr()
    assert text == table
    assert _lines(err) == ["costwarden digest: --format text is deprecated; use --format table"]


@pytest.fixture
def state_table() -> Iterator[None]:
    with mock_aws():
        create_state_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        yield


@pytest.mark.usefixtures("state_table")
def test_plan_table_is_state_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "nlp", "2026-12-10", "2026-12-12", "900", "training"]
    assert main([*argv, "--table", TABLE]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Planned spend for nlp: +900 USD from 2026-12-10 to 2026-12-12")
    assert _lines(err) == ["costwarden plan: --table is deprecated; use --state-table"]
    assert main([*argv, "--state-table", TABLE, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert _lines(err) == []
    assert json.loads(out)["results"] == [
        {
            "team": "nlp",
            "from": "2026-12-10",
            "to": "2026-12-12",
            "usd": 900.0,
            "reason": "training",
            "days": 3,
            "usd_per_day": 300.0,
        }
    ]


@pytest.mark.usefixtures("state_table")
def test_report_json_is_format_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    assert main(["report", "--month", "2026-10", "--out", str(tmp_path / "r.html"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert _lines(err) == ["costwarden report: --json is deprecated; use --format json"]
    body = json.loads(out)
    assert (body["command"], body["complete"], body["results"][0]["month"]) == ("report", True, "2026-10")
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!")
