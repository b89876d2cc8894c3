"""Amazon Bedrock's CloudWatch metrics per model and application inference profile: invocations and tokens.

Bedrock publishes ``Invocations``, ``InputTokenCount`` and ``OutputTokenCount`` in ``AWS/Bedrock`` with the
dimension ``ModelId``: the foundation model's id, or the inference profile (system or application) the caller
passed as its ``modelId``. They are minutes old where the bill is a day or two late, so they are what an estimate
of today's spend reads (the Bedrock spend guard may reuse this reader); unit costs price the bill's own token
quantities. Reads go through ``CloudWatchMetrics``: one ``ListMetrics`` pass to find the ids, then batched
``GetMetricData`` (500 queries a call), so requests grow with ceil(queries / 500), never with models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.models.idle_ports import MetricQuery

NAMESPACE = "AWS/Bedrock"
DIMENSION = "ModelId"
METRICS = ("Invocations", "InputTokenCount", "OutputTokenCount")


def queries(model_ids: Sequence[str], period: int, metrics: Sequence[str] = METRICS) -> list[MetricQuery]:
    """One ``Sum`` query per model id and metric (``period`` seconds: 3600 hourly, 86400 daily)."""
    return [MetricQuery(NAMESPACE, name, ((DIMENSION, i),), "Sum", period) for i in model_ids for name in metrics]


@dataclass
class Reading:
    """Sums per ``(model id, metric)``: ``(period start, value)`` points; ids whose read failed; errors."""

    points: dict[tuple[str, str], list[tuple[datetime, float]]] = field(default_factory=dict)
    failed: set[tuple[str, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    requests: int = 0

    def total(self, model_id: str, metric: str) -> float | None:
        """The sum over the window; None when it could not be read (never zero for a failed read)."""
        if (model_id, metric) in self.failed:
            return None
        return sum(v for _, v in self.points.get((model_id, metric), []))


class BedrockMetrics:
    """Bedrock invocations and token counts through one ``CloudWatchMetrics`` (its request counter is shared)."""

    def __init__(self, metrics: CloudWatchMetrics) -> None:
        self.metrics = metrics

    def model_ids(self, region: str) -> list[str]:
        """Every ``ModelId`` with invocations in the last two weeks (``ListMetrics``, every page)."""
        found = self.metrics.dimensions(region, NAMESPACE, "Invocations")
        return sorted({value for dims in found for name, value in dims if name == DIMENSION})

    def read(
        self, region: str, model_ids: Sequence[str], start: datetime, end: datetime, *, period: int = 3600
    ) -> Reading:
        """The metrics of ``model_ids`` over ``[start, end)`` in ``period``-second sums."""
        wanted = queries(model_ids, period)
        batch = self.metrics.fetch(region, wanted, start, end)
        reading = Reading(errors=list(batch.errors), requests=batch.requests)
        for index, query in enumerate(wanted):
            key = (query.dimensions[0][1], query.name)
            if index in batch.failed:
                reading.failed.add(key)
            else:
                reading.points[key] = sorted(batch.points.get(index, []))
        return reading
