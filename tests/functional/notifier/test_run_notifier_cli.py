"""``costwarden run notifier --event events/notifier/...``: the sample envelope through the real handler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.cli.main import main

from tests.functional.notifier.support import PATHS, NotifierWorld

SAMPLE = Path(__file__).resolve().parents[3] / "events" / "notifier" / "sns_critical_cost_anomaly.json"


def test_sample_event_is_a_real_sns_envelope() -> None:
    record = json.loads(SAMPLE.read_text())["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"].startswith(record["Sns"]["TopicArn"] + ":")
    assert set(record["Sns"]["MessageAttributes"]) == {"kind", "severity", "team"}
    assert json.loads(record["Sns"]["Message"])["severity"] == record["Sns"]["MessageAttributes"]["severity"]["Value"]


def test_run_notifier_with_the_sample_event_posts_and_prints_a_summary(
    world: NotifierWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "notifier", "--event", str(SAMPLE)])

    summary = json.loads(capsys.readouterr().out)  # logs and metrics go to stderr
    assert code == 0
    assert summary["results"][0]["posted"] == ["default", "oncall"]  # team nlp has no webhook; critical -> on-call
    assert [r.path for r in world.slack.accepted()] == [PATHS["default"], PATHS["oncall"]]


def test_run_notifier_without_a_table_fails_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)

    code = main(["run", "notifier", "--event", str(SAMPLE)])

    err = capsys.readouterr().err
    assert code == 1
    assert "STATE_TABLE_NAME is not set" in err
    assert "Traceback" not in err
