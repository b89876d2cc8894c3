"""The idle judge over columns (``MetricSeries``) against the point-by-point judge: same hours, same averages,
same verdicts; hostile CloudWatch answers (unequal lists, text values, unknown ids) become named errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.idle.checks.ec2_instance import judge_instance
from costwarden.idle.judge import busiest, hourly, utilisation
from costwarden.idle.model import Window
from costwarden.models.idle_ports import MetricQuery, MetricSeries
from costwarden.settings import IdleSettings
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 12, 10, 6, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=2), NOW)
CFG = IdleSettings(min_busy_hours=3)
OLD = NOW - timedelta(days=60)

# Points around the window (some outside it), aware in several offsets or naive (read as UTC), any finite value.
moments = st.one_of(
    st.datetimes(min_value=datetime(2026, 12, 7), max_value=datetime(2026, 12, 10, 8), timezones=st.just(UTC)),
    st.datetimes(
        min_value=datetime(2026, 12, 7),
        max_value=datetime(2026, 12, 10, 8),
        timezones=st.just(timezone(timedelta(hours=5, minutes=30))),
    ),
    st.datetimes(min_value=datetime(2026, 12, 7), max_value=datetime(2026, 12, 10, 8)),
)
values = st.floats(min_value=0, max_value=100, allow_nan=False)
series = st.lists(st.tuples(moments, values), max_size=120)


def whole_seconds(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """CloudWatch timestamps are whole seconds; a microsecond survives the float column only to within 1 us."""
    return [(t.replace(microsecond=0), v) for t, v in points]


@settings(max_examples=100, deadline=None)
@given(series)
def test_hourly_over_columns_is_the_point_judge(points: list[tuple[datetime, float]]) -> None:
    points = whole_seconds(points)
    columns = MetricSeries.of(points)
    assert hourly(columns, WINDOW) == hourly(points, WINDOW)
    assert utilisation(hourly(columns, WINDOW), WINDOW, CFG) == utilisation(hourly(points, WINDOW), WINDOW, CFG)


@settings(max_examples=40, deadline=None)
@given(series, st.lists(series, min_size=1, max_size=4))
def test_verdicts_over_columns_are_the_point_verdicts(cpu: list[Any], gpus: list[Any]) -> None:
    cpu, gpus = whole_seconds(cpu), [whole_seconds(g) for g in gpus]
    as_columns = judge_instance("g5.xlarge", OLD, MetricSeries.of(cpu), [MetricSeries.of(g) for g in gpus], WINDOW, CFG)
    as_points = judge_instance("g5.xlarge", OLD, cpu, gpus, WINDOW, CFG)
    assert as_columns == as_points
    assert busiest([MetricSeries.of(g) for g in gpus], WINDOW) == busiest(gpus, WINDOW)


def test_a_series_is_still_a_sequence_of_pairs() -> None:
    points = [(NOW - timedelta(hours=2), 40.0), (NOW - timedelta(hours=1, minutes=30), 2.5)]
    columns = MetricSeries.of(points)
    assert list(columns) == points and columns[1] == points[1] and columns[-1:] == points[-1:] and len(columns) == 2
    with pytest.raises(ValueError, match="2 timestamps but 1 values"):
        MetricSeries([1.0, 2.0], [3.0])


class FakeCloudWatch:
    """One ``GetMetricData`` answer, as given."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results = results

    def get_metric_data(self, **request: Any) -> dict[str, Any]:
        return {"MetricDataResults": self.results}


def test_hostile_metric_answers_are_named_errors_not_tracebacks() -> None:
    stamps = [NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
    answer = [
        {"Id": "q0", "Timestamps": stamps, "Values": [1.0, 2.0]},  # unequal lists: cut to the shorter
        {"Id": "q1", "Timestamps": stamps, "Values": ["busy", 2.0, 3.0]},
        {"Id": "zz", "Timestamps": stamps, "Values": [1.0, 2.0, 3.0]},
        {"Id": "q7", "Timestamps": stamps, "Values": [1.0, 2.0, 3.0]},
    ]
    queries = [MetricQuery("AWS/EC2", "CPUUtilization", (("InstanceId", f"i-{n}"),), "Average", 3600) for n in (0, 1)]
    reader = CloudWatchMetrics(lambda service, region: FakeCloudWatch(answer))
    batch = reader.fetch("eu-west-1", queries, WINDOW.start, WINDOW.end)
    assert list(batch.points[0]) == list(zip(stamps[:2], [1.0, 2.0], strict=True))
    assert batch.failed == {1} and len(batch.points[1]) == 0
    assert batch.errors[0].startswith("eu-west-1: CPUUtilization: unreadable data points (")
    assert batch.errors[1:] == [
        "eu-west-1: GetMetricData answered an unknown query id 'zz'",
        "eu-west-1: GetMetricData answered an unknown query id 'q7'",
    ]
