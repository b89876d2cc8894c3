"""A responsive Cost Explorer for moto: moto's CE returns only injected results, so this computes each answer from
ground-truth line items for the exact request (period, group-by, filter, page) and injects it just in time.

It hooks the boto3 client's ``before-parameter-build`` event: the request still travels through botocore (retries,
serialisation, moto's HTTP stub), only the answer is decided here. ``requests`` records what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from moto.backends import get_backend

ACCOUNT = "123456789012"
#: Cost Explorer's group-by dimensions -> the line items' columns.
DIMENSION_COLUMNS = {"SERVICE": "service", "USAGE_TYPE": "usage_type", "REGION": "region", "LINKED_ACCOUNT": "account"}


@dataclass
class FakeCostExplorer:
    rows: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=[
                "date",
                "team",
                "lifecycle_phase",
                "environment",
                "experiment_id",
                "service",
                "record_type",
                "cost",
                "usage_type",
                "region",
                "account",
            ]
        )
    )
    """Line items: date (YYYY-MM-DD), team (None = untagged), lifecycle_phase, environment, experiment_id (None =
    untagged), service, record_type, cost, and the other cause dimensions: usage_type, region, account."""
    estimated: set[str] = field(default_factory=set)
    page_days: int = 10
    requests: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        day: str,
        team: str | None,
        cost: float,
        *,
        phase: str | None = "training",
        service: str = "Amazon Elastic Compute Cloud - Compute",
        record_type: str = "Usage",
        environment: str | None = None,
        experiment_id: str | None = None,
        usage_type: str = "USE1-BoxUsage:m5.xlarge",
        region: str = "us-east-1",
        account: str = ACCOUNT,
    ) -> None:
        row = {
            "date": day,
            "team": team,
            "lifecycle_phase": phase,
            "environment": environment,
            "experiment_id": experiment_id,
            "service": service,
            "record_type": record_type,
            "cost": cost,
            "usage_type": usage_type,
            "region": region,
            "account": account,
        }
        self.rows = pd.concat([self.rows, pd.DataFrame([row])], ignore_index=True)

    def add_series(self, team: str | None, start: date, values: list[float], **kwargs: Any) -> None:
        rows = [
            {
                "date": (start + timedelta(days=i)).isoformat(),
                "team": team,
                "lifecycle_phase": kwargs.get("phase", "training"),
                "environment": kwargs.get("environment"),
                "experiment_id": kwargs.get("experiment_id"),
                "service": kwargs.get("service", "Amazon Elastic Compute Cloud - Compute"),
                "record_type": kwargs.get("record_type", "Usage"),
                "cost": v,
                "usage_type": kwargs.get("usage_type", "USE1-BoxUsage:m5.xlarge"),
                "region": kwargs.get("region", "us-east-1"),
                "account": kwargs.get("account", ACCOUNT),
            }
            for i, v in enumerate(values)
        ]
        self.rows = pd.concat([self.rows, pd.DataFrame(rows)], ignore_index=True)

    def install(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.ce.GetCostAndUsage", self._answer)

    # ------------------------------------------------------------------------------------------ the answer
    def _matches(self, frame: pd.DataFrame, flt: dict[str, Any] | None) -> pd.Series:
        if not flt:
            return pd.Series(True, index=frame.index)
        if "And" in flt:
            out = pd.Series(True, index=frame.index)
            for part in flt["And"]:
                out &= self._matches(frame, part)
            return out
        if "Not" in flt:
            return ~self._matches(frame, flt["Not"])
        if "Dimensions" in flt:
            dim = flt["Dimensions"]
            column = {"RECORD_TYPE": "record_type", **DIMENSION_COLUMNS}[dim["Key"]]
            return frame[column].isin(dim["Values"])
        if "Tags" in flt:
            tag = flt["Tags"]
            if tag["Key"] not in frame.columns:
                return pd.Series("ABSENT" in tag.get("MatchOptions", []), index=frame.index)
            if "ABSENT" in tag.get("MatchOptions", []):
                return frame[tag["Key"]].isna()
            return frame[tag["Key"]].isin(tag["Values"])
        raise AssertionError(f"unsupported filter {flt}")

    def _answer(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(params)
        start, end = params["TimePeriod"]["Start"], params["TimePeriod"]["End"]
        days = [d.date().isoformat() for d in pd.date_range(start, end, inclusive="left")]
        offset = int(params.get("NextPageToken", "0"))
        page_days = days[offset : offset + self.page_days]
        metric = params["Metrics"][0]
        selected = self.rows.loc[self._matches(self.rows, params.get("Filter"))]
        results = []
        for day in page_days:
            today = selected.loc[selected["date"] == day]
            groups = []
            columns = [DIMENSION_COLUMNS[g["Key"]] if g["Type"] == "DIMENSION" else g["Key"] for g in params["GroupBy"]]
            for raw_values, part in today.groupby(columns, dropna=False, sort=True):
                values = raw_values if isinstance(raw_values, tuple) else (raw_values,)
                keys = []
                for group, value in zip(params["GroupBy"], values, strict=True):
                    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
                    keys.append(text if group["Type"] == "DIMENSION" else f"{group['Key']}${text}")
                groups.append(
                    {"Keys": keys, "Metrics": {metric: {"Amount": repr(float(part["cost"].sum())), "Unit": "USD"}}}
                )
            next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
            results.append(
                {
                    "TimePeriod": {"Start": day, "End": next_day},
                    "Total": {},
                    "Groups": groups,
                    "Estimated": day in self.estimated,
                }
            )
        page: dict[str, Any] = {
            "GroupDefinitions": [{"Type": g["Type"], "Key": g["Key"]} for g in params["GroupBy"]],
            "ResultsByTime": results,
            "DimensionValueAttributes": [],
        }
        if offset + self.page_days < len(days):
            page["NextPageToken"] = str(offset + self.page_days)
        backend = get_backend("ce")[ACCOUNT]["global"]
        backend.cost_usage_results.clear()  # moto caches per request body; every request here is answered afresh
        backend.cost_usage_results_queue.append(page)
