"""The one moto server both tools talk to: ``python -m bench.peer.server PORT`` (the dev venv's moto, on 127.0.0.1).

Four things are added to stock moto (5.2), each because the comparison would otherwise measure the simulator:

- **CloudWatch reads from an index.** Stock moto answers ``GetMetricData`` by scanning every stored point once per
  query *and per period* (1,050 queries x 337 hourly periods x ~340,000 points: hours), and
  ``GetMetricStatistics`` by scanning every stored point once per call (~0.7 s a call here, x 1,050 calls for
  Custodian). Both are served from an index by (metric name, dimensions) with moto's own statistics code, so a
  read costs what it returns. The harness times one stock call of each and prints it: the caveat is measured.
- **EC2 tags by resource id.** moto serialises each instance's tags with a scan of every tag in the region, so one
  ``DescribeInstances`` of 5,000 instances took minutes (Custodian's single page hit botocore's 60 s read timeout).
  A one-resource lookup reads moto's own tag dictionary instead; same answer, O(1).
  ``PEER_MOTO_STOCK_METRICS=1`` keeps moto's scans (this one and the CloudWatch ones).
- **Instances launched in the past.** moto stamps ``LaunchTime`` with the real clock; the idle finder does not judge
  an instance younger than its lookback (14 days). ``PEER_LAUNCH_AGE_DAYS`` moves every launch that many days back.
- **EC2 Capacity Reservations** (``costwarden.demo.moto_capacity``): the idle finder lists them on every scan and
  stock moto implements none of their calls.
"""

from __future__ import annotations

import bisect
import os
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

_INDEX = "_peer_metric_index"


def _dims_key(dimensions: Any) -> tuple[tuple[str, str], ...]:
    """Dimensions as an order-free key: moto compares ``sorted()`` lists, i.e. the same multiset of name/value."""
    pairs = [
        (str(d.name), str(d.value)) if hasattr(d, "name") else (str(d["Name"]), str(d["Value"])) for d in dimensions
    ]
    return tuple(sorted(Counter(pairs).elements()))


class MetricIndex:
    """Stored CloudWatch points by (metric name, dimensions), each series sorted by time; rebuilt after a put."""

    def __init__(self, points: list[Any]) -> None:
        self.size = len(points)
        series: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = defaultdict(list)
        for point in points:
            series[(point.name, _dims_key(point.dimensions))].append(point)
        self.series = {key: sorted(values, key=lambda p: p.timestamp) for key, values in series.items()}
        self.stamps = {key: [p.timestamp for p in values] for key, values in self.series.items()}
        self.by_name: dict[str, list[tuple[str, tuple[tuple[str, str], ...]]]] = defaultdict(list)
        for key in self.series:
            self.by_name[key[0]].append(key)

    def window(self, key: tuple[str, tuple[tuple[str, str], ...]], start: datetime, end: datetime) -> list[Any]:
        """The series' points with ``start <= timestamp < end``, in time order."""
        stamps = self.stamps.get(key)
        if not stamps:
            return []
        return self.series[key][bisect.bisect_left(stamps, start) : bisect.bisect_left(stamps, end)]


def index_of(backend: Any) -> MetricIndex:
    """The backend's index, rebuilt when points were added since (``put_metric_data`` only appends)."""
    points = backend.get_all_metrics()
    index: MetricIndex | None = getattr(backend, _INDEX, None)
    if index is None or index.size != len(points):
        index = MetricIndex(points)
        setattr(backend, _INDEX, index)
    return index


def _indexable(queries: list[dict[str, Any]]) -> bool:
    """Queries the index answers as moto would: metric stats with dimensions, no unit filter, no expressions."""
    return all(
        "MetricStat" in q and q["MetricStat"]["Metric"].get("Dimensions") and not q["MetricStat"].get("Unit")
        for q in queries
    )


def fast_get_metric_data(original: Any) -> Any:
    """``CloudWatchBackend.get_metric_data`` over the index: moto's periods, statistics and result shape."""
    from moto.cloudwatch.models import Statistics

    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if start >= end or not _indexable(queries):
            stock: list[dict[str, Any]] = original(self, queries, start_time, end_time, scan_by)
            return stock  # moto's errors and moto's other paths (expressions, unit filters, no dimensions)
        index = index_of(self)
        results = []
        for query in queries:
            stat_spec = query["MetricStat"]
            name, stat = stat_spec["Metric"]["MetricName"], stat_spec["Stat"]
            delta = timedelta(seconds=int(stat_spec["Period"]))
            buckets: dict[int, list[Any]] = defaultdict(list)
            for point in index.window((name, _dims_key(stat_spec["Metric"]["Dimensions"])), start, end):
                buckets[(point.timestamp - start) // delta].append(point)
            values, stamps = [], []
            for period in sorted(buckets):
                stats = Statistics([stat], start + period * delta)
                stats.metric_data = buckets[period]
                values.append(stats.get_statistics_for_type(stat))
                stamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                stamps.reverse()
            if query.get("ReturnData", True):
                label = query.get("Label") or f"{name} {stat}"
                results.append(
                    {
                        "id": query["Id"],
                        "label": label,
                        "values": values,
                        "timestamps": stamps,
                        "status_code": "Complete",
                    }
                )
        return results

    return get_metric_data


class _View:
    """A backend stand-in whose store is only the points a request can match (moto's code runs on it unchanged)."""

    def __init__(self, points: list[Any]) -> None:
        self.points = points

    def get_all_metrics(self) -> list[Any]:
        return self.points


def fast_get_metric_statistics(original: Any) -> Any:
    """``CloudWatchBackend.get_metric_statistics`` run by moto's own code on the matching series only."""

    def get_metric_statistics(self: Any, namespace: str, metric_name: str, *args: Any, **kwargs: Any) -> Any:
        dimensions = kwargs.get("dimensions") or []
        if not dimensions:
            return original(self, namespace, metric_name, *args, **kwargs)
        index = index_of(self)
        wanted = {(str(d["Name"]), str(d.get("Value"))) for d in dimensions}
        points = [
            point for key in index.by_name.get(metric_name, []) if wanted <= set(key[1]) for point in index.series[key]
        ]
        return original(_View(points), namespace, metric_name, *args, **kwargs)

    return get_metric_statistics


def install_metric_index() -> None:
    """Serve CloudWatch reads from the index (module docstring); idempotent."""
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend, "_peer_indexed", False):
        return
    CloudWatchBackend.get_metric_data = fast_get_metric_data(CloudWatchBackend.get_metric_data)  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_statistics = fast_get_metric_statistics(  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_statistics
    )
    CloudWatchBackend._peer_indexed = True  # type: ignore[attr-defined]


def fast_describe_tags(original: Any) -> Any:
    """``TagBackend.describe_tags`` for one literal resource id (how moto serialises every EC2 resource's tags): a
    dictionary lookup instead of a scan of every tag in the region, so listing N instances is not O(N^2)."""

    def describe_tags(self: Any, filters: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
        ids = filters.get("resource-id") if filters is not None and set(filters) == {"resource-id"} else None
        if not ids or len(ids) != 1 or any(ch in ids[0] for ch in "*?[]\\"):
            stock: list[dict[str, str]] = original(self, filters)
            return stock
        from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

        resource_id = ids[0]
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        tags = self.tags.get(resource_id, {})  # .get: never add an empty entry to moto's defaultdict
        return [{"resource_id": resource_id, "key": k, "value": v, "resource_type": kind} for k, v in tags.items()]

    return describe_tags


def install_tag_lookup() -> None:
    """Serve one-resource EC2 tag lookups from moto's own dictionary (``fast_describe_tags``); idempotent."""
    from moto.ec2.models.tags import TagBackend

    if getattr(TagBackend, "_peer_indexed", False):
        return
    TagBackend.describe_tags = fast_describe_tags(TagBackend.describe_tags)  # type: ignore[method-assign]
    TagBackend._peer_indexed = True  # type: ignore[attr-defined]


def install_launch_age(days: float) -> None:
    """Every EC2 instance moto launches from now on carries a ``LaunchTime`` ``days`` in the past."""
    from moto.core.utils import utcnow
    from moto.ec2.models import instances

    def launched_earlier() -> datetime:
        return utcnow() - timedelta(days=days)

    # the module's own name, used for launch_time (and two state-reason strings, which nobody here reads)
    instances.utcnow = launched_earlier  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m bench.peer.server PORT", file=sys.stderr)
        return 2
    from costwarden.demo.moto_capacity import install
    from moto.server import main as moto_main

    install()
    if os.environ.get("PEER_MOTO_STOCK_METRICS") != "1":
        install_metric_index()
        install_tag_lookup()
    age = float(os.environ.get("PEER_LAUNCH_AGE_DAYS", "0") or 0)
    if age:
        install_launch_age(age)
    moto_main(["-H", "127.0.0.1", "-p", argv[0]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
