"""The registry is complete: every type declares its IAM, its listing and its ``started_at`` source, and each
declaration names what the AWS API really has (checked against botocore's service models, offline).

A type's fixture (an old resource of it, in moto or on a Stubber) is checked by
``tests/functional/reaper/test_started_at.py::test_every_registered_type_has_a_fixture``."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import pytest
from botocore.model import Shape
from costwarden.resources import REGISTRY, ResourceType
from costwarden.resources.listing import Listing

TYPES = sorted(REGISTRY)


@cache
def _client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name="us-east-1")  # type: ignore[call-overload]


def _iam_action(rtype: ResourceType, call: str) -> str:
    """``describe_instances`` of ``ec2`` → ``ec2:DescribeInstances`` (the IAM prefix is the signing name)."""
    client = _client(rtype.service)
    return f"{client.meta.service_model.signing_name}:{client.meta.method_to_api_mapping[call]}"


def _output(rtype: ResourceType, call: str) -> Shape:
    client = _client(rtype.service)
    shape: Shape = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[call]).output_shape
    return shape


def _member(shape: Shape, path: str) -> Shape | None:
    for part in path.split("."):
        members = getattr(shape, "members", {})
        if part not in members:
            return None
        shape = members[part]
    return shape


def _items(rtype: ResourceType, listing: Listing) -> Shape:
    """The shape of one listed item (``Reservations[].Instances`` walks one level down)."""
    shape = _output(rtype, listing.call)
    for part in listing.key.split("[]."):
        shape = shape.members[part].member  # type: ignore[attr-defined]
    return shape


def _item(rtype: ResourceType) -> Shape:
    """The item the type's ``resource`` reads: the describe's answer when it has one, else the listed item."""
    listing = rtype.listing
    if listing.describe is not None:
        return _member(_output(rtype, listing.describe.call), listing.describe.key)  # type: ignore[return-value]
    return _items(rtype, listing)


@pytest.mark.parametrize("name", TYPES)
def test_every_type_declares_its_iam(name: str) -> None:
    rtype = REGISTRY[name]
    assert rtype.read_permissions and rtype.permissions and rtype.tag_permissions
    assert all(p.tag_conditions for p in (*rtype.permissions, *rtype.tag_permissions)), "tag-conditioned, all"
    assert all(p.resource.startswith("arn:${Partition}:") for p in (*rtype.permissions, *rtype.tag_permissions))


@pytest.mark.parametrize("name", TYPES)
def test_every_listing_call_exists_and_its_read_permission_is_declared(name: str) -> None:
    rtype = REGISTRY[name]
    listing = rtype.listing
    client = _client(rtype.service)
    assert client.can_paginate(listing.call), f"{listing.call} is not a paginated call of {rtype.service}"
    calls = [listing.call]
    if listing.within is not None:
        assert client.can_paginate(listing.within.call)
        calls.append(listing.within.call)
    if listing.describe is not None:
        describe_input = client.meta.service_model.operation_model(
            client.meta.method_to_api_mapping[listing.describe.call]
        ).input_shape
        assert listing.describe.param in describe_input.members
        calls.append(listing.describe.call)
    assert {_iam_action(rtype, call) for call in calls} <= set(rtype.read_permissions)


@pytest.mark.parametrize("name", TYPES)
def test_every_type_reads_started_at_from_a_timestamp_the_api_returns(name: str) -> None:
    rtype = REGISTRY[name]
    listing = rtype.listing
    item = _item(rtype)
    date = _member(item, listing.date_field)
    assert date is not None and date.type_name == "timestamp", f"{name}: {listing.date_field} is not a timestamp"
    assert _member(item, listing.id_field) is not None
    if listing.tags_field:
        assert _member(item, listing.tags_field) is not None
    if rtype.tagging_type is None:
        assert _member(item, listing.arn_field) is not None, "own-listing types take the ARN from the item"
    else:
        assert _member(_items(rtype, listing), listing.id_field) is not None, "tagging types match listed ids"


def test_the_registry_knows_every_arn_shape_once() -> None:
    shapes = [t.arn_match for t in REGISTRY.values()]
    assert len(shapes) == len(set(shapes))
    assert "ec2:capacity-reservation" in REGISTRY  # the type added by declarations alone (issue 19)


def test_started_at_is_aware_utc_or_none_never_a_guess() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from costwarden.resources.listing import aware_time, value_at

    paris = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert aware_time(paris) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert aware_time(datetime(2026, 12, 1, 8, 0)) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # naive: UTC
    assert aware_time("2026-12-01T08:00:00+00:00") == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    hostile: tuple[object, ...] = (None, "", "yesterday", 1764576000, {})
    assert [aware_time(v) for v in hostile] == [None] * 5
    item = {"Status": {"Timeline": {"CreationDateTime": paris}}, "State": "x"}
    assert value_at(item, "Status.Timeline.CreationDateTime") is paris
    assert value_at(item, "State.Name") is None and value_at(item, "Missing.Path") is None
