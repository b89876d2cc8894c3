"""What the idle finder reports: one ``Finding`` per resource (or per cluster), plain data, JSON-able."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

#: Where each scan leaves its summary for the daily digest (state table ``pk``/``sk``).

#: Hours in an average month (365 * 24 / 12): how hourly prices become "USD per month".


class Kind(StrEnum):
    """Why a resource is reported (the ``kind`` of the CLI's JSON)."""

    IDLE = "idle"
    GPU_IDLE = "gpu_idle"
    UNDERUSED = "underused"
    NO_METRICS = "no_metrics"
    NO_AUTOSTOP = "no_autostop"
    UNATTACHED = "unattached"
    STOPPED = "stopped"


#: Kinds whose monthly cost is waste (paid for nothing). The others put money at stake but are not proven waste:
#: ``underused`` (some traffic), ``no_metrics`` (cannot judge), ``no_autostop`` (no idle metric exists).
WASTE_KINDS = frozenset({Kind.IDLE, Kind.GPU_IDLE, Kind.UNATTACHED, Kind.STOPPED})


@dataclass(frozen=True)
class Finding:
    """One reported resource. ``monthly_usd`` is None when no price could be found; ``price_note`` says why.

    ``type`` is the reaper registry's type name; a cluster (Auto Scaling group, EKS node group, EMR cluster) is one
    finding whose price is the sum of its members'. ``monthly_usd`` is a rate: what the resource costs a month if it
    stays as it was over the ``judged_hours`` it was judged on (the lookback, or an EMR cluster's last hours; None
    when not known), so alerts say "at this rate" and never call a two-hour spell a week of waste.
    """

    arn: str
    id: str
    type: str
    region: str
    team: str
    kind: Kind
    monthly_usd: float | None
    evidence: str
    recommendation: str
    price_note: str = ""
    environment: str = ""
    commands: tuple[str, ...] = ()
    judged_hours: float | None = None
    #: Carries the configured protect tag: Slack offers no *Stop* for it (the one action path refuses it anyway).
    protected: bool = False
    #: The resource's person (``core.owner.person_of``): who gets a direct message about it; None when its tags name
    #: nobody. Not in ``to_dict`` (the CLI's shape): an address is for the notifier, not for every JSON listing.
    person: str | None = None

    @property
    def is_waste(self) -> bool:
        return self.kind in WASTE_KINDS

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape (``arn, id, type, region, team, kind, monthly_usd, evidence, recommendation``) plus
        the price note and the exact commands."""
        data = asdict(self)
        data["kind"] = self.kind.value
        data["commands"] = list(self.commands)
        data.pop("person")
        if self.monthly_usd is not None:
            data["monthly_usd"] = round(self.monthly_usd, 2)
        return data


@dataclass(frozen=True)
class NotJudged:
    """A resource the finder looked at but could not judge (too young, too little data): counted, never guessed."""

    arn: str
    type: str
    region: str
    reason: str


@dataclass(frozen=True)
class Window:
    """The lookback: ``[start, end)``, whole hours, UTC."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400
