"""Digest facts the cost monitor does not compute itself, read from what the reaper leaves in the state table.

The reaper writes one audit item per decision per run under ``audit#<yyyy-mm-dd>`` (sort key
``<run_id>#<arn>``, run ids start with the run's UTC time ``%Y%m%dT%H%M%SZ``; fields ``arn, type, region, team,
expires_at, action, status, reason, run_id, dry_run``) and one per inventory error (``<run_id>#error#...`` with
``region, source, error``). From the last 24 hours of those this module derives:

- ``ReaperActivity``: one decision per resource. A resource's last *outcome* (an action planned, done or failed)
  wins over later no-op observations, so "terminated at 03:00" is not replaced by "already terminated" at 04:00.
  No-op decisions (action ``none``) are kept only for resources already expired that the reaper left alone on
  purpose (protected, production, termination protection, unknown type): live resources are not news.
- ``ExpiringResource``s: what the latest run saw that expires within the next 72 hours.

``expired_from`` (raw ``expires_at`` -> the instant it expires, or ``None`` when malformed) is passed in: the
reaper's parser (DESIGN.md's rules) is the only one, so this module cannot disagree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from costwarden.core.keys import (
    BEDROCK_RECONCILED_PK,
    IDLE_SUMMARY_PK,
    IDLE_SUMMARY_SK,
    SAVINGS_PK,
    SAVINGS_SK,
    UNITCOST_DIGEST_PK,
    UNITCOST_DIGEST_SK,
)
from costwarden.models.digest import (
    REAPER_STATUSES,
    BedrockDay,
    ExpiringResource,
    IdleSummary,
    ReaperActivity,
    ReaperDecision,
    SavingsOnTable,
    UnitCostMove,
)
from costwarden.models.ports import StateStore

AUDIT_PREFIX = "audit#"
NO_ACTION = "none"
RUN_ID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"

ExpiredFrom = Callable[[str], datetime | None]


def audit_partitions(now: datetime, hours: int = 24) -> list[str]:
    """The ``audit#<date>`` partitions that can hold decisions of the last ``hours`` hours, oldest first."""
    first = (now - timedelta(hours=hours)).date()
    days = (now.date() - first).days
    return [f"{AUDIT_PREFIX}{(first + timedelta(days=n)).isoformat()}" for n in range(days + 1)]


def run_time(item: Mapping[str, Any]) -> datetime | None:
    """When the run that wrote ``item`` started, from its run id (``20261126T0800Z...``)."""
    run_id = str(item.get("run_id", ""))
    try:
        return datetime.strptime(run_id[:16], RUN_ID_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def reaper_activity(
    items: Iterable[Mapping[str, Any]], *, now: datetime, expired_from: ExpiredFrom, hours: int = 24
) -> ReaperActivity:
    """The reaper's last ``hours`` hours from its audit items (any order, any partitions)."""
    since = now - timedelta(hours=hours)
    recent = [(at, item) for item in items if (at := run_time(item)) is not None and since <= at <= now]
    recent.sort(key=lambda pair: pair[0])
    outcome: dict[str, ReaperDecision] = {}
    noop: dict[str, ReaperDecision] = {}
    dry_run = True
    for at, item in recent:
        if "dry_run" in item:  # the latest run's mode (inventory error items do not carry it)
            dry_run = bool(item["dry_run"])
        if "arn" not in item:
            if "source" in item:  # a region / service the inventory could not list
                key = f"{item.get('region', '?')}/{item['source']}"
                outcome[key] = ReaperDecision(
                    resource=key, action="inventory", status="failed", reason=str(item.get("error", "")), at=at
                )
            continue
        status = str(item.get("status", ""))
        if status not in REAPER_STATUSES:
            continue
        decision = ReaperDecision(
            resource=str(item["arn"]),
            resource_type=item.get("type"),
            team=item.get("team") or None,
            action=str(item.get("action", NO_ACTION)),
            status=status,
            reason=str(item.get("reason", "")),
            at=at,
        )
        if decision.action != NO_ACTION:
            outcome[decision.resource] = decision
        elif _expired_and_left_alone(item, at, expired_from):
            noop[decision.resource] = decision
        else:
            noop.pop(decision.resource, None)
    kept = {**noop, **outcome}
    return ReaperActivity(dry_run=dry_run, decisions=tuple(sorted(kept.values(), key=lambda d: (d.at, d.resource))))


#: Triggers of the one action path whose audit items are a reaper run's (a Slack extension, the hard limit, the
#: instance limits and the idle finder's marks write audit items too, but they are not what the reaper saw).
_REAPER_TRIGGERS = frozenset({"schedule", "cli"})


def _from_the_reaper(item: Mapping[str, Any]) -> bool:
    trigger = item.get("trigger")
    return trigger is None or trigger in _REAPER_TRIGGERS


def expiring_soon(
    items: Iterable[Mapping[str, Any]], *, now: datetime, expired_from: ExpiredFrom, hours: int = 72
) -> list[ExpiringResource]:
    """Resources the latest reaper run saw alive whose expiry falls within ``hours``, soonest first."""
    timed = [
        (at, item)
        for item in items
        if (at := run_time(item)) is not None and at <= now and "arn" in item and _from_the_reaper(item)
    ]
    if not timed:
        return []
    latest_run = max(timed, key=lambda pair: pair[0])[1].get("run_id")
    found = []
    for _, item in timed:
        raw = item.get("expires_at")
        if item.get("run_id") != latest_run or not raw or item.get("status") == "done":
            continue
        expires = expired_from(str(raw))
        if expires is not None and now < expires <= now + timedelta(hours=hours):
            found.append(
                ExpiringResource(
                    resource=str(item["arn"]),
                    resource_type=item.get("type"),
                    team=item.get("team") or None,
                    expires_at=expires,
                )
            )
    return sorted(found, key=lambda e: (e.expires_at, e.resource))


def load_reaper_facts(
    store: StateStore, *, now: datetime, expired_from: ExpiredFrom
) -> tuple[ReaperActivity, list[ExpiringResource]]:
    """Query the audit partitions of the last 24 hours once and derive both digest parts from them."""
    items = [item for pk in audit_partitions(now) for item in store.query(pk)]
    return (
        reaper_activity(items, now=now, expired_from=expired_from),
        expiring_soon(items, now=now, expired_from=expired_from),
    )


def _expired_and_left_alone(item: Mapping[str, Any], at: datetime, expired_from: ExpiredFrom) -> bool:
    """A no-op on an expired resource the reaper skipped on purpose; not one merely gone already."""
    raw = item.get("expires_at")
    if not raw or str(item.get("reason", "")).startswith("already "):
        return False
    expires = expired_from(str(raw))
    return expires is not None and expires <= at


def load_savings_on_table(store: StateStore) -> SavingsOnTable | None:
    """The savings advisor's latest per-team findings (written by its weekly run), or None before its first run."""
    item = store.get(SAVINGS_PK, SAVINGS_SK)
    if not item:
        return None
    teams = {str(t): float(v.get("usd_month", 0)) for t, v in dict(item.get("teams", {})).items()}
    raw = item.get("at")
    return SavingsOnTable(teams=teams, as_of=datetime.fromisoformat(raw) if isinstance(raw, str) else None)


#: An idle summary older than this is not shown (the idle finder runs daily).
IDLE_SUMMARY_MAX_AGE = timedelta(hours=48)


def load_unit_cost_moves(store: StateStore, *, now: datetime) -> tuple[UnitCostMove, ...]:
    """Yesterday's unit costs that moved (the unit-cost run's record), if it is from the last 48 hours; a record
    that cannot be read leaves the section out, never the digest."""
    try:
        item = store.get(UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK) or {}
        stored = datetime.fromisoformat(str(item.get("as_of", "")))
        moves = tuple(UnitCostMove.model_validate(m) for m in item.get("moves", []))
    except Exception:  # unreadable or malformed: no unit-cost lines today
        return ()
    stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    return moves if now - IDLE_SUMMARY_MAX_AGE <= stored <= now + timedelta(hours=1) else ()


def load_idle_summary(store: StateStore, *, now: datetime) -> IdleSummary | None:
    """The latest idle scan's summary, if the idle finder left one in the last 48 hours (else None)."""

    try:
        item = store.get(IDLE_SUMMARY_PK, IDLE_SUMMARY_SK)
    except Exception:  # the digest goes out without the idle line
        return None
    if not item:
        return None
    try:
        summary = IdleSummary.model_validate({k: v for k, v in item.items() if k in IdleSummary.model_fields})
    except ValueError:
        return None
    scanned = summary.scanned_at if summary.scanned_at.tzinfo else summary.scanned_at.replace(tzinfo=UTC)
    return summary if now - IDLE_SUMMARY_MAX_AGE <= scanned <= now + timedelta(hours=1) else None


def load_bedrock_day(store: StateStore, *, now: datetime) -> BedrockDay | None:
    """The Bedrock guard's latest reconciled day of the last two (it reconciles yesterday from 20:00 UTC, so the
    morning digest shows the day before); None when there is none, or it cannot be read (the digest goes out)."""
    for back in (1, 2):
        day = (now - timedelta(days=back)).date()
        try:
            item = store.get(BEDROCK_RECONCILED_PK, day.isoformat())
            if not item:
                continue
            teams = {
                str(row["team"]): {"estimate_usd": row["estimate_usd"], "billed_usd": row["billed_usd"]}
                for row in item.get("teams", [])
            }
            return BedrockDay.model_validate({"day": day, "teams": teams})
        except Exception:  # a malformed record: the digest goes out without the Bedrock line
            return None
    return None
