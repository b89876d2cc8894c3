"""What a reap saves per month (issue 22), priced the way the deployed reaper prices it: the shared price book
(``services.prices.price_book``: the Price List with its snapshot in the state table) on moto's account, the Price
List through botocore's Stubber (moto has no ``pricing``).

Hostile cases first: a Price List that refuses, or whose client cannot even be built, never stops an action or the
reaped alert, which then says the saving is not known. Then the request count: one ``GetProducts`` per distinct
instance type and region acted on, whatever the number of instances, and none on a warm snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.pricing import PRICING_REGION
from costwarden.models.alert import AlertKind
from costwarden.services.prices import price_book
from costwarden.settings import parse_settings

from tests.functional.reaper.reaper_env import Account

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "idle" / "get_products_ec2.json"
P4D_HOURLY = 32.7726  # the recorded answer's on-demand price of p4d.24xlarge
SETTINGS = parse_settings({})


@pytest.fixture
def pricing() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("pricing", region_name=PRICING_REGION)
    with Stubber(client) as stubber:
        yield client, stubber


def _routed(account: Account, pricing_client: Any) -> Any:
    """The account's clients, with ``pricing`` answered by the stubbed client."""

    def clients(service: str, region: str) -> Any:
        return pricing_client if service == "pricing" else account.clients(service, region)

    return clients


def _reaped(account: Account) -> list[str]:
    return [e.summary for e in account.published if e.kind is AlertKind.REAPED]


def test_a_refusing_price_list_blocks_neither_the_actions_nor_the_alert(
    account: Account, pricing: tuple[Any, Stubber]
) -> None:
    client, stubber = pricing
    ids = account.instances(2, instance_type="p4d.24xlarge", team="vision", expires_at="2026-12-01")
    stubber.add_client_error("get_products", "ThrottlingException", "Rate exceeded", http_status_code=400)
    book = price_book(_routed(account, client), account.state, SETTINGS)
    result = account.run(apply=True, prices=book)
    assert [account.instance_state(i) for i in ids] == ["terminated", "terminated"]
    assert result.counts()["done"] == 2 and not result.publish_errors
    (summary,) = _reaped(account)
    assert summary.endswith("What this saves per month is not known: no list price for 2 of them.")
    assert book.requests == 1
    stubber.assert_no_pending_responses()
    assert account.state.query("price#ec2#us-east-1") == []  # a failure is not cached: the next run asks again


def test_a_pricing_client_that_cannot_be_built_blocks_nothing(account: Account) -> None:
    (old,) = account.instances(1, instance_type="p4d.24xlarge", team="vision", expires_at="2026-12-01")

    def clients(service: str, region: str) -> Any:
        if service == "pricing":
            raise RuntimeError("no endpoint for pricing in this partition")
        return account.clients(service, region)

    result = account.run(apply=True, prices=price_book(clients, account.state, SETTINGS))
    assert account.instance_state(old) == "terminated" and result.counts()["done"] == 1
    (summary,) = _reaped(account)
    assert summary.endswith("What this saves per month is not known: no list price for 1 of them.")


def test_requests_grow_with_types_and_regions_not_with_instances(
    account: Account, pricing: tuple[Any, Stubber]
) -> None:
    client, stubber = pricing
    answer = json.loads(FIXTURE.read_text())
    # p4d.24xlarge and p3.2xlarge in us-east-1, p4d.24xlarge in eu-west-1: one request each (a one-type request
    # takes the answer as that type's, so the recorded p4d answer prices the p3 too).
    for _ in range(3):
        stubber.add_response("get_products", answer)
    expired = {"team": "vision", "expires_at": "2026-12-01"}
    account.instances(4, instance_type="p4d.24xlarge", **expired)
    account.instances(2, instance_type="p3.2xlarge", **expired)
    account.instances(3, region="eu-west-1", instance_type="p4d.24xlarge", **expired)
    book = price_book(_routed(account, client), account.state, SETTINGS)
    result = account.run(apply=True, regions=("us-east-1", "eu-west-1"), prices=book)
    assert result.counts()["done"] == 9
    assert book.requests == 3
    stubber.assert_no_pending_responses()
    (summary,) = _reaped(account)
    assert summary.endswith(f"It saves about ${round(9 * P4D_HOURLY * 730):,}/month at on-demand list prices.")

    # The next run prices new instances of the same types from the state table's snapshot: no request at all.
    account.instances(5, instance_type="p4d.24xlarge", **expired)
    warm = price_book(_routed(account, client), account.state, SETTINGS)
    assert account.run(apply=True, prices=warm).counts()["done"] == 5
    assert warm.requests == 0
    saves = f"It saves about ${round(5 * P4D_HOURLY * 730):,}/month at on-demand list prices."
    assert _reaped(account)[-1].endswith(saves)
