"""EC2 On-Demand Capacity Reservations: cancel. A reservation bills at the On-Demand rate for every reserved
instance slot, used or not, until it ends — an experiment's forgotten reservation costs as much as its instances.

Found through the tagging API (``ec2:capacity-reservation``, the selectors as its tag filters), hydrated with one
paginated ``DescribeCapacityReservations`` (1,000 per page) over the live reservations (the documented ``state``
filter: ``active``, ``pending``) matched by id — a reservation that ended meanwhile is simply absent. ``CreateDate``
is ``started_at``. Cancelled with ``CancelCapacityReservation``, one reservation a call (there is no batch call); one
AWS refuses (a commitment not yet over) fails only itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from costwarden.resources.base import Clients, Ec2Tagged, Permission, each_result
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

RESERVATION_ARN = "arn:${Partition}:ec2:${Region}:${Account}:capacity-reservation/*"
#: States of a reservation that still reserves (and bills, once active); the rest are over.
LIVE_STATES = ("active", "pending")


class CapacityReservation(Ec2Tagged):
    name = "ec2:capacity-reservation"
    service = "ec2"
    tagging_type = "ec2:capacity-reservation"
    arn_match = ("ec2", "capacity-reservation")
    listing = Listing(
        "describe_capacity_reservations",
        "CapacityReservations",
        "CapacityReservationId",
        "CreateDate",
        params=(("Filters", [{"Name": "state", "Values": list(LIVE_STATES)}]),),
        page_size=1000,
    )
    action = "cancel"
    read_permissions = ("ec2:DescribeCapacityReservations",)
    permissions: ClassVar[tuple[Permission, ...]] = (Permission(("ec2:CancelCapacityReservation",), RESERVATION_ARN),)
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:CreateTags",), RESERVATION_ARN, purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        state = str(item.get("State", ""))
        return self.new(
            arn,
            region,
            item["CapacityReservationId"],
            tags,
            state,
            active=state in LIVE_STATES,
            details={
                "instance_type": item.get("InstanceType", ""),
                "total_instances": item.get("TotalInstanceCount"),
                "available_instances": item.get("AvailableInstanceCount"),
                "availability_zone": item.get("AvailabilityZone", ""),
            },
        )

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        return each_result(resources, lambda r: ec2.cancel_capacity_reservation(CapacityReservationId=r.id))
