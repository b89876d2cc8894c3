"""The inventory snapshot: the burn rate starts from what runs now, not only from the launches the guard has seen.

Without it, an instance started before the guard was deployed (or whose launch event was missed) is invisible to
its team's rate, and its stop says "instance type not seen". The reaper's hourly run lists every EC2 instance of
every guarded region (the registry's own listing, one ``DescribeInstances`` page per 1,000 instances) and hands the
listing to ``seed``, which turns it into the same unit records the launch events keep (``burn.rate``). Pure: the
listing, the stored records, the prices and the previous snapshot's times come in; the changed records go out.

The rules (docs/burn.md, "The live rate"):

- **The snapshot's time is a start.** An instance listed running at ``T`` is a start at ``T`` under the existing
  rule (a resource runs while its newest start is after its newest stop). A record any event touched at or after
  ``T`` is left alone: a stop seen after the snapshot wins, a launch (or resize) seen after it wins, and its type,
  count and team are the event's. An instance listed *stopped* whose record runs is a stop at ``T``.
- **Gone from the listing** (terminated while its events were missed): a running EC2 record of a region the
  snapshot listed completely, that the snapshot does not list, and that nothing started or resized since the
  *previous* snapshot of that region, stops at ``T``. Anything started after the previous snapshot is kept until the
  next one (a launch minutes old may not be listed yet); the first snapshot of a region stops nothing. A region whose
  listing failed is not in the snapshot's scope: a failed read is never "nothing runs there".
- **Idempotent**: the same snapshot twice changes nothing (the second finds every record already at ``T``).
- **Priced like a launch**: one ``Quote`` per distinct (type, region, market); a type without a price is counted
  as unpriced (``Team.unpriced``), never as zero.
- **Members of a group** (Auto Scaling, EKS node group, EMR: their parent's tag) are skipped, as their launch events
  are: the parent's count is what counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from costwarden.burn.events import PARENT_TAGS, Change, Market
from costwarden.burn.rate import Units
from costwarden.core.owner import first_team
from costwarden.models.idle_ports import Quote
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

#: The previous snapshot's time per listed scope (sk ``<account>#<region>``).
SNAPSHOT_PK = "burn#snapshot"
RESOURCE_TYPE = "ec2:instance"
#: Instance states that run (and bill); the listing's others (stopping, stopped) do not.
RUNNING_STATES = frozenset({"pending", "running"})
#: ``InstanceLifecycle`` in ``DescribeInstances`` -> the market it is priced in (absent: on demand).
MARKETS: Mapping[str, Market] = {"spot": "spot", "capacity-block": "capacity-block"}

#: One instance's price identity, as ``burn.run.PriceKey``: (price list, type, region, market, zone).
PriceKey = tuple[str, str, str, str, str]
Scope = tuple[str, str]
"""(account, region) listed completely by this snapshot."""


@dataclass(frozen=True)
class Seen:
    """One instance the listing shows."""

    key: str
    region: str
    account: str
    instance_type: str
    running: bool
    market: Market
    tags: Mapping[str, str]

    @property
    def price_key(self) -> PriceKey:
        return ("ec2", self.instance_type, self.region, self.market, "")


@dataclass(frozen=True)
class Snapshot:
    """What one listing saw at ``at``, and the (account, region) scopes it covered completely."""

    at: datetime
    scopes: frozenset[Scope]
    seen: tuple[Seen, ...]

    def price_keys(self) -> list[PriceKey]:
        """The distinct prices the running instances need (what Price List requests can grow with)."""
        return sorted({s.price_key for s in self.seen if s.running and s.instance_type})


@dataclass
class Seeded:
    """What one snapshot did to the records (the run's summary)."""

    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    kept: int = 0
    """Listed, but an event at or after the snapshot's time already says what is true."""

    def totals(self) -> dict[str, int]:
        return {"seeded": len(self.started), "stopped": len(self.stopped), "gone": len(self.gone), "kept": self.kept}


def account_of(arn: str) -> str:
    """The account of an ARN (empty when it names none)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def snapshot_of(
    resources: Iterable[Resource], *, at: datetime, listed: Iterable[Scope], failed_regions: Iterable[str] = ()
) -> Snapshot:
    """The snapshot of a registry listing of EC2 instances (``resources.inventory.collect_every``): group members
    skipped, a failed region out of scope (``listed``: every (account, region) the listing covered)."""
    failed = set(failed_regions)
    seen = tuple(
        Seen(
            key=f"ec2:{r.id}",
            region=r.region,
            account=account_of(r.arn),
            instance_type=str(r.details.get("instance_type") or ""),
            running=r.state in RUNNING_STATES,
            market=MARKETS.get(str(r.details.get("lifecycle") or ""), "on-demand"),
            tags=dict(r.tags),
        )
        for r in resources
        if r.type == RESOURCE_TYPE and r.region not in failed and not any(t in r.tags for t in PARENT_TAGS)
    )
    return Snapshot(at, frozenset(s for s in listed if s[1] not in failed), seen)


def _change(snapshot: Snapshot, seen: Seen, action: Literal["start", "stop"]) -> Change:
    return Change(
        event_id=f"snapshot:{snapshot.at.isoformat()}",
        time=snapshot.at,
        call="inventory snapshot",
        region=seen.region,
        account=seen.account,
        action=action,
        resource_type=RESOURCE_TYPE,
        resources=(seen.key,),
        service="ec2" if seen.instance_type else "",
        instance_type=seen.instance_type if action == "start" else "",
        market=seen.market,
        tags=seen.tags,
    )


def _newest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _scope(snapshot: Snapshot, account: str, region: str) -> Scope | None:
    """The listed scope a record belongs to (a record of no known account: the region's only listed account)."""
    if (account, region) in snapshot.scopes:
        return (account, region)
    candidates = [s for s in snapshot.scopes if s[1] == region]
    return candidates[0] if not account and len(candidates) == 1 else None


def seed(
    units: Units,
    snapshot: Snapshot,
    *,
    previous: Mapping[Scope, datetime],
    quotes: Mapping[PriceKey, Quote],
    policy: TagPolicy,
) -> Seeded:
    """Apply ``snapshot`` to ``units`` (see the module docstring); ``units.changed`` names the records to write."""
    done = Seeded()
    at = snapshot.at
    listed = set()
    for seen in snapshot.seen:
        listed.add(seen.key)
        unit = units.units.get(seen.key)
        newest = _newest(unit.launched_at, unit.stopped_at, unit.count_at) if unit else None
        if newest is not None and newest >= at:
            done.kept += 1  # an event at or after the snapshot (or this very snapshot) already decided
        elif seen.running:
            team = first_team([seen.tags], policy)
            quote = quotes.get(seen.price_key) or Quote(None, "Hrs", "instance type not listed: price unknown")
            units.apply(_change(snapshot, seen, "start"), team=team, quote=quote)
            done.started.append(seen.key)
        elif unit is not None and unit.running:
            units.apply(_change(snapshot, seen, "stop"), team="", quote=None)
            done.stopped.append(seen.key)
    for key, unit in sorted(units.units.items()):
        scope = _scope(snapshot, unit.account, unit.region)
        since = previous.get(scope) if scope else None
        if key in listed or unit.resource_type != RESOURCE_TYPE or not unit.running or since is None:
            continue
        if (_newest(unit.launched_at, unit.count_at) or at) <= since:
            gone = Seen(key, unit.region, unit.account, "", False, "on-demand", {})
            units.apply(_change(snapshot, gone, "stop"), team="", quote=None)
            done.gone.append(key)
    return done


def scopes_of(snapshot: Snapshot) -> list[tuple[str, str, dict[str, str]]]:
    """The snapshot's own records (``SNAPSHOT_PK``): its time per scope, the next snapshot's ``previous``."""
    return [
        (SNAPSHOT_PK, f"{account}#{region}", {"at": snapshot.at.isoformat()}) for account, region in snapshot.scopes
    ]


def previous_of(items: Sequence[Mapping[str, object]]) -> dict[Scope, datetime]:
    """The stored snapshot times by scope (a damaged record reads as absent: that scope stops nothing this time)."""
    out: dict[Scope, datetime] = {}
    for item in items:
        account, _, region = str(item.get("sk", "")).partition("#")
        try:
            at = datetime.fromisoformat(str(item.get("at")))
        except ValueError:
            continue
        if region and at.tzinfo is not None:
            out[(account, region)] = at
    return out
