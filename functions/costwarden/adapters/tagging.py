"""Resource Groups Tagging API: every tagged resource of the account, region by region, every page followed.

``GetResources`` returns resources that carry (or once carried) at least one tag; a resource never tagged at all
is not returned (real AWS documents this; older resources may come back with ``Tags: []``). Its pages end on a
``PaginationToken`` that is empty or absent. A region that fails (not enabled, access denied, throttled beyond
botocore's retries) is reported and the other regions go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from costwarden.adapters import aws

ClientFactory = Callable[[str, str], Any]
#: The API's maximum page size.
PAGE_SIZE = 100


@dataclass(frozen=True)
class TaggedResource:
    arn: str
    region: str
    tags: dict[str, str]


@dataclass
class ScanResult:
    resources: list[TaggedResource] = field(default_factory=list)
    #: region → error message, for regions that could not be scanned.
    failed_regions: dict[str, str] = field(default_factory=dict)
    pages: int = 0


def default_client_factory(service: str, region: str) -> Any:
    return aws.client(service, region)


def scan_region(client: Any, region: str) -> tuple[list[TaggedResource], int]:
    """All tag mappings of one region (every page)."""
    found: list[TaggedResource] = []
    token = ""
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"ResourcesPerPage": PAGE_SIZE}
        if token:
            kwargs["PaginationToken"] = token
        response = client.get_resources(**kwargs)
        pages += 1
        for mapping in response.get("ResourceTagMappingList", []):
            tags = {tag["Key"]: tag.get("Value", "") for tag in mapping.get("Tags", [])}
            found.append(TaggedResource(mapping["ResourceARN"], region, tags))
        token = response.get("PaginationToken") or ""
        if not token:
            return found, pages


def scan(regions: Iterable[str], client_factory: ClientFactory = default_client_factory) -> ScanResult:
    """Scan every region; failures are collected per region, never raised."""
    result = ScanResult()
    for region in regions:
        try:
            found, pages = scan_region(client_factory("resourcegroupstaggingapi", region), region)
        except (ClientError, BotoCoreError) as error:
            result.failed_regions[region] = str(error)
            continue
        result.resources.extend(found)
        result.pages += pages
    return result


#: EC2 instance states whose tags the tagging API still returns but which no longer cost anything.
GONE_STATES = frozenset({"shutting-down", "terminated"})
#: Instance ids per DescribeInstances filter value list.
ID_BATCH = 200


def _instance_id(arn: str) -> str | None:
    """``i-0abc`` from ``arn:aws:ec2:<region>:<account>:instance/i-0abc``, else None."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "ec2" and parts[5].startswith("instance/"):
        return parts[5].removeprefix("instance/")
    return None


def drop_terminated_instances(
    resources: list[TaggedResource], client_factory: ClientFactory = default_client_factory
) -> tuple[list[TaggedResource], int, dict[str, str]]:
    """Leave out EC2 instances that are terminated (or terminating, or gone): the tagging API keeps returning them.

    Returns (kept, how many were dropped, region → error). A region whose instances cannot be described keeps
    them all (better a stale line in a report than a silently missing one).
    """
    by_region: dict[str, list[str]] = {}
    for resource in resources:
        instance_id = _instance_id(resource.arn)
        if instance_id is not None:
            by_region.setdefault(resource.region, []).append(instance_id)
    alive: set[str] = set()
    errors: dict[str, str] = {}
    checked: set[str] = set()
    for region, ids in by_region.items():
        ec2 = client_factory("ec2", region)
        try:
            for start in range(0, len(ids), ID_BATCH):
                kwargs: dict[str, Any] = {"Filters": [{"Name": "instance-id", "Values": ids[start : start + ID_BATCH]}]}
                while True:
                    page = ec2.describe_instances(**kwargs)
                    for reservation in page.get("Reservations", []):
                        for instance in reservation.get("Instances", []):
                            if instance.get("State", {}).get("Name") not in GONE_STATES:
                                alive.add(instance["InstanceId"])
                    if not page.get("NextToken"):
                        break
                    kwargs["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as error:
            errors[region] = str(error)
            continue
        checked.update(ids)
    kept = [r for r in resources if (_instance_id(r.arn) or "") not in checked - alive]
    return kept, len(resources) - len(kept), errors
