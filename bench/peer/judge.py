"""The idle judge's CPU at the issue's scale: 1,050 instances x 336 hourly points (14 days) = 352,800 points.

Two numbers: parsing a ``GetMetricData`` answer into columns (``CloudWatchMetrics`` on a canned answer: botocore's
own datetime objects in, ``MetricSeries`` out) and judging every series (``hourly`` + ``utilisation``). The
point-by-point judge (plain pairs, the pre-issue-27 path) is timed beside it on the same data. CPU time
(``time.process_time``), best of 3: the bar is under 1 s for the columns.
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.idle.judge import hourly, utilisation
from costwarden.idle.model import Window
from costwarden.models.idle_ports import MetricQuery
from costwarden.settings import IdleSettings

INSTANCES = 1_050
HOURS = 14 * 24


class CannedCloudWatch:
    """Every ``GetMetricData`` request answered with hourly points for each query (what botocore would parse)."""

    def __init__(self, stamps: list[datetime]) -> None:
        self.stamps = stamps

    def get_metric_data(self, **request: Any) -> dict[str, Any]:
        results = [
            {"Id": q["Id"], "Timestamps": self.stamps, "Values": [float((n + i) % 20) for i in range(len(self.stamps))]}
            for n, q in enumerate(request["MetricDataQueries"])
        ]
        return {"MetricDataResults": results}


def _cpu(work: Callable[[], object], rounds: int = 3) -> float:
    """Best CPU seconds of ``rounds`` runs (``process_time``: the machine's other load is not counted)."""
    return min(timeit.repeat(work, timer=time.process_time, number=1, repeat=rounds))


def main() -> dict[str, Any]:
    end = datetime(2026, 12, 7, tzinfo=UTC)
    window = Window(end - timedelta(hours=HOURS), end)
    stamps = [window.start + timedelta(hours=h, minutes=5) for h in range(HOURS)]
    queries = [
        MetricQuery("AWS/EC2", "CPUUtilization", (("InstanceId", f"i-{n:017x}"),), "Average", 3600)
        for n in range(INSTANCES)
    ]
    reader = CloudWatchMetrics(lambda service, region: CannedCloudWatch(stamps))
    batch = reader.fetch("us-east-1", queries, window.start, window.end)
    series = list(batch.points.values())
    pairs = [list(s) for s in series]
    cfg = IdleSettings()
    points = sum(len(s) for s in series)
    columns_states = [utilisation(hourly(s, window), window, cfg).state for s in series]
    pairs_states = [utilisation(hourly(p, window), window, cfg).state for p in pairs]
    assert columns_states == pairs_states, "the column judge disagrees with the point judge"
    parse_s = _cpu(lambda: reader.fetch("us-east-1", queries, window.start, window.end))
    judge_s = _cpu(lambda: [utilisation(hourly(s, window), window, cfg) for s in series])
    before_s = _cpu(lambda: [utilisation(hourly(p, window), window, cfg) for p in pairs])
    row = {
        "points": points,
        "parse_cpu_s": round(parse_s, 3),
        "judge_cpu_s": round(judge_s, 3),
        "point_judge_cpu_s": round(before_s, 3),
        "under_1s": parse_s + judge_s < 1.0,
    }
    print(f"idle judge, {INSTANCES:,} series x {HOURS} h = {points:,} points (CPU, best of 3)")
    print(f"  parse GetMetricData into columns  {parse_s:6.3f} s")
    print(f"  judge the columns                 {judge_s:6.3f} s   (point-by-point judge: {before_s:.3f} s)")
    print(f"  parse + judge under 1 s: {'yes' if row['under_1s'] else 'NO'}")
    return row
