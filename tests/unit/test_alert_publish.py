"""The alert event contract and the one ``publish()``: subject rules and the size limit."""

from __future__ import annotations

import json
from functools import partial

import boto3
from costwarden.adapters.sns import MAX_MESSAGE_BYTES, TRUNCATION_NOTE_KEY, fit_to_sns, publish, subject_for
from costwarden.models.alert import AlertEvent, Severity
from moto import mock_aws

from tests.support.alerts import alert_event
from tests.support.aws import alert_queue

#: A critical anomaly for ``vision`` without details (the size tests add their own).
_event = partial(
    alert_event,
    severity=Severity.CRITICAL,
    title="Spend 2.4x baseline",
    summary="vision spent 4,210 USD on 2026-11-25",
    details={},
)


def test_subject_is_one_ascii_line_under_100_chars() -> None:
    event = _event(title="Spend — jumped\nfrom 100 → 900 USD " + "x" * 200)
    subject = subject_for(event)
    assert subject.startswith("[CRITICAL] Spend - jumped from 100 -> 900 USD")
    assert len(subject) <= 99
    assert "\n" not in subject
    assert subject.isascii()


def test_oversized_event_is_cut_down_with_a_note_not_rejected() -> None:
    items = [f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x} expired 2026-11-01" for n in range(20_000)]
    event = _event(details={"items": items, "figures": {"Cost": "4,210 USD"}})
    assert len(event.to_json().encode()) > MAX_MESSAGE_BYTES

    fitted = fit_to_sns(event)

    assert len(fitted.to_json().encode()) <= MAX_MESSAGE_BYTES
    assert fitted.details["figures"] == {"Cost": "4,210 USD"}
    assert 0 < len(fitted.details["items"]) < len(items)
    assert fitted.details["items"] == items[: len(fitted.details["items"])]
    assert "items (kept" in fitted.details[TRUNCATION_NOTE_KEY]


def test_small_event_is_untouched() -> None:
    event = _event(details={"items": ["a", "b"]})
    assert fit_to_sns(event) is event


@mock_aws
def test_publish_sends_json_body_and_filterable_attributes() -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic, queue_url = alert_queue(sns, sqs, "alerts")

    publish(_event(), topic, sns_client=sns)

    message = json.loads(sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    assert AlertEvent.from_json(message["Message"]).team == "vision"
    assert message["Subject"] == "[CRITICAL] Spend 2.4x baseline"
    assert {k: v["Value"] for k, v in message["MessageAttributes"].items()} == {
        "kind": "cost_anomaly",
        "severity": "critical",
        "team": "vision",
    }
