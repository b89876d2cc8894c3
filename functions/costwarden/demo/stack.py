"""The deployed stack's resources, recreated on the local moto server for the demo.

Same shapes as infra/ creates: a KMS key, the alert topic encrypted with it, the state table (``pk``/``sk``
strings, on-demand, TTL on ``expiration``), the Slack webhooks secret (JSON ``{"default", "oncall", "teams"}``) —
here pointing at the local Slack stand-in —, the Slack app's secret (signing secret and bot token) and, instead of
the notifier's Lambda subscription, an SQS queue subscribed to the topic, so the demo can see exactly what SNS
delivers and hand it to the real handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from costwarden.settings import InteractSettings, NotifierSettings

ALERT_TOPIC_NAME = "costwarden-alerts"
STATE_TABLE_NAME = "costwarden-state"
DELIVERY_QUEUE_NAME = "costwarden-demo-sns-deliveries"
SLACK_SECRET_NAME = NotifierSettings().slack_secret_name

#: The demo's Slack workspace: one webhook per channel; teams not listed here fall back to ``default``.
DEMO_TEAM_CHANNELS = ("vision", "nlp", "recsys")
#: The Slack app (``interact``): its secret's name as deployed, and the demo's signing secret (the stand-in signs the
#: button presses it plays with it; a demo value, never a real one).
APP_SECRET_NAME = InteractSettings().app_secret_name
DEMO_SIGNING_SECRET = "costwarden-demo-signing-secret-0123456789"  # noqa: S105 - the demo's own, local only


def webhook_paths(teams: tuple[str, ...] = DEMO_TEAM_CHANNELS) -> dict[str, str]:
    """Channel name -> webhook path on the stand-in (shaped like Slack's ``/services/T…/B…/…``)."""
    paths = {"default": "/services/TDEMO/BDEFAULT/cost-alerts", "oncall": "/services/TDEMO/BONCALL/oncall"}
    for team in teams:
        paths[f"team:{team}"] = f"/services/TDEMO/B{team.upper()}/{team}-costs"
    return paths


@dataclass(frozen=True)
class DemoStack:
    kms_key_id: str
    alert_topic_arn: str
    state_table_name: str
    slack_secret_name: str
    delivery_queue_url: str
    delivery_subscription_arn: str


def create_stack(client: Any, base_url: str, paths: dict[str, str], bot_token: str = "") -> DemoStack:
    """Create the resources through ``client(service)`` (boto3 clients bound to the moto server); ``bot_token``:
    the Slack stand-in's, stored in the Slack app's secret with the demo's signing secret."""
    kms = client("kms")
    key_id = kms.create_key(Description="costwarden alert topic key")["KeyMetadata"]["KeyId"]

    sns = client("sns")
    topic_arn = sns.create_topic(Name=ALERT_TOPIC_NAME, Attributes={"KmsMasterKeyId": key_id})["TopicArn"]

    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=STATE_TABLE_NAME,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=STATE_TABLE_NAME, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )

    secret: dict[str, Any] = {"default": base_url + paths["default"], "oncall": base_url + paths["oncall"]}
    secret["teams"] = {
        channel.removeprefix("team:"): base_url + path for channel, path in paths.items() if channel.startswith("team:")
    }
    client("secretsmanager").create_secret(Name=SLACK_SECRET_NAME, SecretString=json.dumps(secret), KmsKeyId=key_id)
    create_app_secret(client, key_id, bot_token)

    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName=DELIVERY_QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)
    return DemoStack(
        kms_key_id=key_id,
        alert_topic_arn=topic_arn,
        state_table_name=STATE_TABLE_NAME,
        slack_secret_name=SLACK_SECRET_NAME,
        delivery_queue_url=queue_url,
        delivery_subscription_arn=subscription["SubscriptionArn"],
    )


def create_app_secret(client: Any, key_id: str, bot_token: str) -> None:
    """The Slack app's secret (``interact.app_secret_name``), as deployed: the signing secret the endpoint checks
    every request with, and the bot token (the stand-in's own test token)."""
    value = {"signing_secret": DEMO_SIGNING_SECRET, "bot_token": bot_token}
    client("secretsmanager").create_secret(Name=APP_SECRET_NAME, SecretString=json.dumps(value), KmsKeyId=key_id)


def drain_deliveries(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every SNS notification waiting in the queue (SNS JSON format), oldest first, deleted once read."""
    notifications: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for message in batch:
            notifications.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return notifications


def lambda_event(notification: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The SNS -> Lambda envelope for one notification, as Lambda would receive it.

    The SQS (JSON) format and the Lambda format differ in two key spellings: ``SigningCertURL`` /
    ``UnsubscribeURL`` there, ``SigningCertUrl`` / ``UnsubscribeUrl`` here.
    """
    sns = {
        "Type": notification["Type"],
        "MessageId": notification["MessageId"],
        "TopicArn": notification["TopicArn"],
        "Subject": notification.get("Subject"),
        "Message": notification["Message"],
        "Timestamp": notification["Timestamp"],
        "SignatureVersion": notification.get("SignatureVersion", "1"),
        "Signature": notification.get("Signature", ""),
        "SigningCertUrl": notification.get("SigningCertURL", notification.get("SigningCertUrl")),
        "UnsubscribeUrl": notification.get("UnsubscribeURL", notification.get("UnsubscribeUrl")),
        "MessageAttributes": notification.get("MessageAttributes", {}),
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }
