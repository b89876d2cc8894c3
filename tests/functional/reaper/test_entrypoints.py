"""The CLI and the Lambda handler end to end against moto (SNS topic, DynamoDB state table, resources)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from costwarden.cli import reap
from costwarden.reaper.execute import RunResult

from tests.functional.reaper.reaper_env import Account
from tests.support.aws import alert_queue, create_state_table

EXPIRED = "2026-01-01"  # the CLI and handler run at the real "now"
LIVE = "2099-12-31"

ROOT = Path(__file__).resolve().parents[3]


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    reap.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reap", *argv])
    return int(args.func(args))


def test_cli_plans_by_default_and_prints_json(
    account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    monkeypatch.delenv("ALERT_TOPIC_ARN", raising=False)
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    (live,) = account.instances(1, team="vision", expires_at=LIVE)
    assert cli(["--format", "json", "--regions", "us-east-1"]) == 0
    out, err = capsys.readouterr()
    rows = {r["id"]: r for r in json.loads(out)["results"]}
    assert set(rows[old]) >= {"arn", "type", "region", "team", "expires_at", "action", "status", "reason"}
    assert (rows[old]["action"], rows[old]["status"]) == ("terminate", "planned")
    assert rows[live]["status"] == "skipped"
    assert "STATE_TABLE_NAME is not set" in err and "printed" in err and "dry run" in err
    assert account.instance_state(old) == "running"

    assert cli(["--apply", "--format", "table", "--regions", "us-east-1"]) == 0
    out, _ = capsys.readouterr()
    assert "done" in out and "terminate" in out
    assert account.instance_state(old) == "terminated"


def test_cli_exit_code_is_non_zero_when_an_action_failed(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    account.job("training", "train-old", team="nlp", expires_at=EXPIRED)  # moto cannot stop training jobs
    assert cli(["--apply", "--format", "json"]) == 1
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [r["status"] for r in rows] == ["failed"]


def test_cli_with_a_missing_table_says_so(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATE_TABLE_NAME", "no-such-table")
    assert cli(["--format", "json"]) == 0
    assert "state table 'no-such-table' is not usable" in capsys.readouterr().err


def _deploy(account: Account) -> tuple[str, str, Any]:
    create_state_table(account.client("dynamodb"))
    sqs = account.client("sqs")
    topic, queue = alert_queue(account.client("sns"), sqs)
    return topic, queue, sqs


def test_handler_applies_audits_in_dynamodb_and_publishes(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    topic, queue, sqs = _deploy(account)
    monkeypatch.setenv("STATE_TABLE_NAME", "costwarden-state")
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"reaper": {"dry_run": False}}))
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    (bad,) = account.instances(1, team="nlp", expires_at="next week")

    from costwarden.handlers.context import LocalContext
    from costwarden.handlers.reaper import handler

    event = json.loads((ROOT / "events/reaper/scheduled.json").read_text())
    summary = handler(event, LocalContext(function_name="reaper"))
    assert summary["dry_run"] is False and summary["counts"]["done"] == 1
    assert account.instance_state(old) == "terminated" and account.instance_state(bad) == "running"

    table = boto3.resource("dynamodb", region_name="us-east-1").Table("costwarden-state")
    audit = [i for i in table.scan()["Items"] if i["pk"].startswith("audit#")]
    assert {i["id"] for i in audit} == {old, bad} and all(i["expiration"] for i in audit)

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    kinds = sorted(json.loads(json.loads(m["Body"])["Message"])["kind"] for m in messages)
    assert kinds == ["reaped", "tag_violation"]
    # The handler passes its price book (issue 22): moto has no Price List, so the saving is "not known", with
    # the reason that no list price was found — not "this run read no prices".
    (reaped,) = [e for m in messages if (e := json.loads(json.loads(m["Body"])["Message"]))["kind"] == "reaped"]
    assert reaped["summary"].endswith("What this saves per month is not known: no list price for 1 of them.")


def test_cli_apply_prices_what_it_reaped(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """``costwarden reap --apply`` builds the same price book as the handler (the reaped alert's saving)."""
    topic, queue, sqs = _deploy(account)
    monkeypatch.setenv("STATE_TABLE_NAME", "costwarden-state")
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    assert cli(["--apply", "--format", "json", "--regions", "us-east-1"]) == 0
    assert account.instance_state(old) == "terminated"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    (reaped,) = [e for m in messages if (e := json.loads(json.loads(m["Body"])["Message"]))["kind"] == "reaped"]
    assert reaped["summary"].endswith("What this saves per month is not known: no list price for 1 of them.")


def test_run_command_knows_the_reaper() -> None:
    from costwarden.cli.run import HANDLERS

    assert HANDLERS["reaper"] == "costwarden.handlers.reaper.handler"


def test_importing_the_reaper_handler_pulls_no_pandas_numpy_scipy() -> None:
    code = (
        "import sys, costwarden.handlers.reaper, costwarden.cli.reap, costwarden.reaper.execute;"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'numpy', 'scipy', 'pyarrow'));"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "functions"), "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"


def test_run_result_summary_is_json(account: Account) -> None:
    account.instances(1, team="vision", expires_at=EXPIRED)
    result: RunResult = account.run()
    json.dumps(result.summary())
    assert result.summary()["counts"]["planned"] == 1


def test_main_parser_has_the_reap_command() -> None:
    from costwarden.cli.main import build_parser

    args = build_parser().parse_args(["reap", "--apply", "--regions", "a,b", "--format", "json"])
    assert (args.apply, args.regions, args.format) == (True, "a,b", "json")


def test_run_reaper_never_acts_without_apply_whatever_the_environment_says(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A laptop with a deployed function's environment copied in must not become destructive."""
    from costwarden.cli.main import main
    from costwarden.settings import load_settings

    topic, _, _ = _deploy(account)
    monkeypatch.setenv("STATE_TABLE_NAME", "costwarden-state")
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
    monkeypatch.setenv("COSTWARDEN_SETTINGS", '{"reaper":{"dry_run":false,"missing_expiry":"mark"}}')
    load_settings.cache_clear()
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    (unmarked,) = account.instances(1, team="vision", environment="experiment")
    event = str(ROOT / "events/reaper/scheduled.json")

    assert main(["run", "reaper", "--event", event]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["dry_run"] is True and summary["counts"]["planned"] == 2 and summary["counts"]["done"] == 0
    assert "dry run forced" in err and "--apply" in err
    assert account.instance_state(old) == "running"
    assert "expires_at" not in account.instance_tags(unmarked)
    # The environment itself is left as it was (the override lives only for the invocation).
    assert json.loads(__import__("os").environ["COSTWARDEN_SETTINGS"])["reaper"]["dry_run"] is False

    assert main(["run", "reaper", "--event", event, "--apply"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["dry_run"] is False and "--apply" in err
    assert account.instance_state(old) == "terminated"
    assert "expires_at" in account.instance_tags(unmarked)
    load_settings.cache_clear()


def test_run_reaper_apply_still_honours_a_dry_run_setting(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--apply`` lifts the CLI's guard only; the deployed setting (dry run by default) still holds."""
    from costwarden.cli.main import main
    from costwarden.settings import load_settings

    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    monkeypatch.delenv("ALERT_TOPIC_ARN", raising=False)
    monkeypatch.delenv("COSTWARDEN_SETTINGS", raising=False)
    load_settings.cache_clear()
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    assert main(["run", "reaper", "--event", str(ROOT / "events/reaper/scheduled.json"), "--apply"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["dry_run"] is True and "settings.reaper.dry_run is true" in err
    assert account.instance_state(old) == "running"
    load_settings.cache_clear()


@pytest.mark.parametrize("raw", ["{not json", '{"reaper": {"dry_run": "sometimes"}}'])
def test_run_reaper_with_bad_settings_is_a_user_error(
    raw: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from costwarden.cli.main import main
    from costwarden.settings import load_settings

    monkeypatch.setenv("COSTWARDEN_SETTINGS", raw)
    load_settings.cache_clear()
    assert main(["run", "reaper", "--event", str(ROOT / "events/reaper/scheduled.json")]) == 2
    err = capsys.readouterr().err
    assert "COSTWARDEN_SETTINGS" in err and "Traceback" not in err
    load_settings.cache_clear()
