"""The daily unit-cost Lambda on a simulated account: the bill from Athena (botocore's Stubber with Athena's real
response shapes: moto's Athena runs no SQL), denominators and alerts on moto. A regression is one alert; the state
keeps the month's record and the moves the digest reads; a failed Athena read fails the run, never "no unit costs"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters import aws
from costwarden.adapters.state import DynamoStateStore
from costwarden.core.keys import UNITCOST_MONTH_PK
from costwarden.digest.sources import load_unit_cost_moves
from costwarden.handlers.context import LocalContext
from moto import mock_aws

from tests.support.aws import alert_queue, create_state_table
from tests.support.unitcost import athena_results, days, hosting_days, put_daily_invocations, received_alerts

TABLE = "costwarden-state"
REGION = "us-east-1"
FIRST = date(2026, 10, 3)
SWITCH = date(2026, 11, 3)
EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-11-04T08:30:00Z"}
ENABLED = {"cost_source": "athena", "unitcost": {"enabled": True}}
QUERY_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STATE_TABLE_NAME", TABLE)
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(ENABLED))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        create_state_table(boto3.client("dynamodb", region_name=REGION), TABLE)
        topic, queue = alert_queue(aws.client("sns", REGION), aws.client("sqs", REGION))
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
        yield queue


def _athena(monkeypatch: pytest.MonkeyPatch, state: str, results: dict[str, Any] | None) -> Stubber:
    """Athena answers through a Stubber (the handler builds its client through ``aws.client``)."""
    client = boto3.client("athena", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID})
    status: dict[str, Any] = {"State": state}
    if state != "SUCCEEDED":
        status["StateChangeReason"] = "HIVE_BAD_DATA: Error parsing field value"
    execution = {"QueryExecutionId": QUERY_ID, "Status": status, "Statistics": {"DataScannedInBytes": 2048}}
    stubber.add_response("get_query_execution", {"QueryExecution": execution})
    if results is not None:
        stubber.add_response("get_query_results", results)
    stubber.activate()
    real = aws.client

    def clients(service: str, region: str | None = None) -> Any:
        return client if service == "athena" else real(service, region)

    monkeypatch.setattr(aws, "client", clients)
    return stubber


def _handler() -> Any:
    from costwarden.handlers.unitcost import handler  # imported in the test: the settings are read per test

    return handler


def test_a_regression_is_one_alert_and_the_state_keeps_the_moves_the_digest_reads(
    account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = days(FIRST, (date(2026, 11, 4) - FIRST).days)
    moved = {d: "ml.g5.4xlarge" if d >= SWITCH else "ml.g5.xlarge" for d in window}
    stubber = _athena(monkeypatch, "SUCCEEDED", athena_results(hosting_days("fraud-v3", "fraud", "fraud-v3", moved)))
    put_daily_invocations("fraud-v3", dict.fromkeys(window, 50_000))

    summary = _handler()(EVENT, LocalContext(function_name="unitcost"))

    stubber.assert_no_pending_responses()
    assert summary["errors"] == []
    assert summary["window"] == ["2026-10-03", "2026-11-04"]
    assert (summary["regressions"], summary["alerts"]) == (1, 1)
    assert summary["athena_requests"] == 3
    assert summary["metric_requests"] == {"GetMetricData": 1, "ListMetrics": 1}
    (event,) = received_alerts(account)
    assert event.kind.value == "unit_cost" and event.team == "fraud"
    assert event.title == (
        "fraud: cost per 1k predictions of fraud-v3 doubled: traffic flat, "
        "the endpoint moved from ml.g5.xlarge to ml.g5.4xlarge on the 3rd"
    )
    store = DynamoStateStore(TABLE)
    (move,) = load_unit_cost_moves(store, now=_now())
    assert (move.model, move.team, move.unit, move.date) == ("fraud-v3", "fraud", "1k_inferences", SWITCH)
    assert move.change > 0.9
    month = store.get(UNITCOST_MONTH_PK, "2026-11")
    assert month is not None and [r["model"] for r in month["regressions"]] == ["fraud-v3"]

    # The same day again (a retried invocation): the episode is known, no second alert.
    _athena(monkeypatch, "SUCCEEDED", athena_results(hosting_days("fraud-v3", "fraud", "fraud-v3", moved)))
    again = _handler()(EVENT, LocalContext(function_name="unitcost"))
    assert (again["regressions"], again["alerts"]) == (1, 0)
    assert received_alerts(account) == []


def _now() -> datetime:
    return datetime.fromisoformat(EVENT["time"].replace("Z", "+00:00"))


def test_a_failed_athena_read_fails_the_run_and_stores_nothing(account: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stubber = _athena(monkeypatch, "FAILED", None)
    with pytest.raises(RuntimeError, match=r"line items not read from Athena: AthenaQueryError: .*HIVE_BAD_DATA"):
        _handler()(EVENT, LocalContext(function_name="unitcost"))
    stubber.assert_no_pending_responses()
    store = DynamoStateStore(TABLE)
    assert store.get(UNITCOST_MONTH_PK, "2026-11") is None
    assert load_unit_cost_moves(store, now=_now()) == ()
    assert received_alerts(account) == []


def test_without_the_athena_path_the_run_is_refused_naming_the_key(
    account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"unitcost": {"enabled": True}}))
    with pytest.raises(ValueError, match=r"unitcost\.enabled needs cost_source: athena"):
        _handler()(EVENT, LocalContext(function_name="unitcost"))


def test_a_day_without_line_items_says_so_and_alerts_nothing(account: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _athena(monkeypatch, "SUCCEEDED", athena_results([]))
    summary = _handler()(EVENT, LocalContext(function_name="unitcost"))
    assert (summary["results"], summary["alerts"], summary["errors"]) == (0, 0, [])
    assert summary["window"][1] == (date(2026, 11, 4)).isoformat()
    assert date.fromisoformat(summary["window"][0]) <= date(2026, 11, 4) - timedelta(days=31)
