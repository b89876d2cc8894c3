"""Fixtures in the real response shapes (tests/fixtures/advisor), served through botocore's ``Stubber``, which
validates both our requests and the fixtures against the service model; and the setup several advisor modules share
(the tag settings, stubbed clients, the purchase mix's expected requests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "advisor"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    for item in data.get("SpotPriceHistory", []):  # a timestamp shape: botocore parses it into a datetime
        item["Timestamp"] = datetime.fromisoformat(item["Timestamp"].replace("Z", "+00:00"))
    return data


#: Non-default tag keys (``owner`` / ``env``) the advisor tests configure: the advisor must read the configured keys.
OWNER_TAGS: dict[str, Any] = {
    "tags": {
        "team_key": "owner",
        "environment_key": "env",
        "required": ["owner", "env"],
        "optional": [],
        "allowed_values": {},
    }
}


@contextmanager
def stubbed_clients(*services: str) -> Iterator[tuple[list[Any], list[Stubber]]]:
    """A real boto3 client per service, each behind an active ``Stubber``; every stub must be drained at the end."""
    make: Any = boto3.client  # typed per literal service name; these names are the caller's
    clients = [make(service, region_name="us-east-1") for service in services]
    with ExitStack() as stack:
        stubs = [stack.enter_context(Stubber(client)) for client in clients]
        yield clients, stubs
        for stub in stubs:
            stub.assert_no_pending_responses()


def mix_filter_expected() -> dict[str, Any]:
    """The purchase-mix filter under ``OWNER_TAGS`` with ``mix_tag_values={"phase": ["training"]}``."""
    return {
        "And": [
            {
                "Or": [
                    {"Tags": {"Key": "env", "Values": ["development", "experiment"], "MatchOptions": ["EQUALS"]}},
                    {"Tags": {"Key": "phase", "Values": ["training"], "MatchOptions": ["EQUALS"]}},
                ]
            },
            {
                "Dimensions": {
                    "Key": "SERVICE",
                    "Values": ["Amazon Elastic Compute Cloud - Compute", "Amazon SageMaker"],
                }
            },
            {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund", "Tax"]}}},
        ]
    }


def stub_mix_reads(ce_stub: Stubber, ec2_stub: Stubber) -> None:
    """The purchase mix's exact requests for the month to 2026-12-02: two Cost Explorer calls, one spot history."""
    period = {"Start": "2026-11-02", "End": "2026-12-02"}
    group = {"Type": "TAG", "Key": "owner"}
    ce_stub.add_response(
        "get_cost_and_usage",
        fixture("ce_get_cost_and_usage.team_purchase_type.json"),
        {
            "TimePeriod": period,
            "Granularity": "MONTHLY",
            "Metrics": ["AmortizedCost"],
            "GroupBy": [group, {"Type": "DIMENSION", "Key": "PURCHASE_TYPE"}],
            "Filter": mix_filter_expected(),
        },
    )
    on_demand = {"Dimensions": {"Key": "PURCHASE_TYPE", "Values": ["On Demand Instances"]}}
    ce_stub.add_response(
        "get_cost_and_usage",
        fixture("ce_get_cost_and_usage.team_usage_type_on_demand.json"),
        {
            "TimePeriod": period,
            "Granularity": "MONTHLY",
            "Metrics": ["AmortizedCost", "UsageQuantity"],
            "GroupBy": [group, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "Filter": {"And": [mix_filter_expected(), on_demand]},
        },
    )
    ec2_stub.add_response(
        "describe_spot_price_history",
        fixture("ec2_describe_spot_price_history.json"),
        {
            "InstanceTypes": ["m5.large", "p3.8xlarge"],
            "ProductDescriptions": ["Linux/UNIX"],
            "StartTime": ANY,
            "EndTime": ANY,
        },
    )
