"""Denominators: what a model's cost is divided by, one value per day, model and metric.

From CloudWatch (the service reads them in batched ``GetMetricData`` calls: ``queries`` builds them here, one
``MetricQuery`` per endpoint variant or custom metric, daily sums) or, offline, from a CSV of ``date, model,
metric, value`` (``costwarden unit-costs --usage FILE``). Metrics: ``Invocations`` (SageMaker endpoints, Bedrock
models and application inference profiles), ``InputTokenCount``/``OutputTokenCount`` (Bedrock) and any configured
custom metric (``unitcost.custom_denominators``). A day a metric was read and had no data point is 0 (CloudWatch
writes no zero for an endpoint nobody called); a day it was not read is unknown and never reads as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from costwarden.models.idle_ports import MetricBatch, MetricQuery
from costwarden.settings import CustomDenominator
from costwarden.unitcost.lines import UnitCostError

INVOCATIONS = "Invocations"
COLUMNS = ("date", "model", "metric", "value")
DAY_SECONDS = 86_400
MAX_MODEL_CHARS = 256


def read_usage(table: pd.DataFrame, source: str = "usage") -> pd.DataFrame:
    """The CSV's rows (``date, model, metric, value``), checked; duplicate rows of a day, model and metric summed."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise UnitCostError(f"{source}: missing column(s) {', '.join(missing)} (expected date, model, metric, value)")
    out = pd.DataFrame(index=table.index)
    raw_days = table["date"].astype(str).str.strip()
    days = pd.to_datetime(raw_days, format="%Y-%m-%d", errors="coerce")
    values = pd.to_numeric(table["value"], errors="coerce")
    model = table["model"].fillna("").astype(str).str.strip()
    metric = table["metric"].fillna("").astype(str).str.strip()
    checks = (
        ("date", days.isna(), "not a YYYY-MM-DD date"),
        ("model", (model == "") | (model.str.len() > MAX_MODEL_CHARS), "empty or longer than 256 characters"),
        ("metric", metric == "", "empty"),
        (
            "value",
            values.isna() | values.isin([math.inf, -math.inf]) | (values < 0),
            "not a finite number >= 0",
        ),
    )
    for column, bad, problem in checks:
        if bool(bad.any()):
            row = int(bad.to_numpy().nonzero()[0][0])
            shown = str(table[column].iloc[row])[:40]
            raise UnitCostError(f"{source}: row {row + 2}, column {column}: {problem}: {shown!r}")
    out["date"], out["model"], out["metric"], out["value"] = days.dt.strftime("%Y-%m-%d"), model, metric, values
    return out.groupby(list(COLUMNS[:3]), as_index=False, sort=True)["value"].sum()


@dataclass(frozen=True)
class Series:
    """One denominator series to read: the model it counts for, the metric name it is reported under."""

    model: str
    metric: str
    query: MetricQuery


def endpoint_series(endpoints: Mapping[str, tuple[str, Sequence[str]]]) -> list[Series]:
    """``Invocations`` per endpoint variant (``{endpoint: (model, variants)}``), daily sums."""
    out = []
    for endpoint, (model, variants) in sorted(endpoints.items()):
        for variant in variants:
            dims = (("EndpointName", endpoint), ("VariantName", variant))
            out.append(Series(model, INVOCATIONS, MetricQuery("AWS/SageMaker", INVOCATIONS, dims, "Sum", DAY_SECONDS)))
    return out


def custom_series(custom: Mapping[str, CustomDenominator]) -> list[Series]:
    """A configured business metric per model (``unitcost.custom_denominators``), daily sums, reported under the
    configured unit's name."""
    out = []
    for model, spec in sorted(custom.items()):
        query = MetricQuery(spec.namespace, spec.metric, tuple(sorted(spec.dimensions.items())), "Sum", DAY_SECONDS)
        out.append(Series(model, spec.unit, query))
    return out


def days_between(start: date, end: date) -> list[str]:
    """Every UTC day in ``[start, end)``."""
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days)]


def from_batch(series: Sequence[Series], batch: MetricBatch, start: datetime, end: datetime) -> pd.DataFrame:
    """Daily values per model and metric: a series read without a point on a day is 0 that day; a failed series
    has no rows (unknown, never zero)."""
    days = days_between(start.date(), end.date())
    totals: dict[tuple[str, str, str], float] = {}
    for index, one in enumerate(series):
        if index in batch.failed:
            continue
        for day in days:
            totals.setdefault((day, one.model, one.metric), 0.0)
        for stamp, value in batch.points.get(index, []):
            key = (stamp.date().isoformat(), one.model, one.metric)
            if key in totals:
                totals[key] += float(value)
    rows = [(*key, value) for key, value in sorted(totals.items())]
    return pd.DataFrame(rows, columns=list(COLUMNS))
