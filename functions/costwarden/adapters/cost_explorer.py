"""Cost Explorer ``GetCostAndUsage``: daily cost grouped by tags, every page followed, throttling survived.

Cost Explorer bills $0.01 per request and every page is a request, so this adapter counts them (``requests``).
There is no botocore paginator for ``GetCostAndUsage``: pages are followed by hand through ``NextPageToken``.
Throttling (``ThrottlingException``, ``LimitExceededException``) is first retried by botocore's standard retry
mode (the client from ``adapters.aws``); if a request still fails throttled, it is retried here a few more times
with exponential backoff (the sleep is injectable, so tests do not wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Unpack

from botocore.exceptions import ClientError

from costwarden.adapters import aws
from costwarden.models.ports import CostBasis, ServiceQuery, TagTotalQuery

THROTTLING_CODES = frozenset({"ThrottlingException", "LimitExceededException", "Throttling", "TooManyRequests"})
#: Cost Explorer is served from us-east-1 whatever the deployment region.
CE_REGION = "us-east-1"


def record_type_filter(excluded: Sequence[str]) -> dict[str, Any] | None:
    """``Not RECORD_TYPE in excluded`` (credits, refunds and taxes by default), or None when nothing is excluded."""
    if not excluded:
        return None
    return {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(excluded)}}}


def tag_filter(key: str, value: str | None) -> dict[str, Any]:
    """Cost carrying tag ``key=value``; ``value=None`` means cost without the tag (``key$`` in the results)."""
    if value is None:
        return {"Tags": {"Key": key, "MatchOptions": ["ABSENT"]}}
    return {"Tags": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}}


def combine(*filters: dict[str, Any] | None) -> dict[str, Any] | None:
    present = [f for f in filters if f]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"And": present}


@dataclass
class CostExplorer:
    """A small, counting wrapper over one Cost Explorer client."""

    client: Any = None
    sleep: Callable[[float], None] = time.sleep
    max_throttle_retries: int = 4
    base_delay_seconds: float = 2.0
    requests: int = 0
    throttled: int = 0
    periods: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = aws.client("ce", CE_REGION)

    def _call(self, params: dict[str, Any], operation: str = "get_cost_and_usage") -> dict[str, Any]:
        attempt = 0
        while True:
            self.requests += 1
            try:
                response: dict[str, Any] = getattr(self.client, operation)(**params)
                return response
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code not in THROTTLING_CODES or attempt >= self.max_throttle_retries:
                    raise
                self.throttled += 1
                self.sleep(self.base_delay_seconds * (2**attempt))
                attempt += 1

    def get_cost_and_usage(
        self,
        start: date,
        end: date,
        *,
        metric: str,
        group_by: Sequence[dict[str, str]],
        filter_: dict[str, Any] | None = None,
        granularity: str = "DAILY",
        extra_metrics: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """All pages for ``[start, end)`` (``end`` is exclusive, as Cost Explorer's ``TimePeriod.End`` is)."""
        params: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": granularity,
            "Metrics": [metric, *extra_metrics],
            "GroupBy": list(group_by),
        }
        if filter_:
            params["Filter"] = filter_
        self.periods.append((params["TimePeriod"]["Start"], params["TimePeriod"]["End"]))
        return list(aws.token_pages(self._call, params, "NextPageToken"))

    def daily_by_tags(
        self, start: date, end: date, tag_keys: Sequence[str], **basis: Unpack[CostBasis]
    ) -> list[dict[str, Any]]:
        """Daily cost grouped by up to two tag keys (Cost Explorer's GroupBy limit)."""
        if not 1 <= len(tag_keys) <= 2:
            raise ValueError(f"Cost Explorer groups by one or two keys, got {list(tag_keys)}")
        return self.get_cost_and_usage(
            start,
            end,
            metric=basis["metric"],
            group_by=[{"Type": "TAG", "Key": key} for key in tag_keys],
            filter_=record_type_filter(basis["excluded_record_types"]),
        )

    def daily_by_service(self, start: date, end: date, **query: Unpack[ServiceQuery]) -> list[dict[str, Any]]:
        """Daily cost of one team (``None``: untagged cost) grouped by one cause dimension (``query["dimension"]``:
        SERVICE unless given; USAGE_TYPE, REGION, LINKED_ACCOUNT): the root-cause request, one per dimension."""
        return self.get_cost_and_usage(
            start,
            end,
            metric=query["metric"],
            group_by=[{"Type": "DIMENSION", "Key": query.get("dimension", "SERVICE")}],
            filter_=combine(
                record_type_filter(query["excluded_record_types"]), tag_filter(query["team_key"], query["team"])
            ),
        )

    def total_by_tag(self, start: date, end: date, **query: Unpack[TagTotalQuery]) -> list[dict[str, Any]]:
        """Cost of ``[start, end)`` (one month at most) carrying every ``tag_values`` key with one of its values,
        grouped by tag ``group_key``: an experiment pool's biggest jobs (issue 15), one request per alerting team."""
        tag_filters = [
            {"Tags": {"Key": key, "Values": list(values), "MatchOptions": ["EQUALS"]}}
            for key, values in query["tag_values"].items()
        ]
        return self.get_cost_and_usage(
            start,
            end,
            metric=query["metric"],
            group_by=[{"Type": "TAG", "Key": query["group_key"]}],
            filter_=combine(record_type_filter(query["excluded_record_types"]), *tag_filters),
            granularity="MONTHLY",
        )

    def pages(self, operation: str, params: dict[str, Any], *, cursor: str) -> list[dict[str, Any]]:
        """Every page of any Cost Explorer operation (reservations, Savings Plans, recommendations), each page
        counted in ``requests`` like ``GetCostAndUsage``'s and retried the same way when throttled. ``cursor`` names
        the page-token field (``NextPageToken`` or ``NextToken``: the same name in request and response)."""
        return list(aws.token_pages(lambda page_params: self._call(page_params, operation), params, cursor))
