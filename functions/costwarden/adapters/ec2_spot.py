"""EC2 ``DescribeSpotPriceHistory``: the region's current spot prices for the instance types a team ran on demand.

Asked for the types at hand only, with ``StartTime`` now (AWS then returns the price in force per zone), Linux only;
pages are followed and counted. moto answers with placeholder prices: tests use botocore's ``Stubber``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from costwarden.adapters import aws

#: Instance types per request: keeps the request small; the answer is one price per type and zone.
TYPES_PER_REQUEST = 100


@dataclass
class SpotPrices:
    region: str
    ec2: Any = None
    requests: int = 0

    def __post_init__(self) -> None:
        self.ec2 = self.ec2 or aws.client("ec2", self.region)

    def history(self, instance_types: Sequence[str], now: datetime) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        types = sorted(set(instance_types))
        for first in range(0, len(types), TYPES_PER_REQUEST):
            params: dict[str, Any] = {
                "InstanceTypes": types[first : first + TYPES_PER_REQUEST],
                "ProductDescriptions": ["Linux/UNIX"],
                "StartTime": now,
                "EndTime": now,
            }
            for page in aws.token_pages(self._describe, params, "NextToken"):
                items.extend(page.get("SpotPriceHistory", []))
        return items

    def _describe(self, params: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        page: dict[str, Any] = self.ec2.describe_spot_price_history(**params)
        return page
