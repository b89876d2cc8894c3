"""E-mail that reads like the Slack message (issue 22): every alert kind as plain text, and the alert topic's
structured message (``default`` JSON for machines unchanged, ``email`` text) within SNS's limit."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from costwarden.adapters.sns import MAX_MESSAGE_BYTES, structured_message
from costwarden.demo.example_digest import example_input
from costwarden.digest.compose import compose_digest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.email import FOOTER, email_text, plain
from costwarden.reaper.alerts import expiry_warning
from costwarden.resources.model import Resource, Warning
from costwarden.services.topic import publish
from costwarden.settings import TagPolicy
from moto import mock_aws

from tests.support.alerts import alert_event
from tests.support.aws import alert_queue

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


def _generic(kind: AlertKind) -> AlertEvent:
    return alert_event(
        kind=kind,
        severity=Severity.CRITICAL,
        title=f"nlp: {kind.value.replace('_', ' ')} & more <now>",
        summary="R&D spent *4,210 USD* yesterday; see _the report_.",
        details={
            "figures": {"Spend": "$4,210", "Budget": "$3,000"},
            "items": ["Amazon SageMaker +$2,310", "Amazon EC2 +$240"],
        },
        dedup_key=f"{kind.value}#nlp#2026-12-06",
    )


def _expiry() -> AlertEvent:
    resource = Resource("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "ec2:instance", "us-east-1", "i-0abc", {})
    warning = Warning(resource, "nlp", "2026-12-08", NOW + timedelta(hours=15), 24, "terminate")
    return expiry_warning(warning, NOW, False, TagPolicy())


#: One event of every kind: the producers' own where a kind has its own layout (digest) or a builder at hand.
SAMPLES: dict[AlertKind, AlertEvent] = {kind: _generic(kind) for kind in AlertKind} | {
    AlertKind.DIGEST: compose_digest(example_input(), top_n=10),
    AlertKind.EXPIRY_WARNING: _expiry(),
}


@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_alert_kind_reads_as_plain_text(kind: AlertKind) -> None:
    event = SAMPLES[kind]
    text = email_text(event)

    assert "{" not in text and "}" not in text  # no JSON
    assert not re.search(r"<(https?://|@|!)[^>]*>", text)  # no Slack link or mention syntax
    assert not re.search(r":[a-z_]+:", text.split("\n", 1)[0])  # no emoji shortcode in the title line
    assert "&amp;" not in text and "&lt;" not in text
    assert text.endswith(FOOTER)
    if kind is AlertKind.DIGEST:
        assert text.startswith("📊 Daily cost digest — 2026-11-26\n") and "llm-pretrain" in text
    elif kind is AlertKind.EXPIRY_WARNING:
        assert text.startswith(f"{event.title}\n") and event.title.startswith("ec2:instance i-0abc expires in 15")
        assert "\nRegion: us-east-1\n" in text and "extend: aws ec2 create-tags" in text
    else:
        title = f"nlp: {kind.value.replace('_', ' ')} & more <now>"
        assert text.startswith(f"{title}\n{'=' * len(title)}\n\n")
        assert "\n\nR&D spent 4,210 USD yesterday; see the report.\n\n" in text  # as Slack shows it, marks undone
        assert "\nSpend: $4,210\nBudget: $3,000\n" in text
        assert "• Amazon SageMaker +$2,310\n• Amazon EC2 +$240" in text


def test_text_from_the_event_stays_literal_as_slack_shows_it() -> None:
    event = alert_event(summary="see <https://evil.example|a link> and <!channel>")
    text = email_text(event)
    assert "see <https://evil.example|a link> and <!channel>" in text  # escaped in Slack: never a link or a ping
    assert "a link (https://evil.example)" not in text


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(AlertKind)


#: Slack mrkdwn -> what the e-mail says.
MRKDWN = {
    "<https://console.aws.amazon.com/cost|Open in Cost Explorer>": "Open in Cost Explorer (https://console.aws.amazon.com/cost)",
    "<https://a.example/x>": "https://a.example/x",
    "<@U024BE7LH> and <!subteam^S0614TZR7>": "@U024BE7LH and @S0614TZR7",
    "*Spend*\n4,210 USD": "Spend\n4,210 USD",
    "_update its expires_at tag_": "update its expires_at tag",
    "`aws ec2 stop-instances`": "aws ec2 stop-instances",
    ":warning: at 08:00:00 a&amp;b &lt;x&gt;": "at 08:00:00 a&b <x>",
    "snake_case_name 2*3*4": "snake_case_name 2*3*4",
    "```\nteam  MTD\nnlp   $41.9k\n```": "team  MTD\nnlp   $41.9k",
}


@pytest.mark.parametrize(("mrkdwn", "text"), MRKDWN.items())
def test_mrkdwn_becomes_plain_text(mrkdwn: str, text: str) -> None:
    assert plain(mrkdwn) == text


def test_link_buttons_are_spelled_out_and_acting_buttons_left_out() -> None:
    from costwarden.notifier import email

    block = {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open the November report"},
                "url": "https://r.example/n",
            },
            {"type": "button", "text": {"type": "plain_text", "text": "Extend 7 days"}, "value": "extend"},
        ],
    }
    assert email._block_text(block) == "Open the November report: https://r.example/n"


def test_structured_message_keeps_the_json_event_for_machines_and_fits_sns() -> None:
    items = [f'arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x} "quoted" expired' for n in range(12_000)]
    event = alert_event(details={"items": items})
    assert len(event.to_json().encode()) > MAX_MESSAGE_BYTES

    fitted, body = structured_message(event, email_text(event))

    assert len(body.encode()) <= MAX_MESSAGE_BYTES
    parsed: dict[str, Any] = json.loads(body)
    assert set(parsed) == {"default", "email"}
    assert AlertEvent.from_json(parsed["default"]) == fitted
    assert 0 < len(fitted.details["items"]) < len(items)
    assert parsed["email"].startswith("vision: spend 1.7x its baseline\n")


@mock_aws
def test_publish_gives_machine_subscribers_the_json_event_unchanged() -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic, queue_url = alert_queue(sns, sqs, "alerts")
    event = SAMPLES[AlertKind.BUDGET]

    publish(event, topic, sns_client=sns)

    message = json.loads(sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    assert AlertEvent.from_json(message["Message"]) == event  # the notifier's and every machine's view
    assert message["Subject"].startswith("[CRITICAL] nlp: budget")
    assert {k: v["Value"] for k, v in message["MessageAttributes"].items()}["kind"] == "budget"


class RecordingSns:
    """An SNS client that records each ``publish`` call's arguments (what the structure holds) and answers an id."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(kwargs)
        return {"MessageId": f"m-{len(self.calls)}"}


TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def test_publish_sends_the_email_text_in_the_structure() -> None:
    sns, event = RecordingSns(), SAMPLES[AlertKind.REAPED]
    assert publish(event, TOPIC, sns_client=sns) == "m-1"
    assert sns.calls[0]["MessageStructure"] == "json"
    assert json.loads(sns.calls[0]["Message"])["email"] == email_text(event)


def test_a_rendering_that_fails_never_costs_the_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    from costwarden.services import topic

    def broken(event: AlertEvent) -> str:
        raise KeyError("figures")

    monkeypatch.setattr(topic, "email_text", broken)
    sns, event = RecordingSns(), SAMPLES[AlertKind.BUDGET]
    assert publish(event, TOPIC, sns_client=sns) == "m-1"
    body = json.loads(sns.calls[0]["Message"])
    assert AlertEvent.from_json(body["default"]) == event
    assert body["email"].startswith(f"{event.title}\n\n{event.summary}\n\n(The rest of this alert could not be shown")
