"""``core.publish.send_once`` on the DynamoDB store (moto): the claim is one conditional write, a complete record
is never taken over, an expired claim is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from costwarden.adapters.state import DynamoStateStore
from costwarden.core.publish import LEASE, Outcome, send_once
from costwarden.models.ports import LEASE_ATTRIBUTE
from moto import mock_aws

from tests.support.aws import create_state_table

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
KEY = ("dedup#test", "week-49")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoStateStore]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb, "state")
        yield DynamoStateStore("state", dynamodb)


def test_claim_is_refused_while_held_and_taken_once_the_lease_ended(store: DynamoStateStore) -> None:
    lease = {"status": "in_progress", LEASE_ATTRIBUTE: NOW.timestamp() + 60}
    assert store.claim(*KEY, lease, now=NOW.timestamp())
    assert not store.claim(*KEY, lease, now=NOW.timestamp() + 59)
    assert store.claim(*KEY, {LEASE_ATTRIBUTE: NOW.timestamp() + 600}, now=NOW.timestamp() + 61)
    store.put(*KEY, {"sent_at": NOW.isoformat()})
    assert not store.claim(*KEY, lease, now=NOW.timestamp() + 10**9)  # complete: never taken over


def test_send_once_on_dynamodb(store: DynamoStateStore) -> None:
    sent: list[str] = []

    def dying(_event: str) -> None:
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        send_once("alert", key=KEY, store=store, publish=dying, ttl_days=21, now=NOW)
    again = send_once("alert", key=KEY, store=store, publish=sent.append, ttl_days=21, now=NOW + timedelta(minutes=1))
    assert again.outcome is Outcome.IN_PROGRESS
    later = send_once("alert", key=KEY, store=store, publish=sent.append, ttl_days=21, now=NOW + LEASE * 2)
    assert later.sent and sent == ["alert"]
    item = store.get(*KEY)
    assert item is not None and LEASE_ATTRIBUTE not in item and item["sent_at"] == (NOW + LEASE * 2).isoformat()
    done = send_once("alert", key=KEY, store=store, publish=sent.append, ttl_days=21, now=NOW + timedelta(days=3))
    assert done.outcome is Outcome.ALREADY_SENT and sent == ["alert"]
