"""CloudWatch metrics for the idle finder: ``GetMetricData`` in batches, ``ListMetrics`` for dimension sets.

Batches hold up to 500 queries (the API's limit), fewer when 500 series of the window would pass the 100,800 data
points one response may carry; a response's ``NextToken`` is followed. So requests grow with metrics / 500 (and
with pages of data), never with resources. A batch that fails marks its queries failed and the others go on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from threading import Lock
from typing import Any

from costwarden.models.idle_ports import Dimensions, MetricBatch, MetricQuery, MetricSeries
from costwarden.models.ports import Clients, error_text

MAX_QUERIES_PER_CALL = 500
MAX_POINTS_PER_CALL = 100_800
#: CloudWatch's price of GetMetricData: USD per 1,000 metrics requested.
USD_PER_1000_METRICS = 0.01


def batch_size(queries: Sequence[MetricQuery], start: datetime, end: datetime) -> int:
    """Queries per call: 500, or fewer so a full response stays within 100,800 data points."""
    seconds = max((end - start).total_seconds(), 1)
    points = max(math.ceil(seconds / q.period) for q in queries) if queries else 1
    return max(1, min(MAX_QUERIES_PER_CALL, MAX_POINTS_PER_CALL // points))


def _stat(query: MetricQuery, index: int) -> dict[str, Any]:
    return {
        "Id": f"q{index}",
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
            },
            "Period": query.period,
            "Stat": query.stat,
        },
        "ReturnData": True,
    }


def _take(result: MetricBatch, series: dict[str, Any], queries: Sequence[MetricQuery], region: str) -> None:
    """One ``MetricDataResults`` entry into its query's columns (``MetricSeries``: no Python object per point).
    An Id this request did not send, or a value that is not a number, marks that metric failed, named."""
    key = str(series.get("Id", ""))
    index = int(key[1:]) if key[1:].isdigit() else -1
    if not 0 <= index < len(queries):
        result.errors.append(f"{region}: GetMetricData answered an unknown query id {key[:40]!r}")
        return
    points = result.points.get(index)
    if not isinstance(points, MetricSeries):
        points = result.points[index] = MetricSeries()
    try:
        points.extend(series.get("Timestamps", []), series.get("Values", []))
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        result.failed.add(index)
        result.errors.append(f"{region}: {queries[index].name}: unreadable data points ({error})")
    if series.get("StatusCode") in ("Forbidden", "InternalError"):
        result.failed.add(index)
        result.errors.append(f"{region}: {queries[index].name} {series['StatusCode']}")


class CloudWatchMetrics:
    """``MetricReader`` on CloudWatch; ``requests`` counts calls by operation (the run summary shows them)."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.requests: Counter[str] = Counter()
        self.metrics_requested = 0
        self._lock = Lock()

    def _count(self, operation: str, metrics: int = 0) -> None:
        with self._lock:
            self.requests[operation] += 1
            self.metrics_requested += metrics

    def fetch(self, region: str, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> MetricBatch:
        result = MetricBatch()
        if not queries:
            return result
        cw = self.clients("cloudwatch", region)
        size = batch_size(queries, start, end)
        for offset in range(0, len(queries), size):
            batch = list(enumerate(queries[offset : offset + size], start=offset))
            request: dict[str, Any] = {
                "MetricDataQueries": [_stat(q, i) for i, q in batch],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            first = True
            while True:
                try:
                    response = cw.get_metric_data(**request)
                except Exception as error:  # reported; the other batches go on
                    result.failed.update(i for i, _ in batch)
                    result.errors.append(f"{region}: GetMetricData ({len(batch)} metrics) failed: {error_text(error)}")
                    break
                finally:
                    result.requests += 1
                    self._count("GetMetricData", len(batch) if first else 0)
                first = False
                for series in response.get("MetricDataResults", []):
                    _take(result, series, queries, region)
                token = response.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        return result

    def dimensions(self, region: str, namespace: str, name: str) -> list[Dimensions]:
        cw = self.clients("cloudwatch", region)
        found: set[Dimensions] = set()
        paginator = cw.get_paginator("list_metrics")
        for page in paginator.paginate(Namespace=namespace, MetricName=name):
            self._count("ListMetrics")
            for metric in page.get("Metrics", []):
                found.add(tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))))
        return sorted(found)

    def scan_cost_usd(self) -> float:
        """What this scan's metric reads cost (GetMetricData: 0.01 USD per 1,000 metrics requested)."""
        return self.metrics_requested * USD_PER_1000_METRICS / 1000
