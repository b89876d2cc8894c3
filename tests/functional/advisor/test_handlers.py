"""The monthly report Lambda on moto (S3, DynamoDB, SNS) with Cost Explorer through Stubber: the HTML lands in the
private bucket, each team is posted its part with a pre-signed link, and a retried invocation posts nothing twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.support.aws import alert_queue, create_state_table

from .test_report_stubbed import SETTINGS, expect_daily, expect_monthly

BUCKET = "costwarden-reports-test"
MODELS = {("risk", "fraud-v3"): (900.0, 1200.0), ("risk", ""): (340.0, 300.0)}
PROJECTS = {("risk", "payments"): (1240.0, 1500.0)}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb, "state")
        sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        topic, queue = alert_queue(sns, sqs, "alerts", raw=True)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
        monkeypatch.setenv("STATE_TABLE_NAME", "state")
        monkeypatch.setenv("REPORT_BUCKET_NAME", BUCKET)
        monkeypatch.setenv("COSTWARDEN_SETTINGS", SETTINGS.to_env())
        yield {"sqs": sqs, "queue": queue}


def _event() -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "2026-12-01T06:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def test_report_lambda_writes_links_and_posts_once(deployed: dict[str, Any]) -> None:
    from costwarden.adapters import aws
    from costwarden.handlers.advisor import report_handler
    from costwarden.handlers.context import LocalContext

    ce = aws.client("ce", "us-east-1")
    with Stubber(ce) as stub:
        # The scheduled run (empty cache), then a retried invocation of the same event (cache warm).
        for daily_from in (date(2026, 10, 1), date(2026, 11, 29)):
            expect_monthly(stub, "model_id", MODELS)
            expect_monthly(stub, "project", PROJECTS)
            expect_daily(stub, daily_from, date(2026, 12, 1))
        first = report_handler(_event(), LocalContext(function_name="report"))
        second = report_handler(_event(), LocalContext(function_name="report"))
        stub.assert_no_pending_responses()
    assert first["month"] == "2026-11" and first["key"] == "reports/2026-11/costwarden-report-2026-11.html"
    assert first["ce_requests"] == 3 and first["alerts"] == 1 and second["alerts"] == 0
    obj = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=first["key"])
    assert obj["ContentType"].startswith("text/html")
    assert "risk" in obj["Body"].read().decode()
    messages = deployed["sqs"].receive_message(QueueUrl=deployed["queue"], MaxNumberOfMessages=10)["Messages"]
    [alert] = [json.loads(m["Body"]) for m in messages]
    assert alert["kind"] == "report" and alert["team"] == "risk"
    url = alert["details"]["url"]
    assert url.startswith(f"https://{BUCKET}.s3.amazonaws.com/reports/2026-11/") and "X-Amz-Signature=" in url
    assert url.endswith("#team-risk")
