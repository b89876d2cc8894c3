"""EC2 On-Demand Capacity Reservations that nothing runs in: an unused reservation bills at the on-demand rate of
its instance type for every reserved instance, whether or not an instance uses it.

Listed with ``DescribeCapacityReservations`` (``state=active``, paged: the reaper's registry has no such type).
Idle when nothing ran in it over the lookback: ``AvailableInstanceCount == TotalInstanceCount`` now, and the hourly
``Maximum`` of ``UsedInstanceCount`` (AWS/EC2CapacityReservations, published for every active reservation) is 0 in
every hour — with the shared rules: younger than the lookback, or too few hours with data, is not judged. Priced as
the instance type's EC2 on-demand price x ``TotalInstanceCount`` (the Price List key ``ec2``: Linux/UNIX, shared
tenancy; another platform or dedicated tenancy is not priced, never guessed). Capacity Blocks for ML are paid up
front and cannot be cancelled: not checked.
"""

from __future__ import annotations

from typing import Any

from costwarden.idle.checks.base import HOUR, Candidate, IdleCheck, Priced, RegionScan, aware
from costwarden.idle.judge import Points, Verdict, days_text, hourly, too_young
from costwarden.idle.model import Kind
from costwarden.models.idle_ports import Listing, MetricQuery
from costwarden.resources.model import Resource

TYPE = "ec2:capacity-reservation"
PRICED_PLATFORM, PRICED_TENANCY = "Linux/UNIX", "default"


class CapacityReservations(IdleCheck):
    name = "ec2-capacity-reservation"
    types = (TYPE,)
    kinds = frozenset({Kind.IDLE})
    prices = ("ec2",)
    listing = Listing(
        "ec2",
        "describe_capacity_reservations",
        "CapacityReservations",
        "ec2 capacity reservations",
        {"Filters": [{"Name": "state", "Values": ["active"]}]},
    )
    reads = ("ec2:DescribeCapacityReservations", "cloudwatch:GetMetricData")

    def resource(self, item: dict[str, Any], region: str) -> Resource:
        return Resource(
            arn=str(item.get("CapacityReservationArn", "")),
            type=TYPE,
            region=region,
            id=str(item.get("CapacityReservationId", "")),
            tags={str(t.get("Key", "")): str(t.get("Value", "")) for t in item.get("Tags", [])},
            state=str(item.get("State", "")),
            details={
                "instance_type": str(item.get("InstanceType", "")),
                "platform": str(item.get("InstancePlatform", "")),
                "tenancy": str(item.get("Tenancy", "")),
                "total": int(item.get("TotalInstanceCount") or 0),
                "available": int(item.get("AvailableInstanceCount") or 0),
                "created": item.get("CreateDate") or item.get("StartDate"),
                "reservation_type": str(item.get("ReservationType", "default")),
            },
        )

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.list(self) if r.details["reservation_type"] != "capacity-block"]

    def queries(self, scan: RegionScan, resource: Resource, facts: Any) -> list[MetricQuery]:
        dims = (("CapacityReservationId", resource.id),)
        return [MetricQuery("AWS/EC2CapacityReservations", "UsedInstanceCount", dims, "Maximum", HOUR)]

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict:
        details, window = candidate.resource.details, scan.window
        if reason := too_young(aware(details["created"]), window):
            return Verdict(None, reason, judged=False)
        total, available = details["total"], details["available"]
        if available < total:
            return Verdict(None, f"{total - available} of {total} instances run in it")
        hours = hourly(series[0], window)
        lookback = days_text(window.days)
        if not hours:
            return Verdict(None, f"no UsedInstanceCount data points over {lookback}", judged=False)
        if max(hours.values()) > 0:
            return Verdict(None, f"up to {max(hours.values()):.0f} of {total} instances ran in it over {lookback}")
        if len(hours) < scan.cfg.min_coverage * max(window.hours, 1):
            return Verdict(None, f"only {len(hours)} of {window.hours} hours have UsedInstanceCount data", judged=False)
        return Verdict(
            Kind.IDLE,
            f"no instance ran in it over {lookback}: {total} x {details['instance_type']} reserved, "
            f"{available} available ({len(hours)} hours of UsedInstanceCount = 0)",
        )

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        details = candidate.resource.details
        if (details["platform"], details["tenancy"]) != (PRICED_PLATFORM, PRICED_TENANCY):
            return None, (
                f"only {PRICED_PLATFORM} reservations on shared tenancy are priced (this one: {details['platform']}, "
                f"{details['tenancy']} tenancy)"
            )
        return scan.price(self, "ec2", details["instance_type"], details["total"])

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        return "cancel the reservation (it bills at the on-demand rate while nothing runs in it)", [
            f"aws ec2 cancel-capacity-reservation --region {resource.region} --capacity-reservation-id {resource.id}"
        ]
