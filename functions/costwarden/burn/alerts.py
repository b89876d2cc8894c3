"""The burn-rate alert's words: who launched what, where, the USD per hour, the day and month at this rate.

The envelope is the one alert builder's (``core.alerts.build``); the key is the cost anomaly's own
(``CostKey(series, day, severity)``, series ``<team>|``): the same episode the daily detector keeps, so the Slack
buttons that act on an episode (it was planned, the hard limit's Enforce / Hold) act on this one, and the next
morning's run of the detector finds it open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from costwarden.core import alerts
from costwarden.core.keys import CostKey
from costwarden.core.money import usd
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.pricing import HOURS_PER_MONTH

#: Launches named in an alert (largest first); the rest are "... and N more".
LAUNCHES_SHOWN = 8


@dataclass(frozen=True)
class Launch:
    """One priced launch, as ``costwarden burn`` lists it and an alert names it."""

    event_id: str
    time: datetime
    team: str
    region: str
    resource_type: str
    instance_type: str
    count: int
    usd_per_hour: float | None
    caller: str
    note: str
    account: str = ""
    resources: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "time": self.time.isoformat(),
            "team": self.team,
            "region": self.region,
            "resource_type": self.resource_type,
            "instance_type": self.instance_type or None,
            "count": self.count,
            "usd_per_hour": None if self.usd_per_hour is None else round(self.usd_per_hour, 4),
            "caller": self.caller,
            "note": self.note,
        }

    def line(self) -> str:
        price = f"{usd(self.usd_per_hour, cents=True)}/h" if self.usd_per_hour is not None else "price unknown"
        what = f"{self.count} x {self.instance_type or 'unknown type'}"
        return f"{what} ({self.resource_type}) in {self.region}: {price}, by {self.caller or 'unknown caller'}"

    def arns(self) -> list[str]:
        """The ARNs of what it launched, where the key names one (EC2 instances, SageMaker notebooks and jobs)."""
        where = f"{self.region}:{self.account}"
        kinds = {
            "ec2": f"arn:aws:ec2:{where}:instance/",
            "sagemaker-notebook": f"arn:aws:sagemaker:{where}:notebook-instance/",
            "sagemaker-training": f"arn:aws:sagemaker:{where}:training-job/",
        }
        found = []
        for key in self.resources:
            kind, _, name = key.partition(":")
            if kind in kinds and name and self.account:
                found.append(kinds[kind] + (name if kind == "ec2" else name.lower()))
        return found


@dataclass(frozen=True)
class Judged:
    """A team's rate against its baseline at one moment."""

    team: str
    time: datetime
    usd_per_hour: float
    baseline_day_usd: float | None
    planned_usd: float
    severity: Severity | None

    @property
    def projected_day_usd(self) -> float:
        return self.usd_per_hour * 24

    @property
    def projected_month_usd(self) -> float:
        return self.usd_per_hour * HOURS_PER_MONTH

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "severity": None if self.severity is None else self.severity.value,
            "usd_per_hour": round(self.usd_per_hour, 4),
            "projected_day_usd": round(self.projected_day_usd, 2),
            "baseline_day_usd": None if self.baseline_day_usd is None else round(self.baseline_day_usd, 2),
            "time": self.time.isoformat(),
        }


def short_caller(arn: str) -> str:
    """``alice (ml-research-launcher)`` for an assumed role's session, the name for a user, else the ARN as is."""
    kind, _, rest = arn.rpartition(":")[2].partition("/")
    if kind == "assumed-role" and "/" in rest:
        role, session = rest.split("/", 1)
        return f"{session} ({role})"
    return rest.rsplit("/", 1)[-1] if kind in {"user", "role"} and rest else arn


def burn_event(
    judged: Judged, launches: Sequence[Launch], *, unpriced: int, rule: str, now: datetime | None = None
) -> AlertEvent:
    """The alert for a team whose rate puts the day over its baseline (``judged.severity`` set), raised at ``now``
    (the batch's time, minutes after the launch; default the launch's own time)."""
    assert judged.severity is not None
    team, day = judged.team, judged.time.date().isoformat()
    ordered = sorted(launches, key=lambda launch: -(launch.usd_per_hour or 0.0))
    top = ordered[0] if ordered else None
    baseline = judged.baseline_day_usd or 0.0
    allowed = baseline + judged.planned_usd
    ratio = judged.projected_day_usd / allowed if allowed > 0 else None
    what = f"{top.count} x {top.instance_type or 'unknown type'} in {top.region}" if top else "launches"
    who = f" by {short_caller(top.caller)}" if top and top.caller else ""
    title = f"{team}: {usd(judged.usd_per_hour)}/hour after {what}{who}"
    summary = (
        f"{team}'s launches now burn {usd(judged.usd_per_hour, cents=True)} an hour: {usd(judged.projected_day_usd)} "
        f"a day at this rate, against a usual day of {usd(baseline)}"
        + (f" plus {usd(judged.planned_usd)} planned" if judged.planned_usd else "")
        + (f" ({ratio:.1f}x)" if ratio else "")
        + f". Seen minutes after the launch, not on tomorrow's bill ({rule})."
    )
    figures: dict[str, object] = {
        "USD per hour": usd(judged.usd_per_hour, cents=True),
        "Day at this rate": usd(judged.projected_day_usd),
        "Month at this rate": usd(judged.projected_month_usd),
        "Usual day": usd(baseline),
        "Launched by": top.caller if top and top.caller else "-",
        "Where": f"{top.region} ({top.account})" if top and top.account else (top.region if top else "-"),
    }
    if judged.planned_usd:
        figures["Planned"] = usd(judged.planned_usd)
    if unpriced:
        figures["Unknown price"] = f"{unpriced} instance(s): not in the rate"
    tags = dict(top.tags or {}) if top else {}
    items = [launch.line() for launch in ordered]
    if tags:
        items.insert(0, "tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    extra = {
        "usd_per_hour": round(judged.usd_per_hour, 4),
        "projected_day_usd": round(judged.projected_day_usd, 2),
        "projected_month_usd": round(judged.projected_month_usd, 2),
        "baseline_day_usd": judged.baseline_day_usd,
        "planned_usd": judged.planned_usd,
        "caller": top.caller if top else "",
        "tags": tags,
        "launches": [{**launch.as_dict(), "arns": launch.arns()[:20]} for launch in ordered[:LAUNCHES_SHOWN]],
    }
    key = CostKey(f"{team}|", day, judged.severity.value)
    return alerts.build(
        AlertKind.BURN_RATE,
        judged.severity,
        team,
        key,
        title=title,
        summary=summary,
        figures=figures,
        items=items,
        max_items=LAUNCHES_SHOWN,
        extra=extra,
        now=now or judged.time,
    )
