"""What a member account's reap saves (issue 22), priced by the hub: the organization item handler builds the one
price book (``services.prices.price_book``) with its own role and hands it to the member's ``run_reaper`` through
``ItemContext.prices``. The Price List is botocore's Stubber with the recorded answer (moto has no ``pricing``);
the member's instances are moto's, reached through the member role as deployed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.pricing import PRICING_REGION
from costwarden.handlers import org_item
from costwarden.handlers.context import LocalContext
from costwarden.services import prices as prices_module

from .conftest import EXPIRED, Org, configure, create_state_table

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "idle" / "get_products_ec2.json"
P4D_HOURLY = 32.7726  # the recorded answer's on-demand price of p4d.24xlarge
ORG = {"enabled": True, "organization_id": "o-abcdefghij", "deployment_targets": ["r-ab12"], "regions": ["us-east-1"]}


@pytest.fixture
def pricing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The hub's ``pricing`` client answered by a Stubber; every other client is the handler's own (moto)."""
    client = boto3.client("pricing", region_name=PRICING_REGION)
    built = prices_module.price_book

    def book(clients: Any, state: Any, settings: Any) -> Any:
        return built(lambda s, r: client if s == "pricing" else clients(s, r), state, settings)

    monkeypatch.setattr(org_item, "price_book", book)
    with Stubber(client) as stubber:
        yield stubber


def _act(org: Org, account: str) -> dict[str, Any]:
    item = {
        "capability": "reaper",
        "account_id": account,
        "account_name": "vision",
        "region": "us-east-1",
        "role_name": "costwarden-member-reaper",
        "account_team": "vision",
        "phase": "act",
        "approved_actions": 5,
    }
    return org_item.handler({"item": item}, LocalContext("org-item"))  # type: ignore[arg-type]


def test_a_member_reap_says_what_it_saves_priced_by_the_hub(
    org: Org, monkeypatch: pytest.MonkeyPatch, pricing: Stubber
) -> None:
    vision = org.accounts["vision"]
    ec2 = org.member(vision, "ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [{"Key": "expires_at", "Value": EXPIRED}, {"Key": "team", "Value": "vision"}]
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        InstanceType="p4d.24xlarge",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    pricing.add_response("get_products", json.loads(FIXTURE.read_text()))
    create_state_table(monkeypatch)
    configure(monkeypatch, reaper={"dry_run": False}, organization=ORG)

    outcome = _act(org, vision)

    assert outcome["ok"] and outcome["counts"]["done"] == 2
    pricing.assert_no_pending_responses()  # one request for the one type, through the hub's client
    (reaped,) = [a for a in org.alerts() if a["kind"] == "reaped"]
    saves = f"It saves about ${round(2 * P4D_HOURLY * 730):,}/month at on-demand list prices."
    assert reaped["summary"].endswith(saves)


def test_a_refusing_price_list_blocks_neither_the_member_reap_nor_its_alert(
    org: Org, monkeypatch: pytest.MonkeyPatch, pricing: Stubber
) -> None:
    vision = org.accounts["vision"]
    (instance,) = org.instances(vision, expires_at=EXPIRED, team="vision")
    pricing.add_client_error("get_products", "AccessDeniedException", "not authorized", http_status_code=400)
    create_state_table(monkeypatch)
    configure(monkeypatch, reaper={"dry_run": False}, organization=ORG)

    outcome = _act(org, vision)

    assert outcome["ok"] and org.state_of(vision, instance) == "terminated"
    (reaped,) = [a for a in org.alerts() if a["kind"] == "reaped"]
    assert "What this saves per month is not known" in reaped["summary"]
