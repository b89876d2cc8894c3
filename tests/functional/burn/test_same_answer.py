"""``costwarden burn --events`` on the recorded-shape fixture gives the Lambda's answer (one service function), the
Lambda publishes the one critical alert to the topic, and the CLI's hostile inputs are errors naming where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from costwarden.cli.main import EXIT_BAD_INPUT, EXIT_FOUND, main
from moto import mock_aws

from tests.support.aws import alert_queue, create_state_table
from tests.support.burn import FIXTURES, FakePricing, events

TABLE = "costwarden-state"
DAY = date(2026, 12, 7)
BURN = FIXTURES / "burn"


@pytest.fixture
def pricing(monkeypatch: pytest.MonkeyPatch) -> FakePricing:
    """The Price List (moto has none) for the Lambda and the CLI alike: both build their clients here."""
    from costwarden.adapters import aws
    from costwarden.services import reaper

    fake = FakePricing()

    def clients(service: str, region: str) -> Any:
        return fake if service == "pricing" else aws.client(service, region)

    monkeypatch.setattr(reaper, "default_clients", clients)
    return fake


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STATE_TABLE_NAME", TABLE)
    with mock_aws():
        create_state_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        topic, queue = alert_queue(boto3.client("sns"), boto3.client("sqs"), raw=True)
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
        yield queue


def _monitor_baselines() -> None:
    """What the cost monitor leaves at the end of its run on the 7th: the detector's baselines of that day."""
    from costwarden.adapters.state import DynamoStateStore
    from costwarden.core.baselines import store_baselines
    from costwarden.cost import ledger
    from costwarden.cost.detect import DetectParams
    from costwarden.cost.frame import load_costs

    frame = load_costs(BURN / "baseline.csv", ["team"], excluded_charge_categories=()).frame
    store_baselines(DynamoStateStore(TABLE), DAY, ledger.baselines(frame, DAY, DetectParams()).to_dict())


def test_the_cli_gives_the_lambdas_answer(
    account: str, pricing: FakePricing, capsys: pytest.CaptureFixture[str]
) -> None:
    from costwarden.handlers.burn import handler
    from costwarden.handlers.context import LocalContext

    _monitor_baselines()
    batch = {"Records": [{"messageId": str(n), "body": json.dumps(e)} for n, e in enumerate(events())]}
    summary = handler(batch, LocalContext(function_name="burn"))
    assert summary["malformed"] == [] and summary["duplicates"] == 1 and summary["alerts"] == 1
    lambda_requests = pricing.requests
    capsys.readouterr()  # the handler's log lines

    code = main(
        [
            "burn",
            "--events",
            str(BURN / "launch_day.jsonl"),
            "--baseline",
            str(BURN / "baseline.csv"),
            "--format",
            "json",
        ]
    )
    body = json.loads(capsys.readouterr().out)
    assert code == EXIT_FOUND
    assert body["results"] == summary["results"]
    assert [a["severity"] for a in body["results"]["alerts"]] == ["critical"]
    # one request per distinct type and region (p4d, ml.p4d training, an unknown type), again for the CLI's fresh cache
    assert lambda_requests == 3 and pricing.requests == 2 * lambda_requests

    messages = boto3.client("sqs").receive_message(QueueUrl=account, MaxNumberOfMessages=10)["Messages"]
    (published,) = [json.loads(m["Body"]) for m in messages]
    assert published["kind"] == "burn_rate" and published["team"] == "nlp" and published["severity"] == "critical"


def test_a_malformed_record_is_reported_and_dropped(account: str, pricing: FakePricing) -> None:
    from costwarden.handlers.burn import handler
    from costwarden.handlers.context import LocalContext

    batch = {"Records": [{"body": "{not json"}, {"body": json.dumps({"id": "x"})}, {"body": json.dumps(events()[1])}]}
    summary = handler(batch, LocalContext(function_name="burn"))
    assert [m.split(":")[0] for m in summary["malformed"]] == ["record 0", "record 1"]
    assert "detail: missing" in summary["malformed"][1]
    assert summary["launches"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", "not a JSON list"),
        ('{"id": "a"}\n{oops', "line 2: not a JSON event"),
        ('[{"id": "e1", "detail": {}, "time": "soon"}]', "event 0 (id 'e1'): time: not an ISO 8601 time"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_hostile_event_files_are_errors_naming_where(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.json"
    path.write_text(text)
    code = main(["burn", "--events", str(path), "--prices", str(BURN / "prices.csv")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and message in err and "Traceback" not in err


def test_a_hostile_price_file_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("instance_type,region,usd_per_hour\np4d.24xlarge,us-east-1,nan\n")
    code = main(["burn", "--events", str(BURN / "launch_day.json"), "--prices", str(prices)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "line 2: usd_per_hour must be a finite amount" in err
