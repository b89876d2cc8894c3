"""The team's live burn rate: what runs now, kept per resource in the state table, and what each change does to it.

One record per resource (pk ``burn#unit``, sk the resource key ``ec2:i-0abc``): its team, type, count, the USD per
hour of one instance (None: unknown, said so), and the times of the newest start (``launched_at``), stop
(``stopped_at``) and count change (``count_at``) seen. A resource runs while its newest start is after its newest
stop, so events applied in any order give the same answer (EventBridge may deliver a stop before its launch, and
delivers at least once: applying an event twice changes nothing). A stop of a resource never seen leaves a
tombstone, so the launch that arrives after it does not count.

The team's rate is the sum of its running resources' ``usd_each x count`` (instances of unknown price are counted
apart, never as zero). ``Units`` keeps the totals per team as changes are applied, so a batch of 10,000 events is
one pass (and one state-table query for what was running before it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costwarden.burn.events import Change
from costwarden.models.expiry import stored_instant
from costwarden.models.idle_ports import Quote
from costwarden.models.ports import StateStore

UNIT_PK = "burn#unit"
EVENT_PK = "burn#event"


@dataclass
class Unit:
    """One resource's record (see the module docstring)."""

    key: str
    team: str = ""
    resource_type: str = ""
    region: str = ""
    account: str = ""
    service: str = ""
    instance_type: str = ""
    market: str = "on-demand"
    count: int = 0
    usd_each: float | None = None
    note: str = ""
    caller: str = ""
    launched_at: datetime | None = None
    stopped_at: datetime | None = None
    count_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.launched_at is not None and (self.stopped_at is None or self.launched_at > self.stopped_at)

    @property
    def usd_per_hour(self) -> float:
        """What it adds to its team's rate now (0 when stopped or of unknown price)."""
        return self.usd_each * self.count if self.running and self.usd_each is not None else 0.0

    @property
    def unpriced(self) -> int:
        """Instances running at an unknown price."""
        return self.count if self.running and self.usd_each is None else 0

    def to_item(self) -> dict[str, Any]:
        item = {k: v for k, v in self.__dict__.items() if k != "key"}
        for name in ("launched_at", "stopped_at", "count_at"):
            item[name] = item[name].isoformat() if item[name] else None
        return item

    @classmethod
    def from_item(cls, key: str, item: Mapping[str, Any]) -> Unit:
        """A stored record (a damaged field reads as absent, never raises)."""

        def text(name: str) -> str:
            return str(item.get(name) or "")

        usd = item.get("usd_each")
        try:
            usd_each = float(usd) if usd is not None else None
            count = max(int(item.get("count") or 0), 0)
        except (TypeError, ValueError):
            usd_each, count = None, 0
        return cls(
            key=key,
            team=text("team"),
            resource_type=text("resource_type"),
            region=text("region"),
            account=text("account"),
            service=text("service"),
            instance_type=text("instance_type"),
            market=text("market") or "on-demand",
            count=count,
            usd_each=usd_each,
            note=text("note"),
            caller=text("caller"),
            launched_at=stored_instant(item.get("launched_at")),
            stopped_at=stored_instant(item.get("stopped_at")),
            count_at=stored_instant(item.get("count_at")),
        )


@dataclass
class Team:
    """A team's rate now: USD per hour of what runs at a known price, and instances of unknown price."""

    usd_per_hour: float = 0.0
    unpriced: int = 0


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@dataclass
class Units:
    """The resources' records and every team's rate, updated change by change (``apply``)."""

    units: dict[str, Unit] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, items: Iterable[Mapping[str, Any]]) -> Units:
        found = cls()
        for item in items:
            unit = Unit.from_item(str(item["sk"]), item)
            found.units[unit.key] = unit
            found._add(unit, 1)
        return found

    def _add(self, unit: Unit, sign: int) -> None:
        if not unit.team or not unit.running:
            return
        team = self.teams.setdefault(unit.team, Team())
        team.usd_per_hour += sign * unit.usd_per_hour
        team.unpriced += sign * unit.unpriced
        if abs(team.usd_per_hour) < 1e-9:  # float dust after adds and removes
            team.usd_per_hour = 0.0

    def keys_for(self, change: Change) -> list[str]:
        """The resources ``change`` touches (a prefix: every record under it, e.g. an EMR cluster's groups)."""
        if not change.prefix:
            return list(change.resources)
        return [key for key in self.units if any(key.startswith(p) for p in change.resources)]

    def apply(self, change: Change, *, team: str, quote: Quote | None) -> list[Unit]:
        """Apply one change to the records it touches (``team``: the launch's owner; ``quote``: one instance's
        price); the records after it."""
        touched = []
        for key in self.keys_for(change):
            unit = self.units.get(key) or Unit(key=key, resource_type=change.resource_type)
            self._add(unit, -1)
            _change(unit, change, team, quote)
            self.units[key] = unit
            self._add(unit, 1)
            self.changed.add(key)
            touched.append(unit)
        return touched

    def rate(self, team: str) -> Team:
        return self.teams.get(team, Team())

    def save(self, store: StateStore, ttl_days: float) -> None:
        """Write the records this batch changed (one batched write)."""
        items = [(UNIT_PK, key, self.units[key].to_item()) for key in sorted(self.changed)]
        if items:
            store.put_many(items, ttl_days=ttl_days)
        self.changed.clear()


def _change(unit: Unit, change: Change, team: str, quote: Quote | None) -> None:
    """What one change does to one record: newest time wins for starts, stops and counts; a type fills in."""
    unit.region = change.region or unit.region
    unit.account = change.account or unit.account
    if change.instance_type:
        unit.instance_type, unit.service, unit.market = change.instance_type, change.service, change.market
        if quote is not None:
            unit.usd_each, unit.note = quote.usd, quote.note
    elif unit.usd_each is None and change.note and not unit.note:
        unit.note = change.note
    if change.action == "start":
        if team and (not unit.team or change.tags):
            unit.team = team
        unit.caller = change.caller or unit.caller
        unit.launched_at = _later(unit.launched_at, change.time)
        if not unit.instance_type and not unit.note:
            unit.note = "instance type not seen (launched before the guard watched it)"
    elif change.action == "stop":
        unit.stopped_at = _later(unit.stopped_at, change.time)
    if change.action in {"start", "resize"} and (unit.count_at is None or change.time >= unit.count_at):
        unit.count, unit.count_at = change.count, change.time
