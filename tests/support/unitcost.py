"""CUR 2.0 line items and denominators for the unit-cost tests: a model's endpoint billed day by day.

One builder, so the unit tests (detector, compute) and the moto tests (CloudWatch denominators) describe the same
bill the same way: ``hosting_days`` writes the SageMaker hosting lines of one endpoint, ``raw_frame`` turns line
dicts into the CUR 2.0 columns ``unitcost.lines.normalise`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from costwarden.adapters import aws
from costwarden.models.alert import AlertEvent
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


def put_daily_invocations(endpoint: str, per_day: Mapping[date, float], region: str = "us-east-1") -> None:
    """The endpoint's ``AllTraffic`` variant's ``Invocations``, one point at noon of each day (moto or a server)."""
    cw = aws.client("cloudwatch", region)
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}]
    data = [
        {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": datetime(d.year, d.month, d.day, 12, tzinfo=UTC),
         "Value": value}
        for d, value in per_day.items()
    ]  # fmt: skip
    cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)


def received_alerts(queue_url: str, region: str = "us-east-1") -> list[AlertEvent]:
    """Every alert on the queue subscribed to the alert topic (SNS's envelope), read and deleted."""
    sqs = aws.client("sqs", region)
    out = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            out.append(AlertEvent.from_json(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return out


#: The columns of ``unitcost/sql/line_items.sql``'s result, in its order (team and model tags as ``tag_0``/``tag_1``).
ATHENA_COLUMNS = (
    "line_item_usage_start_date", "line_item_product_code", "line_item_usage_type", "line_item_resource_id",
    "line_item_line_item_type", "tag_0", "tag_1", "line_item_usage_amount", "line_item_unblended_cost",
    "reservation_effective_cost", "savings_plan_savings_plan_effective_cost",
)  # fmt: skip


def athena_results(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """CUR line dicts (``hosting_days``) as the one ``GetQueryResults`` page Athena gives the unit-cost query:
    the header row first, every value text."""

    def values(row: Mapping[str, Any]) -> list[str]:
        tags = json.loads(row.get("resource_tags") or "{}")
        found = {
            **row,
            "line_item_usage_start_date": str(row["line_item_usage_start_date"])[:10],
            "tag_0": tags.get("user_team", ""),
            "tag_1": tags.get("user_model_id", ""),
        }
        return [str(found.get(column, "0.0")) for column in ATHENA_COLUMNS]

    table = [list(ATHENA_COLUMNS), *(values(r) for r in rows)]
    return {
        "ResultSet": {
            "Rows": [{"Data": [{"VarCharValue": v} for v in line]} for line in table],
            "ResultSetMetadata": {"ColumnInfo": [{"Name": c, "Type": "varchar"} for c in ATHENA_COLUMNS]},
        },
        "UpdateCount": 0,
    }
