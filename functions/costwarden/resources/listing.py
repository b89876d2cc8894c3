"""How a resource type is enumerated, declared once (Cloud Custodian's ``enum_spec``): the ``Listing`` every type
carries, read by ``ResourceType.hydrate`` / ``list_resources`` (``resources/base.py``), and the one reading of a
launch or creation time (``aware_time``) that becomes ``Resource.started_at``. Plain data: no AWS SDK here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def value_at(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a response item (``Status.Timeline.CreationDateTime``), None when absent."""
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def aware_time(value: Any) -> datetime | None:
    """A boto3 timestamp (aware datetime), naive datetime (taken as UTC) or ISO 8601 text as an aware UTC datetime;
    None for anything else (absent, empty, unparsable): a launch time the service did not give is unknown, not now."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


#: Ids per describe call for types hydrated by an id filter (``DescribeInstances`` accepts 200 values a filter).
DESCRIBE_BATCH = 200


@dataclass(frozen=True)
class Describe:
    """A per-item describe call, for services whose listing lacks tags or state (EMR ``DescribeCluster``, EKS
    ``DescribeNodegroup``): ``call(**{param: item id})[key]`` is the item. A resource deleted between the listing and
    its describe answers one of the ``gone`` error codes: it is skipped and the region's others are kept. Any other
    error fails the type's listing for the region (reported; nothing half-read is acted on)."""

    call: str
    key: str
    param: str
    gone: tuple[str, ...] = ("ResourceNotFoundException",)


@dataclass(frozen=True)
class Within:
    """A listing nested in a parent listing (EKS node groups per cluster): ``call`` lists the parents' ids under
    ``key``; each id is passed as ``param`` to the type's own list call and to its describe."""

    call: str
    key: str
    param: str


@dataclass(frozen=True)
class Listing:
    """How a type is enumerated, declared once (Cloud Custodian's ``enum_spec``), every page followed.

    ``call`` is the boto3 paginator, ``key`` the result key of the items (``Reservations[].Instances`` for items one
    level down), ``id_field`` the item's id (what its ARN ends with), ``date_field`` the dotted path of its launch or
    creation time (``Resource.started_at``). ``tags_field`` names the item's tags (``[{Key, Value}]`` or ``{k: v}``);
    "" when the listing carries none (SageMaker summaries), the tagging API's tags are used. ``arn_field``: the item's
    ARN (own-listing types). ``params`` are constant request parameters (``StatusEquals=InProgress``); ``page_size``
    None where the call takes none.

    Tagging-API types hydrate with ``id_filter`` (describe by that filter, ``DESCRIBE_BATCH`` ids a call: EC2), or
    else by one pass over the whole list matched by id (services with no batch describe: SageMaker). Own-listing types
    pass each selector as a server-side tag filter when ``tag_filters`` (Auto Scaling), else select by tags here.
    """

    call: str
    key: str
    id_field: str
    date_field: str
    tags_field: str = "Tags"
    arn_field: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    page_size: int | None = 100
    id_filter: str = ""
    tag_filters: bool = False
    describe: Describe | None = None
    within: Within | None = None


def items_at(page: Mapping[str, Any], key: str) -> list[Any]:
    """The items of one page under ``key`` (``Outer[].Inner``: each outer item's inner list, flattened)."""
    outer, _, inner = key.partition("[].")
    if not inner:
        return list(page.get(key, []))
    return [item for group in page.get(outer, []) for item in group.get(inner, [])]


def tag_filter(key: str, value: str | None) -> dict[str, Any]:
    """The EC2-style server-side filter for one selector: ``tag-key`` (any value) or ``tag:<key>`` (that value)."""
    return {"Name": "tag-key", "Values": [key]} if value is None else {"Name": f"tag:{key}", "Values": [value]}
