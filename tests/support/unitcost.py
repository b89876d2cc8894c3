"""CUR 2.0 line items and denominators for the unit-cost tests: a model's endpoint billed day by day.

One builder, so the unit tests (detector, compute) and the moto tests (CloudWatch denominators) describe the same
bill the same way: ``hosting_days`` writes the SageMaker hosting lines of one endpoint, ``raw_frame`` turns line
dicts into the CUR 2.0 columns ``unitcost.lines.normalise`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd
from costwarden.unitcost import lines as cur

ACCOUNT = "123456789012"
#: Fixture prices (USD per hour): the 4xlarge costs (a cent over) twice the xlarge, what the acceptance test needs;
#: exactly twice would sit on the critical ratio, which the detector's float32 baseline may read a hair under.
PRICE = {"ml.g5.xlarge": 1.41, "ml.g5.4xlarge": 2.83}


def endpoint_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:endpoint/{name}"


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def hosting_days(
    endpoint: str, team: str, model: str, types: Mapping[date, str], region: str = "us-east-1"
) -> list[dict[str, Any]]:
    """One 24-hour hosting line per day at ``PRICE`` of that day's instance type."""
    tags = json.dumps({"user_team": team, "user_model_id": model})
    return [
        {
            "line_item_usage_start_date": f"{day.isoformat()}T00:00:00Z",
            "line_item_line_item_type": "Usage",
            "line_item_product_code": "AmazonSageMaker",
            "line_item_usage_type": f"USE1-Host:{instance}",
            "line_item_resource_id": endpoint_arn(endpoint, region),
            "line_item_usage_amount": "24",
            "line_item_unblended_cost": f"{24 * PRICE[instance]:.2f}",
            "resource_tags": tags,
        }
        for day, instance in types.items()
    ]


def raw_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).fillna("")


def normalised(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return cur.normalise(raw_frame(rows), team_key="team", model_key="model_id")


def invocations(model: str, per_day: Mapping[date, float]) -> pd.DataFrame:
    """A denominators frame (``date, model, metric, value``) of one model's daily invocations."""
    rows = [(d.isoformat(), model, "Invocations", float(v)) for d, v in per_day.items()]
    return pd.DataFrame(rows, columns=["date", "model", "metric", "value"])
