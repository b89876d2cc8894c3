"""Cost Explorer for the tag audit: daily cost grouped by one tag, and cost allocation tag status.

Kept minimal on purpose (the cost monitor owns the general Cost Explorer adapter): one ``GetCostAndUsage`` query
with every ``NextPageToken`` page followed (there is no botocore paginator for it), and ``ListCostAllocationTags``
for the policy's keys. Cost Explorer charges $0.01 per request (every page counts): the weekly audit makes one
query for 14 days and one status call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

#: ListCostAllocationTags accepts at most this many TagKeys per call.
MAX_TAG_KEYS = 100


@dataclass(frozen=True)
class TagCostRow:
    day: date
    value: str  # the tag's value; "" for spend without the tag
    amount: float
    estimated: bool


def daily_cost_by_tag(
    ce: Any,
    tag_key: str,
    start: date,
    end: date,
    *,
    metric: str = "UnblendedCost",
    excluded_record_types: Sequence[str] = (),
) -> list[TagCostRow]:
    """Daily cost grouped by ``tag_key`` for ``[start, end)`` (Cost Explorer's end is exclusive)."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}],
    }
    if excluded_record_types:
        request["Filter"] = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(excluded_record_types)}}}
    rows: list[TagCostRow] = []
    prefix = f"{tag_key}$"
    token = ""
    while True:
        response = ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        for period in response.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            estimated = bool(period.get("Estimated", False))
            for group in period.get("Groups", []):
                key = group["Keys"][0]
                value = key[len(prefix) :] if key.startswith(prefix) else key
                amount = float(group["Metrics"][metric]["Amount"])
                rows.append(TagCostRow(day, value, amount, estimated))
            if not period.get("Groups") and period.get("Total", {}).get(metric):
                # No grouping came back (no tag data at all): the whole day is untagged spend.
                rows.append(TagCostRow(day, "", float(period["Total"][metric]["Amount"]), estimated))
        token = response.get("NextPageToken") or ""
        if not token:
            return rows


def cost_allocation_tag_status(ce: Any, keys: Iterable[str]) -> dict[str, str | None]:
    """``Active`` / ``Inactive`` per user-defined tag key; ``None`` when billing has never seen the key."""
    wanted = list(dict.fromkeys(keys))
    status: dict[str, str | None] = dict.fromkeys(wanted)
    for offset in range(0, len(wanted), MAX_TAG_KEYS):
        request: dict[str, Any] = {"TagKeys": wanted[offset : offset + MAX_TAG_KEYS], "Type": "UserDefined"}
        while True:
            response = ce.list_cost_allocation_tags(**request)
            for tag in response.get("CostAllocationTags", []):
                if tag.get("TagKey") in status:
                    status[tag["TagKey"]] = tag.get("Status")
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return status
