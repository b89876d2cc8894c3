"""The inventory snapshot on moto (issue 25, item 3): instances running before the guard saw any event are in the
team's rate after one seeding, priced from the Price List fixture; a stop event then lowers the rate; the requests
grow with pages and batches, never with instances."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from costwarden.adapters.state import DynamoStateStore, MemoryStateStore
from costwarden.burn.run import BurnPorts, run_burn
from costwarden.services.burn import AwsPrices, seed_from_inventory
from costwarden.settings import Settings
from moto import mock_aws

from tests.support.aws import create_state_table
from tests.support.burn import P4D_USD_PER_HOUR, FakePricing, events

ACCOUNT = "123456789012"
REGION = "us-east-1"
SNAPSHOT_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FLEET = 30  # two BatchWriteItem requests of 25: more instances than one batch, fewer than one listing page


class Account:
    """moto clients that count their requests by operation, the Price List fixture, a DynamoDB state table."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.pricing = FakePricing()
        self.cache: dict[tuple[str, str], Any] = {}
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        create_state_table(dynamodb)
        dynamodb.meta.client.meta.events.register("before-call", self._count)
        self.store = DynamoStateStore("costwarden-state", dynamodb)

    def _count(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def clients(self, service: str, region: str) -> Any:
        if service == "pricing":
            return self.pricing
        if (service, region) not in self.cache:
            client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
            client.meta.events.register("before-call", self._count)
            self.cache[(service, region)] = client
        return self.cache[(service, region)]

    def launch(self, count: int, **tags: str) -> list[str]:
        spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        out = self.clients("ec2", REGION).run_instances(
            ImageId="ami-12345678", InstanceType="p4d.24xlarge", MinCount=count, MaxCount=count, TagSpecifications=spec
        )
        return [i["InstanceId"] for i in out["Instances"]]

    def seed(self, at: datetime = SNAPSHOT_AT) -> dict[str, Any]:
        prices = AwsPrices(self.clients, self.store)
        return seed_from_inventory(
            Settings(), regions=[REGION], clients=self.clients, store=self.store, now=at, prices=prices, account=ACCOUNT
        )


def stop_event(instance_ids: list[str]) -> dict[str, Any]:
    """The recorded-shape StopInstances of ``tests/fixtures/burn`` naming ``instance_ids``, after the snapshot."""
    (event,) = [e for e in events() if e["detail"].get("eventName") == "StopInstances"]
    items = [{"instanceId": iid} for iid in instance_ids]
    event["detail"]["requestParameters"]["instancesSet"]["items"] = items
    event["detail"]["responseElements"]["instancesSet"]["items"] = items
    return event


@mock_aws
def test_instances_running_before_any_event_are_rated_and_a_stop_lowers_the_rate() -> None:
    account = Account()
    fleet = account.launch(FLEET, team="nlp")
    summary = account.seed()
    assert summary == {"seeded": FLEET, "stopped": 0, "gone": 0, "kept": 0, "listed": FLEET, "written": FLEET,
                       "failed_regions": []}  # fmt: skip
    # Requests grow with pages and batches: one listing page; two unit batches, the snapshot's own record and the
    # Price List cache's; one Price List request for the one type.
    assert account.requests["DescribeInstances"] == 1
    assert account.requests["BatchWriteItem"] == 4
    assert account.pricing.requests == 1
    ports = BurnPorts(store=account.store, prices=AwsPrices(account.clients, account.store), baseline=lambda *_: None)
    result = run_burn([stop_event(fleet[:4])], Settings(), ports, now=datetime(2026, 12, 7, 10, 1, tzinfo=UTC))
    assert result.rates[-1]["team"] == "nlp"
    assert result.rates[-1]["usd_per_hour"] == pytest.approx((FLEET - 4) * P4D_USD_PER_HOUR, abs=1e-3)
    assert result.rates[-1]["unpriced_instances"] == 0


@mock_aws
def test_seeding_twice_writes_nothing_and_a_terminated_instance_stops_counting() -> None:
    account = Account()
    fleet = account.launch(3, team="nlp")
    account.seed()
    account.requests.clear()
    again = account.seed()
    assert (again["seeded"], again["written"], again["kept"]) == (0, 0, 3)
    assert account.requests["BatchWriteItem"] == 1  # the snapshot's own record only
    account.clients("ec2", REGION).terminate_instances(InstanceIds=fleet[:1])
    later = account.seed(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    assert (later["seeded"], later["gone"], later["listed"]) == (2, 1, 2)
    units = {item["sk"]: item for item in account.store.query("burn#unit")}
    assert units[f"ec2:{fleet[0]}"]["stopped_at"] == "2026-12-07T10:00:00+00:00"


def test_a_failing_listing_is_a_reported_error_never_a_clean_snapshot() -> None:
    store = MemoryStateStore()

    def refuse(service: str, region: str) -> Any:
        raise RuntimeError(f"no {service} in {region}")

    summary = seed_from_inventory(
        Settings(), regions=[REGION], clients=refuse, store=store, now=SNAPSHOT_AT, account=ACCOUNT
    )
    assert summary["failed_regions"] == [REGION] and summary["listed"] == 0 and summary["gone"] == 0
    assert store.query("burn#snapshot") == []  # no scope listed: the next snapshot still stops nothing from this one


@mock_aws
def test_the_reaper_handler_seeds_the_rate_with_the_burn_guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from costwarden.handlers.context import LocalContext
    from costwarden.handlers.reaper import handler

    account = Account()
    fleet = account.launch(2, team="nlp")
    monkeypatch.setenv("STATE_TABLE_NAME", "costwarden-state")
    monkeypatch.delenv("ALERT_TOPIC_ARN", raising=False)
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"burn": {"enabled": True}}))
    summary = handler({}, LocalContext(function_name="reaper"))["burn_snapshot"]
    assert (summary["seeded"], summary["listed"], summary["failed_regions"]) == (2, 2, [])
    units = {item["sk"]: item for item in account.store.query("burn#unit")}
    assert sorted(units) == sorted(f"ec2:{iid}" for iid in fleet)
    assert {(u["team"], u["instance_type"], u["count"]) for u in units.values()} == {("nlp", "p4d.24xlarge", 1)}
