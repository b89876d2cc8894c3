"""EC2 On-Demand Capacity Reservations for the simulator: moto (5.2) implements none of their calls, and the idle
finder lists them on every scan, so the demo, the CLI and the tests on moto need them answered.

``install()`` adds ``CreateCapacityReservation``, ``DescribeCapacityReservations`` (ids, ``state`` and
``instance-type`` filters, ``MaxResults``/``NextToken`` pages), ``CancelCapacityReservation``, and ``CreateTags`` /
``DeleteTags`` on reservations to moto's EC2 responses, in process and in ``ThreadedMotoServer`` alike; moto
serialises the answers from the botocore model, so their shape is AWS's. Reservations live on moto's EC2 backend (a
moto reset clears them). As in AWS, an ``open`` reservation is used by running instances of its type in its
Availability Zone: ``AvailableInstanceCount`` is the total less those. Simulator only: no Lambda bundle imports this.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

_STORE = "_costwarden_capacity_reservations"
_DEFAULT_PAGE = 1000


def _store(response: Any) -> dict[str, dict[str, Any]]:
    backend = response.ec2_backend
    store: dict[str, dict[str, Any]] | None = getattr(backend, _STORE, None)
    if store is None:
        store = {}
        setattr(backend, _STORE, store)
    return store


def _used(response: Any, item: dict[str, Any]) -> int:
    if item["InstanceMatchCriteria"] != "open" or item["State"] != "active":
        return 0
    running = [
        i
        for i in response.ec2_backend.all_instances()
        if i.state == "running"
        and i.instance_type == item["InstanceType"]
        and i.availability_zone == item["AvailabilityZone"]
    ]
    return min(len(running), int(item["TotalInstanceCount"]))


def _view(response: Any, item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    out["AvailableInstanceCount"] = item["TotalInstanceCount"] - _used(response, item)
    return out


def _create(self: Any) -> Any:
    from moto.core.responses import ActionResult

    rid = f"cr-{uuid.uuid4().hex[:17]}"
    region, account = self.region, self.current_account
    tags = self._parse_tag_specification("capacity-reservation").get("capacity-reservation", {})
    now = datetime.now(UTC)
    item = {
        "CapacityReservationId": rid,
        "OwnerId": account,
        "CapacityReservationArn": f"arn:aws:ec2:{region}:{account}:capacity-reservation/{rid}",
        "InstanceType": self._get_param("InstanceType"),
        "InstancePlatform": self._get_param("InstancePlatform"),
        "AvailabilityZone": self._get_param("AvailabilityZone") or f"{region}a",
        "Tenancy": self._get_param("Tenancy") or "default",
        "TotalInstanceCount": int(self._get_param("InstanceCount")),
        "EbsOptimized": bool(self._get_param("EbsOptimized", False)),
        "EphemeralStorage": False,
        "State": "active",
        "StartDate": now,
        "EndDateType": self._get_param("EndDateType") or "unlimited",
        "InstanceMatchCriteria": self._get_param("InstanceMatchCriteria") or "open",
        "CreateDate": now,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        "ReservationType": "default",
    }
    _store(self)[rid] = item
    return ActionResult({"CapacityReservation": _view(self, item)})


def _describe(self: Any) -> Any:
    from moto.core.responses import ActionResult

    ids = self._get_param("CapacityReservationIds", [])
    filters = self._filters_from_querystring()
    items = [_view(self, item) for item in _store(self).values() if not ids or item["CapacityReservationId"] in ids]
    for name, field in (("state", "State"), ("instance-type", "InstanceType")):
        if name in filters:
            items = [i for i in items if i[field] in filters[name]]
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or _DEFAULT_PAGE)
    result: dict[str, Any] = {"CapacityReservations": items[start : start + size]}
    if start + size < len(items):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def _cancel(self: Any) -> Any:
    from moto.core.responses import ActionResult

    rid = self._get_param("CapacityReservationId")
    item = _store(self).get(rid)
    if item is not None:
        item["State"] = "cancelled"
    return ActionResult({"Return": item is not None})


def _retag(self: Any, original: Any, *, delete: bool) -> Any:
    """``CreateTags`` / ``DeleteTags`` on reservations (the reaper's and idle finder's marks), else moto's own."""
    from moto.core.responses import EmptyResult

    ids = self._get_param("Resources", [])
    store = _store(self)
    if not ids or not all(rid in store for rid in ids):
        return original(self)
    changes = {tag["Key"]: tag.get("Value") for tag in self._get_param("Tags", [])}
    for rid in ids:
        current = {t["Key"]: t["Value"] for t in store[rid]["Tags"]}
        if delete:
            current = {k: v for k, v in current.items() if k not in changes}
        else:
            current.update(changes)
        store[rid]["Tags"] = [{"Key": k, "Value": v} for k, v in current.items()]
    return EmptyResult()


def install() -> None:
    """Add the calls to moto's EC2 responses (idempotent)."""
    from moto.ec2.responses import EC2Response

    if not getattr(EC2Response, "_costwarden_capacity", False):
        create_tags, delete_tags = EC2Response.create_tags, EC2Response.delete_tags
        EC2Response.create_tags = lambda self: _retag(self, create_tags, delete=False)  # type: ignore[method-assign]
        EC2Response.delete_tags = lambda self: _retag(self, delete_tags, delete=True)  # type: ignore[method-assign]
        EC2Response._costwarden_capacity = True  # type: ignore[attr-defined]
    EC2Response.create_capacity_reservation = _create  # type: ignore[attr-defined]
    EC2Response.describe_capacity_reservations = _describe  # type: ignore[attr-defined]
    EC2Response.cancel_capacity_reservation = _cancel  # type: ignore[attr-defined]
