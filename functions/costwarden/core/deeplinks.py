"""Deep links into the AWS console, built in one place: an alert's "Open in Cost Explorer" says exactly what it
filters, and a test can read the filter back.

The Cost Explorer console keeps a report's state in the query string of its URL fragment
(``.../costmanagement/home#/cost-explorer?startDate=...&filter=[...]``): dates, granularity, the cost metric
(``costAggregate``), the grouping and a JSON list of filters, the shape the console writes itself when a report is
shared (a dimension filter ``{"dimension": {"id": "Service"}, "operator": "INCLUDES", "values": [...]}``, a cost
allocation tag filter with the tag key in ``growableValue``). Every parameter is percent-encoded (nothing but
unreserved characters stays), so a team or service name holding ``&``, ``#``, ``|`` or ``>`` can neither add a
parameter nor break a Slack ``<url|label>`` link.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

CE_CONSOLE = "https://us-east-1.console.aws.amazon.com/costmanagement/home"
#: Cost Explorer API metric -> the console's ``costAggregate`` name.
COST_AGGREGATES = {
    "AmortizedCost": "amortizedCost",
    "BlendedCost": "blendedCost",
    "NetAmortizedCost": "netAmortizedCost",
    "NetUnblendedCost": "netUnblendedCost",
    "UnblendedCost": "unBlendedCost",
}
#: Cost Explorer API dimension -> the console's dimension id (the ones an alert filters or groups by).
CONSOLE_DIMENSIONS = {
    "SERVICE": "Service",
    "USAGE_TYPE": "UsageType",
    "REGION": "Region",
    "LINKED_ACCOUNT": "LinkedAccount",
}


class DeepLinkError(ValueError):
    """A link that cannot be built (a dimension the console does not know, dates the wrong way round)."""


def _tag_filter(key: str, value: str | None) -> dict[str, Any]:
    """Cost carrying cost allocation tag ``key=value``; ``None``: cost without the tag (the console's empty value)."""
    return {
        "dimension": {"id": "TagKey", "displayValue": "Tag"},
        "operator": "INCLUDES",
        "values": [{"value": value or "", "displayValue": value or f"No tag key: {key}"}],
        "growableValue": {"value": key, "displayValue": key},
    }


def _dimension_filter(dimension: str, value: str) -> dict[str, Any]:
    console = CONSOLE_DIMENSIONS.get(dimension)
    if console is None:
        raise DeepLinkError(f"deep link: dimension {dimension!r} is not one of {sorted(CONSOLE_DIMENSIONS)}")
    return {
        "dimension": {"id": console, "displayValue": console},
        "operator": "INCLUDES",
        "values": [{"value": value, "displayValue": value}],
    }


def cost_explorer_url(
    *,
    start: date,
    end: date,
    tag_key: str,
    team: str | None,
    dimensions: Mapping[str, str] | None = None,
    group_by: str = "USAGE_TYPE",
    metric: str = "UnblendedCost",
) -> str:
    """Cost Explorer, daily, from ``start`` to ``end`` (both included, as the console shows them), filtered to the
    team's cost allocation tag (``team=None``: untagged cost) and to each ``dimensions`` value (``{"SERVICE":
    "Amazon SageMaker"}``), grouped by ``group_by``: the view an on-call engineer opens to see the jump."""
    if end < start:
        raise DeepLinkError(f"deep link: end {end} is before start {start}")
    if group_by not in CONSOLE_DIMENSIONS:
        raise DeepLinkError(f"deep link: group_by {group_by!r} is not one of {sorted(CONSOLE_DIMENSIONS)}")
    filters = [_tag_filter(tag_key, team)]
    filters += [_dimension_filter(dimension, value) for dimension, value in (dimensions or {}).items()]
    params = {
        "chartStyle": "STACK",
        "costAggregate": COST_AGGREGATES.get(metric, "unBlendedCost"),
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "granularity": "Daily",
        "groupBy": json.dumps([CONSOLE_DIMENSIONS[group_by]]),
        "filter": json.dumps(filters, separators=(",", ":")),
        "isDefault": "false",
    }
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())
    return f"{CE_CONSOLE}#/cost-explorer?{query}"
