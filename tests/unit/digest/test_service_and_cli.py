"""Sending the day's digests (failures isolated) and ``costwarden digest`` (offline rendering)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from costwarden.cli import digest as digest_cli
from costwarden.cli.main import CliError
from costwarden.demo.example_digest import example_input
from costwarden.digest.service import send_digests
from costwarden.models.alert import AlertEvent
from costwarden.models.digest import DigestInput
from costwarden.settings import NotifierSettings

MakeFleet = Callable[..., DigestInput]


def test_every_digest_is_tried_and_failures_are_reported(make_fleet: MakeFleet) -> None:
    sent: list[AlertEvent] = []

    def publish(event: AlertEvent) -> str:
        if event.team == "team-0001":
            raise RuntimeError("Throttling")
        sent.append(event)
        return "message-id"

    run = send_digests(make_fleet(3), NotifierSettings(per_team_digest=True), publish)
    assert [e.dedup_key for e in sent] == [
        "digest#2026-11-26",
        "digest#2026-11-26#team-0000",
        "digest#2026-11-26#team-0002",
    ]
    assert run.sent == [e.dedup_key for e in sent]
    assert run.failed == {"digest#2026-11-26#team-0001": "RuntimeError: Throttling"}
    assert not run.ok
    assert run.summary() == {
        "digests_sent": 3,
        "digests_failed": {"digest#2026-11-26#team-0001": "RuntimeError: Throttling"},
    }


def test_fleet_digest_only_by_default(make_fleet: MakeFleet) -> None:
    sent: list[AlertEvent] = []
    run = send_digests(make_fleet(5), NotifierSettings(), sent.append)
    assert run.ok and [e.team for e in sent] == ["all"]


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    digest_cli.register(parser.add_subparsers())
    args = parser.parse_args(["digest", *argv])
    return int(args.func(args))


def test_cli_renders_the_example_day_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run() == 0
    out = capsys.readouterr().out
    assert out.startswith("# 📊 Daily cost digest — 2026-11-26\n*Month to date*: $412,710\n")
    assert "🔴  nlp            $41.9k     $57.8k    144%" in out


def test_cli_renders_an_input_file_as_blocks_or_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "input.json"
    path.write_text(example_input().model_dump_json(), encoding="utf-8")
    assert _run("--input", str(path), "--format", "blocks", "--top-n", "3") == 0
    blocks = json.loads(capsys.readouterr().out)["blocks"]
    assert blocks[0]["type"] == "header"
    assert any("Top 3 of 12 teams" in b.get("text", {}).get("text", "") for b in blocks)
    assert _run("--input", str(path), "--format", "event", "--team", "nlp") == 0
    event = AlertEvent.from_json(capsys.readouterr().out)
    assert event.team == "nlp"
    assert event.details["figures"]["Budget"] == "🔴 over budget: projected 144% of $40.0k"
    assert "Budgets" not in event.details["figures"]


def test_cli_names_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"date": "2026-11-26", "teams": [{"team": "a"}]}', encoding="utf-8")
    with pytest.raises(CliError, match="not a digest input"):
        _run("--input", str(bad))
    with pytest.raises(CliError, match="cannot read"):
        _run("--input", str(tmp_path / "missing.json"))
    with pytest.raises(CliError, match="no digest data for team 'nobody'"):
        _run("--team", "nobody")
