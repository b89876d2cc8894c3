"""Shared helpers of the notifier functional tests: sample events, the SNS envelope, the test world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from costwarden.demo.slack_standin import SlackStandIn
from costwarden.models.alert import AlertEvent, AlertKind, Severity

TABLE = "costwarden-state-test"
SECRET = "costwarden/slack-webhooks-test"
TOPIC = "arn:aws:sns:us-east-1:123456789012:costwarden-alerts"
PATHS = {
    "default": "/services/T000/BDEFAULT/s3cr3tDefaultToken",
    "oncall": "/services/T000/BONCALL/s3cr3tOncallToken",
    "team:vision": "/services/T000/BVISION/s3cr3tVisionToken",
}


def make_event(**overrides: Any) -> AlertEvent:
    fields: dict[str, Any] = {
        "kind": AlertKind.COST_ANOMALY,
        "severity": Severity.WARNING,
        "team": "vision",
        "title": "vision: spend 1.7x its baseline",
        "summary": "vision spent 2,950 USD yesterday against a baseline of 1,740 USD.",
        "details": {"figures": {"Spend": "2,950 USD", "Baseline": "1,740 USD"}, "items": ["Amazon EC2 +1,100 USD"]},
        "dedup_key": "cost_anomaly#vision#2026-11-25",
    }
    fields.update(overrides)
    return AlertEvent.model_validate(fields)


def sns_event(alert: AlertEvent, message_id: str = "95df01b4-ee98-5cb9-9903-4c221d41eb5e") -> dict[str, Any]:
    """The SNS -> Lambda envelope, as in events/notifier/."""
    attributes = {
        "kind": {"Type": "String", "Value": alert.kind.value},
        "severity": {"Type": "String", "Value": alert.severity.value},
        "team": {"Type": "String", "Value": alert.team},
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": TOPIC,
                    "Subject": f"[{alert.severity.value.upper()}] {alert.title}"[:99],
                    "Message": alert.to_json(),
                    "Timestamp": "2026-11-26T08:00:13.456Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


@dataclass
class Sleeps:
    """Stands in for time.sleep in the retry handlers: records the waits slack_sdk's retry loop asked for."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class NotifierWorld:
    slack: SlackStandIn
    sleeps: Sleeps
    secret: dict[str, Any]
    invoke: Callable[..., dict[str, Any]]

    def url(self, channel: str) -> str:
        return self.slack.url(PATHS[channel])
