"""Moto in-process: a state table, an alert topic with an SQS queue to read what was published, and a responsive
Cost Explorer (fake_ce.py) behind a real boto3 CE client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.state import DynamoStateStore
from costwarden.models.alert import AlertEvent, AlertKind
from moto import mock_aws

from tests.support.aws import alert_queue, create_state_table

from .fake_ce import FakeCostExplorer


@dataclass
class World:
    fake: FakeCostExplorer
    ce_client: Any
    store: DynamoStateStore
    table_name: str
    topic_arn: str
    queue_url: str
    sqs: Any

    def explorer(self, **kwargs: Any) -> CostExplorer:
        return CostExplorer(client=self.ce_client, sleep=lambda _s: None, **kwargs)

    def published(self, *, digests: bool = False) -> list[AlertEvent]:
        """Alerts SNS delivered since the last call; the daily digest every run ends with only if asked for."""
        events = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                event = AlertEvent.from_json(json.loads(message["Body"])["Message"])
                if digests or event.kind is not AlertKind.DIGEST:
                    events.append(event)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb, "costwarden-state")
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic_arn, queue_url = alert_queue(sns, sqs)
        ce_client = boto3.client("ce", region_name="us-east-1")
        fake = FakeCostExplorer()
        fake.install(ce_client)
        yield World(
            fake, ce_client, DynamoStateStore("costwarden-state"), "costwarden-state", topic_arn, queue_url, sqs
        )
