"""Where the idle finder's logic meets AWS: the interfaces its adapters implement (``costwarden.adapters``).

The logic sees plain data only; the handler and the CLI wire ``adapters.cloudwatch_metrics``,
``adapters.pricing`` and ``adapters.idle_describe`` in, and tests may wire anything that fits.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, overload

from costwarden.models.ports import StateStore

#: A dimension set, sorted: ``(("InstanceId", "i-1"), ("index", "0"))``.
type Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricQuery:
    """One metric statistic to read: ``GetMetricData``'s ``MetricStat``."""

    namespace: str
    name: str
    dimensions: Dimensions
    stat: str
    period: int


def epoch_seconds(moment: datetime) -> float:
    """POSIX seconds of ``moment``; a naive time is UTC (as ``idle.judge.hour_of`` reads it), never local time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class MetricSeries(Sequence[tuple[datetime, float]]):
    """One metric's data points as two columns of C doubles (POSIX seconds, values), not a tuple per point.

    ``GetMetricData`` answers with parallel ``Timestamps`` and ``Values`` lists; keeping them as arrays lets the
    idle judge bucket 350,000 points by hour without a Python object per point (``idle.judge.hourly``). It is
    still a sequence of ``(timestamp, value)`` pairs for every reader that wants one (built on demand).
    """

    __slots__ = ("seconds", "values")

    def __init__(self, seconds: Iterable[float] = (), values: Iterable[float] = ()) -> None:
        self.seconds = array("d", seconds)
        self.values = array("d", values)
        if len(self.seconds) != len(self.values):
            raise ValueError(f"{len(self.seconds)} timestamps but {len(self.values)} values")

    @classmethod
    def of(cls, points: Iterable[tuple[datetime, float]]) -> MetricSeries:
        """The columns of ``(timestamp, value)`` pairs (tests and fakes build series this way)."""
        pairs = list(points)
        return cls(map(epoch_seconds, (t for t, _ in pairs)), (float(v) for _, v in pairs))

    def extend(self, timestamps: Sequence[datetime], values: Sequence[float]) -> None:
        """Append one page of a series; unequal lists are cut to the shorter (as ``zip`` did). Raises
        ``TypeError``/``ValueError`` on a value that is not a number, before anything is appended."""
        n = min(len(timestamps), len(values))
        seconds = array("d", map(epoch_seconds, timestamps[:n]))
        numbers = array("d", values[:n])
        self.seconds.extend(seconds)
        self.values.extend(numbers)

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> tuple[datetime, float]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[datetime, float]]: ...
    def __getitem__(self, index: int | slice) -> tuple[datetime, float] | list[tuple[datetime, float]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return datetime.fromtimestamp(self.seconds[index], UTC), self.values[index]

    def __iter__(self) -> Iterator[tuple[datetime, float]]:
        for second, value in zip(self.seconds, self.values, strict=True):
            yield datetime.fromtimestamp(second, UTC), value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetricSeries):
            return self.seconds == other.seconds and self.values == other.values
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"MetricSeries({len(self)} points)"


@dataclass
class MetricBatch:
    """What a fetch returned: points per query index (a ``MetricSeries`` from CloudWatch; fakes may hand plain pairs),
    the indexes that failed, requests sent, errors."""

    points: dict[int, Sequence[tuple[datetime, float]]] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    requests: int = 0
    errors: list[str] = field(default_factory=list)


class MetricReader(Protocol):
    def fetch(self, region: str, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> MetricBatch:
        """Read every query over ``[start, end)`` in as few ``GetMetricData`` calls as the limits allow."""
        ...

    def dimensions(self, region: str, namespace: str, name: str) -> list[Dimensions]:
        """Every dimension set the metric has in ``region`` (``ListMetrics``, every page); raises on failure."""
        ...


@dataclass(frozen=True)
class Quote:
    """A price: ``usd`` per ``unit`` (``Hrs``, ``GB-Mo``), or None with ``note`` saying why there is none."""

    usd: float | None
    unit: str
    note: str = ""


class PriceBook(Protocol):
    def on_demand_price(self, service: str, instance_type: str, region: str) -> Quote:
        """On-demand USD per hour of ``instance_type`` (``ec2``, ``sagemaker-hosting``, ``sagemaker-notebook``)."""
        ...

    def storage_price(self, volume_type: str, region: str) -> Quote:
        """EBS USD per GB-month of ``volume_type`` (gp3, gp2, io2, st1...)."""
        ...


@dataclass(frozen=True)
class Variant:
    """One production variant of a SageMaker endpoint: instance type (empty for serverless) and count."""

    name: str
    instance_type: str
    count: int


@dataclass(frozen=True)
class Listing:
    """A paged describe call listing an idle type the reaper's registry does not hold (Custodian's ``enum_spec``).

    ``operation`` is the boto3 method (``describe_capacity_reservations``), ``key`` the list in each page
    (``CapacityReservations``), ``params`` the fixed request (server-side filters); ``source`` names it in errors.
    """

    service: str
    operation: str
    key: str
    source: str
    params: Mapping[str, Any] = field(default_factory=dict)


class Describer(Protocol):
    def list_all(self, region: str, listing: Listing) -> list[dict[str, Any]]:
        """Every item of ``listing`` in ``region``, one request per page; raises on failure."""
        ...

    def endpoint_variants(self, region: str, name: str) -> list[Variant]: ...

    def emr_instance_groups(self, region: str, cluster_id: str) -> list[tuple[str, int]]:
        """``(instance type, running count)`` per instance group or fleet of the cluster."""
        ...

    def emr_auto_termination(self, region: str, cluster_id: str) -> bool | None:
        """Whether the cluster has an auto-termination policy; None when it could not be read."""
        ...

    def notebook_autostop(self, region: str, config_name: str) -> bool | None:
        """Whether the lifecycle configuration stops the notebook when idle; None when it could not be read."""
        ...


#: The state table as the idle finder uses it: the one state-store port (``models.ports.StateStore``), under the
#: name this package's callers import.
Store = StateStore
