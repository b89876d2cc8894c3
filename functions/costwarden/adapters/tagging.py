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


def _default_factory(service: str, region: str) -> Any:
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


def scan(regions: Iterable[str], client_factory: ClientFactory = _default_factory) -> ScanResult:
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
