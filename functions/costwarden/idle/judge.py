"""Busy or idle: the rules every idle check shares — pure. Each check (``costwarden.idle.checks``) holds its own
judgement and applies these.

A metric is judged on hourly values (the average of each hour's data points; for several GPUs the busiest GPU
of each hour). Rules, in order:

* Younger than the lookback: not judged (it may still be starting its work).
* Too few hours with data (below ``min_coverage`` of the lookback): not judged — missing data is never read as
  idle (an agent that stopped reporting is not an idle GPU). No data at all is its own finding (``no_metrics``).
* Busy when at least ``min_busy_hours`` hours reach ``threshold_percent``: a nightly 2-hour training run at 90 %
  makes 14 busy hours a week, so it is busy, however low the average is. Idle otherwise.

A cluster is judged from its members (``combine_members``): busy when any member is busy, idle only when all are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from costwarden.idle.model import Kind, Window
from costwarden.models.idle_ports import MetricSeries, epoch_seconds
from costwarden.settings import IdleSettings

#: ``(timestamp, value)`` data points of one metric, in any order.
type Points = Sequence[tuple[datetime, float]]

_FAMILY = re.compile(r"^([a-z]+?)\d")
_HOUR_ZERO = datetime(1970, 1, 1, tzinfo=UTC)


class State(StrEnum):
    BUSY = "busy"
    IDLE = "idle"
    NO_DATA = "no_data"
    INSUFFICIENT = "insufficient"


@dataclass(frozen=True)
class Utilisation:
    """One metric over the window: its state, the busiest hour, how many hours were busy and had data."""

    state: State
    max_hourly: float | None
    busy_hours: int
    hours_with_data: int
    expected_hours: int

    def describe(self, label: str, days: float) -> str:
        """``GPU 2 % max-hourly over 7 days (0 of 168 h at or above 15 %)`` — the evidence an alert states."""
        if self.max_hourly is None:
            return f"{label}: no data points over {days_text(days)}"
        text = f"{label} {self.max_hourly:.0f} % max-hourly over {days_text(days)}"
        if self.state is State.INSUFFICIENT:
            text += f" (only {self.hours_with_data} of {self.expected_hours} hours have data)"
        return text


@dataclass(frozen=True)
class Verdict:
    """The outcome for one resource: a finding kind (None: busy, nothing to report), or not judged with a reason."""

    kind: Kind | None
    evidence: str
    judged: bool = True

    @property
    def busy(self) -> bool:
        return self.judged and self.kind is None


def days_text(days: float) -> str:
    """``7 days``, ``1 day``, ``2.5 days``: how evidence states a span."""
    whole = round(days)
    return f"{whole} day{'s' if whole != 1 else ''}" if abs(days - whole) < 0.01 else f"{days:.1f} days"


def hour_of(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly(points: Points, window: Window) -> dict[datetime, float]:
    """The average of each hour's data points inside the window (CloudWatch may hand back sub-hour points).

    A ``MetricSeries`` (what the CloudWatch adapter returns) is judged on its columns (``_hourly_columns``); any
    other sequence of pairs point by point. Both give the same hours and the same averages (a property test)."""
    if isinstance(points, MetricSeries):
        return _hourly_columns(points, window)
    sums: dict[datetime, list[float]] = {}
    for moment, value in points:
        hour = hour_of(moment)
        if window.start <= hour < window.end:
            sums.setdefault(hour, []).append(float(value))
    return {hour: sum(values) / len(values) for hour, values in sums.items()}


def _hourly_columns(series: MetricSeries, window: Window) -> dict[datetime, float]:
    """``hourly`` over POSIX-second columns: hour numbers in one bulk pass; when no hour has two points (CloudWatch
    at a one-hour period) each value is its hour's average as it stands, else values are grouped per hour and
    averaged with ``sum`` in point order (as the point path does), so the results are identical."""
    low, high = epoch_seconds(window.start), epoch_seconds(window.end)
    numbers = [int(second // 3600) for second in series.seconds]
    inside = [(hour, value) for hour, value in zip(numbers, series.values, strict=True) if low <= hour * 3600 < high]
    if len({hour for hour, _ in inside}) == len(inside):
        return {_hour_at(hour): sum((value,)) for hour, value in inside}
    groups: dict[int, list[float]] = {}
    for hour, value in inside:
        groups.setdefault(hour, []).append(value)
    return {_hour_at(hour): sum(values) / len(values) for hour, values in groups.items()}


#: Hour number → its UTC datetime, shared by every series of a run (they cover the same few hundred hours).
_HOURS: dict[int, datetime] = {}


def _hour_at(hour: int) -> datetime:
    moment = _HOURS.get(hour)
    if moment is None:
        if len(_HOURS) > 100_000:
            _HOURS.clear()
        moment = _HOURS[hour] = _HOUR_ZERO + timedelta(hours=hour)
    return moment


def busiest(series: Iterable[Points], window: Window) -> dict[datetime, float]:
    """Per hour, the busiest of several metrics (GPUs of one instance): one busy GPU makes the hour busy."""
    out: dict[datetime, float] = {}
    for points in series:
        for hour, value in hourly(points, window).items():
            out[hour] = max(value, out.get(hour, value))
    return out


def utilisation(hours: dict[datetime, float], window: Window, cfg: IdleSettings) -> Utilisation:
    """Busy, idle, or not enough data, from hourly values (see the module docstring for the rules)."""
    expected = max(window.hours, 1)
    if not hours:
        return Utilisation(State.NO_DATA, None, 0, 0, expected)
    busy = sum(1 for value in hours.values() if value >= cfg.threshold_percent)
    peak = max(hours.values())
    if busy >= cfg.min_busy_hours:
        return Utilisation(State.BUSY, peak, busy, len(hours), expected)
    if len(hours) < cfg.min_coverage * expected:
        return Utilisation(State.INSUFFICIENT, peak, busy, len(hours), expected)
    return Utilisation(State.IDLE, peak, busy, len(hours), expected)


def instance_family(instance_type: str) -> str:
    """``p4d.24xlarge`` → ``p``, ``inf2.xlarge`` → ``inf``, ``trn1.2xlarge`` → ``trn``, ``ml.g5.xlarge`` → ``g``."""
    name = instance_type.removeprefix("ml.").split(".", 1)[0].lower()
    match = _FAMILY.match(name)
    return match.group(1) if match else name


def is_gpu_type(instance_type: str, cfg: IdleSettings) -> bool:
    return instance_family(instance_type) in {f.lower() for f in cfg.gpu_families}


def too_young(started: datetime | None, window: Window) -> str | None:
    """The reason a resource is not judged yet, when it started after the lookback began."""
    if started is not None and started > window.start:
        age = window.end - started
        return f"younger than the lookback ({days_text(window.days)}): running for {days_text(age / timedelta(days=1))}"
    return None


def combine_members(verdicts: Sequence[Verdict]) -> Verdict:
    """A cluster from its members: busy when any member is busy; idle only when every member was judged idle;
    ``gpu_idle`` when all are idle or GPU-idle; ``no_metrics`` when some cannot be judged for lack of a metric."""
    if not verdicts:
        return Verdict(None, "no running members", judged=False)
    if any(v.busy for v in verdicts):
        busy = sum(1 for v in verdicts if v.busy)
        return Verdict(None, f"{busy} of {len(verdicts)} members busy")
    if any(not v.judged for v in verdicts):
        reasons = sorted({v.evidence for v in verdicts if not v.judged})
        return Verdict(None, f"members not judged: {reasons[0]}", judged=False)
    kinds = {v.kind for v in verdicts}
    if Kind.NO_METRICS in kinds:
        return Verdict(Kind.NO_METRICS, next(v.evidence for v in verdicts if v.kind is Kind.NO_METRICS))
    kind = Kind.IDLE if kinds == {Kind.IDLE} else Kind.GPU_IDLE
    return Verdict(kind, f"all {len(verdicts)} members: {verdicts[0].evidence}")


def days_since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (now - moment).total_seconds() / 86_400
