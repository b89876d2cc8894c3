"""The AWS pieces many moto tests deploy before they run: the state table and an alert topic someone can read.

One definition, so a change to the deployed table's keys (``infra/`` declares them; ``tests/infra/test_stack.py``
asserts them) is one edit here, not one per test module that needs a table.
"""

from __future__ import annotations

from typing import Any

#: The state table's key schema as deployed: a string partition key ``pk`` and a string sort key ``sk``.
STATE_KEYS: tuple[tuple[str, str], ...] = (("pk", "HASH"), ("sk", "RANGE"))


def create_state_table(dynamodb: Any, name: str = "costwarden-state") -> None:
    """Create the state table, on demand, through a DynamoDB client or resource (both take the same call).

    Call it inside ``mock_aws()`` (or against a moto server): the table exists until that account is torn down.
    """
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": role} for key, role in STATE_KEYS],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in STATE_KEYS],
        BillingMode="PAY_PER_REQUEST",
    )


def alert_queue(sns: Any, sqs: Any, topic_name: str = "costwarden-alerts", *, raw: bool = False) -> tuple[str, str]:
    """Create the alert topic and an SQS queue subscribed to it, so a test reads back what was published.

    ``raw`` asks for raw message delivery (the queue body is the message itself, not SNS's JSON envelope).
    Returns ``(topic_arn, queue_url)``.
    """
    topic_arn = str(sns.create_topic(Name=topic_name)["TopicArn"])
    queue_url = str(sqs.create_queue(QueueName="alerts")["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true"} if raw else {}
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    return topic_arn, queue_url
