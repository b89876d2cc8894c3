"""One burn-guard batch: read the events, price each distinct type once, apply the changes in time order, judge
each touched team's rate against its baseline, alert once (pure: every AWS part comes in through ``BurnPorts``).

1. **Read** (``burn.events``): failed calls, service-made instances and calls that change nothing are skipped.
2. **Once per event id**: an event already applied (``burn#event``, kept ``burn.event_ttl_days``) is skipped, so
   EventBridge's at-least-once delivery counts a launch once.
3. **Price** every distinct (price list, type, region, market) of the batch with one ``Prices.quote_all`` call:
   requests grow with distinct types and regions, never with launches. Unknown is ``None`` with the reason.
4. **Owner**: the request's tags (tag-on-create), else the caller's role tags, else unowned (``core.owner``).
5. **Rate** (``burn.rate.Units``), then **judge** each touched team at its peak in the batch: the day at this rate
   (USD/hour x 24) against the daily detector's baseline plus declared planned spend (``core.planned``), at the
   detector's own ratios and impact floor (``anomaly.*``).
6. **Alert** through the episode (``core.episodes.join``: a planned or snoozed episode is quiet, an open one alerts
   again only on escalation) and publish-once (``core.publish.send_once``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from costwarden.burn.alerts import Judged, Launch, burn_event
from costwarden.burn.events import Change, Ignored, Read, read_event
from costwarden.burn.rate import EVENT_PK, UNIT_PK, Units
from costwarden.core import episodes, planned
from costwarden.core.owner import UNOWNED_TEAM, first_team
from costwarden.core.publish import Outcome, send_once
from costwarden.models.alert import AlertEvent, Severity
from costwarden.models.idle_ports import Quote
from costwarden.models.ports import StateStore
from costwarden.settings import Settings

#: A price's identity: (price list service, instance type, region, market, zone).
PriceKey = tuple[str, str, str, str, str]
DEDUP_PK = "dedup#burn"
#: A burn alert's record is kept through the day it is about (and the next morning's daily run).
ALERT_TTL_DAYS = 3
#: The episode record's TTL: the cost monitor's for the same record (``cost.alerts.DEDUP_TTL_DAYS``).
EPISODE_TTL_DAYS = 120


class Prices(Protocol):
    """One price per instance of each key (``None`` with the reason when unknown), all asked at once."""

    def quote_all(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]: ...


Baseline = Callable[[str, date], float | None]
"""A team's daily baseline (USD) for a day, as the daily detector computes it; None without enough history."""


@dataclass
class BurnPorts:
    store: StateStore
    prices: Prices
    baseline: Baseline
    role_tags: Callable[[str], Mapping[str, str]] = lambda _role: {}
    publish: Callable[[AlertEvent], object] | None = None
    """None: judge and report, send nothing (``costwarden burn`` offline)."""


@dataclass
class BurnResult:
    """What one batch did: ``results()`` is the CLI's and the Lambda's answer, ``totals()`` its counts."""

    launches: list[Launch] = field(default_factory=list)
    duplicates: int = 0
    rates: list[dict[str, Any]] = field(default_factory=list)
    """Each touched team's rate after every change, in time order."""
    price_keys: int = 0
    """Distinct (price list, type, region, market) priced: what Price List requests can grow with."""
    alerts: list[Judged] = field(default_factory=list)
    """The teams alerted (with no publisher: that would be)."""
    events: list[AlertEvent] = field(default_factory=list)
    """The alert events published by this batch."""
    ignored: list[Ignored] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def results(self) -> dict[str, Any]:
        """``costwarden burn``'s and the Lambda's answer (the same object, docs/cli.schema.json ``burn_results``)."""
        return {
            "launches": [launch.as_dict() for launch in self.launches],
            "rates": self.rates,
            "alerts": [judged.as_dict() for judged in self.alerts],
        }

    def totals(self) -> dict[str, Any]:
        return {
            "launches": len(self.launches),
            "alerts": len(self.alerts),
            "ignored": len(self.ignored),
            "duplicates": self.duplicates,
            "unpriced_launches": sum(1 for launch in self.launches if launch.usd_per_hour is None),
            "distinct_prices": self.price_keys,
        }


def price_key(change: Change) -> PriceKey | None:
    if not change.instance_type or change.action not in {"start", "retype"}:
        return None
    zone = change.zone if change.market == "spot" else ""
    return (change.service, change.instance_type, change.region, change.market, zone)


def _fresh(events: Sequence[Any], store: StateStore, ttl_days: float, now: datetime) -> tuple[list[Read], int]:
    """What the events not applied before say (one conditional write per event id); how many were duplicates (in
    this batch or applied by an earlier one)."""
    fresh: list[Read] = []
    seen: set[str] = set()
    duplicates = 0
    for index, event in enumerate(events):
        reads = read_event(event, index)
        event_id = reads[0].event_id
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(event_id)
        if any(isinstance(r, Change) for r in reads) and not store.put_if_absent(
            EVENT_PK, event_id, {"at": now.isoformat()}, ttl_days
        ):
            duplicates += 1
            continue
        fresh.extend(reads)
    return fresh, duplicates


def _owner(change: Change, ports: BurnPorts, settings: Settings, cache: dict[str, Mapping[str, str]]) -> str:
    team = first_team([change.tags], settings.tags)
    if team != UNOWNED_TEAM or not change.role_arn:
        return team
    if change.role_arn not in cache:
        cache[change.role_arn] = ports.role_tags(change.role_arn)
    return first_team([cache[change.role_arn]], settings.tags)


def _severity(settings: Settings, projected: float, allowed: float) -> Severity | None:
    anomaly = settings.anomaly
    if allowed <= 0 or projected - allowed < anomaly.min_impact_usd:
        return None
    ratio = projected / allowed
    if ratio >= anomaly.critical_ratio:
        return Severity.CRITICAL
    return Severity.WARNING if ratio >= anomaly.warn_ratio else None


def _judge(settings: Settings, ports: BurnPorts, team: str, at: datetime, usd_per_hour: float) -> Judged:
    baseline = ports.baseline(team, at.date())
    extra = planned.planned_extra(ports.store.query(f"{planned.PK_PREFIX}{team}"), at.date())
    projected = usd_per_hour * 24
    severity = None if baseline is None else _severity(settings, projected, baseline + extra)
    return Judged(team, at, usd_per_hour, baseline, extra, severity)


def run_burn(events: Sequence[Any], settings: Settings, ports: BurnPorts, *, now: datetime) -> BurnResult:
    """One batch (see the module docstring); ``BurnInputError`` names a malformed event before anything is kept."""
    reads, duplicates = _fresh(events, ports.store, settings.burn.event_ttl_days, now)
    result = BurnResult(ignored=[r for r in reads if isinstance(r, Ignored)], duplicates=duplicates)
    changes = sorted((r for r in reads if isinstance(r, Change)), key=lambda c: (c.time, c.event_id))
    keys = sorted({key for key in map(price_key, changes) if key is not None})
    result.price_keys = len(keys)
    quotes = ports.prices.quote_all(keys) if keys else {}
    units = Units.load(ports.store.query(UNIT_PK))
    roles: dict[str, Mapping[str, str]] = {}
    peaks: dict[str, tuple[float, datetime]] = {}
    by_team: dict[str, list[Launch]] = {}
    for change in changes:
        team = _owner(change, ports, settings, roles) if change.action == "start" else ""
        key = price_key(change)
        quote = quotes.get(key) if key else None
        touched = units.apply(change, team=team, quote=quote)
        if change.action == "start":
            launch = _launch(change, touched, team)
            result.launches.append(launch)
            by_team.setdefault(launch.team, []).append(launch)
        for name in sorted({u.team for u in touched if u.team}):
            rate = units.rate(name)
            result.rates.append(_rate_row(name, change.time, rate.usd_per_hour, rate.unpriced))
            if rate.usd_per_hour > peaks.get(name, (-1.0, now))[0]:
                peaks[name] = (rate.usd_per_hour, change.time)
    units.save(ports.store, settings.burn.unit_ttl_days)
    for team, (peak, at) in sorted(peaks.items()):
        judged = _judge(settings, ports, team, at, peak)
        if judged.severity is None or (team == UNOWNED_TEAM and judged.baseline_day_usd is None):
            continue
        unpriced = units.rate(team).unpriced
        event = burn_event(judged, by_team.get(team, []), unpriced=unpriced, rule=_rule(settings), now=now)
        if _alert(event, judged, ports, now, result):
            result.alerts.append(judged)
    return result


def _rule(settings: Settings) -> str:
    days = settings.anomaly.baseline_days
    return f"baseline: the daily detector's, median of the previous {days} days"


def _launch(change: Change, touched: Sequence[Any], team: str) -> Launch:
    count = sum(unit.count for unit in touched)
    priced = [unit for unit in touched if unit.usd_each is not None]
    usd_per_hour = sum(u.usd_each * u.count for u in priced) if priced and len(priced) == len(touched) else None
    notes = sorted({unit.note for unit in touched if unit.note and unit.usd_each is None})
    note = "; ".join(notes) or ("" if usd_per_hour is not None else "price unknown")
    itype = change.instance_type or next((u.instance_type for u in touched if u.instance_type), "")
    return Launch(
        event_id=change.event_id,
        time=change.time,
        team=team or UNOWNED_TEAM,
        region=change.region,
        resource_type=change.resource_type,
        instance_type=itype,
        count=count,
        usd_per_hour=usd_per_hour,
        caller=change.caller,
        note=note if usd_per_hour is None else (change.note if "not included" in change.note else ""),
        account=change.account,
        resources=change.resources,
        tags=dict(change.tags),
    )


def _rate_row(team: str, at: datetime, usd_per_hour: float, unpriced: int) -> dict[str, Any]:
    return {
        "team": team,
        "time": at.isoformat(),
        "usd_per_hour": round(usd_per_hour, 4),
        "per_day_usd": round(usd_per_hour * 24, 2),
        "unpriced_instances": unpriced,
    }


def _alert(event: AlertEvent, judged: Judged, ports: BurnPorts, now: datetime, result: BurnResult) -> bool:
    """Fold into the team's episode; publish once when the episode says an alert is due. True when it is (or, with
    no publisher, would be) sent."""
    series = episodes.series_id(judged.team)
    day = judged.time.date().isoformat()
    assert judged.severity is not None
    current = ports.store.get(episodes.DEDUP_PK, series)
    figures = {"cost_usd": round(judged.projected_day_usd, 2), "baseline_usd": judged.baseline_day_usd or 0.0}
    item, due = episodes.join(_episode(current), day, judged.severity.value, figures)
    item["burn_alerted"] = day
    if ports.publish is None:
        return due
    outcome = Outcome.ALREADY_SENT
    if due:
        sent = send_once(
            event,
            key=(DEDUP_PK, event.dedup_key),
            store=ports.store,
            publish=ports.publish,
            ttl_days=ALERT_TTL_DAYS,
            now=now,
        )
        outcome = sent.outcome
        if sent.sent:
            result.events.append(event)
        elif sent.outcome is Outcome.FAILED:
            result.errors.append(f"burn alert for {judged.team}: {sent.error}")
    if outcome in {Outcome.SENT, Outcome.ALREADY_SENT}:
        ports.store.put(episodes.DEDUP_PK, series, item, ttl_days=EPISODE_TTL_DAYS)
    return due and outcome is Outcome.SENT


def _episode(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not item or "last" not in item:
        return None
    return {k: v for k, v in item.items() if k not in {"pk", "sk", "expiration"}}
