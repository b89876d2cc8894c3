"""EC2 Capacity Reservations, the idle check added through the registry: on moto (which gains the calls from
``costwarden.demo.moto_capacity``) for the scan, and on botocore's Stubber (real response shapes, validated against
the service model) for the adapter's paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.idle_describe import AwsDescriber
from costwarden.idle.checks.capacity_reservation import CapacityReservations
from costwarden.idle.model import Kind
from costwarden.settings import parse_settings

from tests.functional.idle.idle_env import IdleAccount, constant

DEV = {"environment": "development"}


def reserve(acc: IdleAccount, instance_type: str, count: int, platform: str = "Linux/UNIX", **tags: str) -> str:
    spec = [{"ResourceType": "capacity-reservation", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    out = acc.client("ec2").create_capacity_reservation(
        InstanceType=instance_type,
        InstancePlatform=platform,
        AvailabilityZone="us-east-1a",
        InstanceCount=count,
        TagSpecifications=spec if tags else [],
    )
    return str(out["CapacityReservation"]["CapacityReservationId"])


def used(acc: IdleAccount, reservation: str, value: float, **kw: Any) -> None:
    acc.put(
        "AWS/EC2CapacityReservations",
        "UsedInstanceCount",
        {"CapacityReservationId": reservation},
        constant(value),
        **kw,
    )


def test_an_unused_reservation_is_idle_priced_at_on_demand_times_count(idle_account: IdleAccount) -> None:
    acc = idle_account
    unused = reserve(acc, "m5.large", 2, team="nlp", **DEV)
    used(acc, unused, 0.0)
    was_used = reserve(acc, "m5.xlarge", 1, team="nlp", **DEV)
    used(acc, was_used, 0.0)
    acc.put(
        "AWS/EC2CapacityReservations",
        "UsedInstanceCount",
        {"CapacityReservationId": was_used},
        constant(1.0),
        hours=3,
    )
    windows = reserve(acc, "m5.large", 1, platform="Windows", team="vision", **DEV)
    used(acc, windows, 0.0)
    silent = reserve(acc, "t3.micro", 1, team="search")  # no UsedInstanceCount at all: never read as idle
    run = acc.idle(publish=False)
    found = {f.id: f for f in run.findings}
    finding = found[unused]
    assert (finding.kind, finding.type, finding.team) == (Kind.IDLE, "ec2:capacity-reservation", "nlp")
    assert finding.monthly_usd == pytest.approx(0.096 * 730 * 2)
    assert "no instance ran in it over 7 days: 2 x m5.large reserved, 2 available" in finding.evidence
    assert (
        finding.commands[0]
        == f"aws ec2 cancel-capacity-reservation --region us-east-1 --capacity-reservation-id {unused}"
    )
    assert finding.commands[-1].endswith("--tags costwarden:expected-idle=true")
    assert finding.arn == f"arn:aws:ec2:us-east-1:123456789012:capacity-reservation/{unused}"
    assert was_used not in found and finding.arn.replace(unused, was_used) in run.scan.busy
    assert found[windows].monthly_usd is None and "only Linux/UNIX" in found[windows].price_note
    assert silent not in found
    assert any(n.arn.endswith(silent) and "no UsedInstanceCount data points" in n.reason for n in run.scan.not_judged)
    # one listing call per region, and the reservations' metrics ride in the lookback's one GetMetricData call
    assert acc.requests["DescribeCapacityReservations"] == 1
    assert acc.requests["GetMetricData"] == 1
    assert not run.scan.errors


def test_a_reservation_in_use_now_is_busy_and_expected_idle_is_left_out(idle_account: IdleAccount) -> None:
    acc = idle_account
    busy = reserve(acc, "m5.large", 2, team="nlp", **DEV)
    used(acc, busy, 0.0)
    acc.box("m5.large", team="nlp", **DEV)  # an open reservation is used by a running instance of its type and zone
    quiet = reserve(acc, "m5.large", 1, team="nlp", **{"costwarden:expected-idle": "true"})
    used(acc, quiet, 0.0)
    run = acc.idle(publish=False)
    assert not [f for f in run.findings if f.type == "ec2:capacity-reservation"]
    assert any(arn.endswith(busy) for arn in run.scan.busy)
    assert run.scan.expected_idle == 1


def test_idle_reservations_are_marked_for_the_reaper(idle_account: IdleAccount) -> None:
    """Marks go through the reaper's registry, which has capacity reservations (cancelled once expired)."""
    acc = idle_account
    unused = reserve(acc, "m5.large", 1, team="nlp", **DEV)
    used(acc, unused, 0.0)
    run = acc.idle(parse_settings({"idle": {"action": "expire"}}), apply=True, publish=False)
    assert [f.id for f in run.findings] == [unused]
    [mark] = [d for d in run.decisions if d.arn.endswith(unused)]
    assert mark.status.value == "done", mark.reason
    ec2 = boto3.client("ec2", region_name="us-east-1")
    [item] = ec2.describe_capacity_reservations(CapacityReservationIds=[unused])["CapacityReservations"]
    assert "expires_at" in {t["Key"] for t in item["Tags"]}


def _item(rid: str, *, available: int) -> dict[str, Any]:
    """A ``CapacityReservation`` as the EC2 API reference documents it (Stubber validates it against the model)."""
    return {
        "CapacityReservationId": rid,
        "OwnerId": "123456789012",
        "CapacityReservationArn": f"arn:aws:ec2:us-east-1:123456789012:capacity-reservation/{rid}",
        "AvailabilityZoneId": "use1-az1",
        "InstanceType": "p4d.24xlarge",
        "InstancePlatform": "Linux/UNIX",
        "AvailabilityZone": "us-east-1a",
        "Tenancy": "default",
        "TotalInstanceCount": 2,
        "AvailableInstanceCount": available,
        "EbsOptimized": True,
        "EphemeralStorage": False,
        "State": "active",
        "StartDate": datetime(2026, 11, 1, tzinfo=UTC),
        "EndDateType": "unlimited",
        "InstanceMatchCriteria": "open",
        "CreateDate": datetime(2026, 11, 1, tzinfo=UTC),
        "Tags": [{"Key": "team", "Value": "vision"}],
        "ReservationType": "default",
    }


def test_the_listing_follows_pages_one_request_each_with_the_state_filter() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    expected = {"Filters": [{"Name": "state", "Values": ["active"]}]}
    with Stubber(ec2) as stub:
        stub.add_response(
            "describe_capacity_reservations",
            {"CapacityReservations": [_item("cr-0123456789abcdef0", available=2)], "NextToken": "page-2"},
            expected,
        )
        stub.add_response(
            "describe_capacity_reservations",
            {"CapacityReservations": [_item("cr-0123456789abcdef1", available=1)]},
            {**expected, "NextToken": "page-2"},
        )
        check = CapacityReservations()
        assert check.listing is not None
        items = AwsDescriber(lambda service, region: ec2).list_all("us-east-1", check.listing)
        stub.assert_no_pending_responses()
    resources = [check.resource(item, "us-east-1") for item in items]
    assert [(r.id, r.details["available"], r.details["total"]) for r in resources] == [
        ("cr-0123456789abcdef0", 2, 2),
        ("cr-0123456789abcdef1", 1, 2),
    ]
    assert resources[0].tags == {"team": "vision"} and resources[0].type == "ec2:capacity-reservation"
