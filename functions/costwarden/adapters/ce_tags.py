"""Cost Explorer for the tag audit: daily cost grouped by one tag, and cost allocation tag status.

Kept minimal on purpose: ``GetCostAndUsage`` goes through the cost monitor's adapter
(``costwarden.adapters.cost_explorer``: every page, throttling retried), this module only reads its pages as rows;
``ListCostAllocationTags`` (which the cost monitor does not need) is here. Cost Explorer charges $0.01 per request
(every page counts): the weekly audit makes one query for 14 days and one status call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from costwarden.adapters.cost_explorer import CostExplorer

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
    """Daily cost grouped by ``tag_key`` for ``[start, end)`` (Cost Explorer's end is exclusive).

    The request itself (pages, throttling retries, the record-type filter) is the cost monitor's
    ``CostExplorer.daily_by_tags``; this only turns its pages into rows.
    """
    pages = CostExplorer(client=ce).daily_by_tags(
        start, end, [tag_key], metric=metric, excluded_record_types=excluded_record_types
    )
    rows: list[TagCostRow] = []
    prefix = f"{tag_key}$"
    for page in pages:
        for period in page.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            estimated = bool(period.get("Estimated", False))
            for group in period.get("Groups", []):
                key = group["Keys"][0]
                value = key[len(prefix) :] if key.startswith(prefix) else key
                rows.append(TagCostRow(day, value, float(group["Metrics"][metric]["Amount"]), estimated))
            if not period.get("Groups") and period.get("Total", {}).get(metric):
                # No grouping came back (no tag data at all): the whole day is untagged spend.
                rows.append(TagCostRow(day, "", float(period["Total"][metric]["Amount"]), estimated))
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
