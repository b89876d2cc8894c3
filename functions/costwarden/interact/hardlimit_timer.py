"""``budgets.hard_limit: auto`` — the grace timer: enforced ``hard_limit_grace_hours`` after the critical alert
unless on-call presses *Hold*; lifted by the same *Lift* button.

1. **Arm** (``announce``, from the notifier, once per alert: its delivery is idempotent per dedup key): a critical
   anomaly of an ``auto`` team creates one EventBridge Scheduler one-time schedule, ``at(<UTC minute>)``, in the
   stack's schedule group, targeting the Slack app's function with ``{"costwarden_hard_limit_timer": {team,
   token}}`` (no retries; deleted by Scheduler after it ran). The alert's details carry the notice
   (``details.hard_limit``): "enforced at HH:MM UTC unless someone presses Hold", or why not (held, already
   enforced, the timer could not be created — then on-call still has *Enforce*). One timer per team: a second
   critical alert while one is armed shows the same time.
2. **Hold** (``hold``, on-call only, from the button): recorded on ``hardlimit#<team>`` with who and until when
   (``HOLD_HOURS`` from the press), and the schedule deleted. A critical alert before ``held_until`` arms nothing.
3. **Fire** (``fire``, the schedule's invocation): enforced through ``hardlimit.enforce`` (the one action path)
   unless held, no longer ``auto``, already enforced, or the token is not the armed one (a stale schedule).
   Every firing — enforced, held, refused — is one audit item (``audit#<date>``, sk ``hardlimit-timer#...``).

Why EventBridge Scheduler and not a Step Functions ``Wait``: one API call arms it and one deletes it (Hold), its
``at()`` expression is exactly "enforce at HH:MM UTC", it costs nothing while waiting and needs no state machine
definition, execution role or ``StopExecution`` bookkeeping; a Wait state would keep an execution open for hours
per armed team and Hold would have to find and stop it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from costwarden.core.keys import CostKey, KeyFormatError
from costwarden.interact import hardlimit
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.expiry import stored_instant
from costwarden.models.ports import StateStore
from costwarden.redaction import redact
from costwarden.resources import Clients
from costwarden.resources.base import error_code, error_text
from costwarden.settings import Settings

#: The key of the schedule's payload (a Function URL request cannot carry it: Lambda builds that event itself).
TIMER_EVENT_KEY = "costwarden_hard_limit_timer"
#: How long *Hold* holds: a critical alert within this many hours of the press arms no timer.
HOLD_HOURS = 24
#: ``details`` key of the notice the alert shows (``interact.buttons``).
NOTICE_KEY = "hard_limit"


@dataclass(frozen=True)
class TimerTarget:
    """Where a schedule goes: the stack's schedule group, the Slack app's function and the role Scheduler uses."""

    group: str
    function_arn: str
    role_arn: str


def schedule_name(team: str) -> str:
    """One schedule per team; team names may hold characters Scheduler refuses (``[0-9a-zA-Z-_.]``, 64 at most)."""
    return f"costwarden-hard-limit-{hashlib.sha256(team.encode()).hexdigest()[:24]}"


def _record(state: StateStore, team: str) -> dict[str, Any]:
    current = state.get(hardlimit.STATE_PK, team) or {}
    return {k: v for k, v in current.items() if k not in {"pk", "sk", "expiration"}}


def held_until(record: dict[str, Any], now: datetime) -> datetime | None:
    """The end of the hold on ``record`` when it still holds at ``now``, else None."""
    end = stored_instant(record.get("held_until"))  # a damaged or naive time never raises here
    return end if end is not None and end > now else None


def _at(settings: Settings, now: datetime) -> datetime:
    """The whole UTC minute the schedule fires at: never before ``now`` + the grace (at least one minute ahead)."""
    due = now + timedelta(hours=settings.budgets.hard_limit_grace_hours)
    return due.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _critical_series(event: AlertEvent, settings: Settings) -> str | None:
    """The anomaly series of a critical, unretracted cost anomaly (or burn-rate alert: the same episode key) of an
    ``auto`` team, else None."""
    if event.kind not in {AlertKind.COST_ANOMALY, AlertKind.BURN_RATE} or event.severity is not Severity.CRITICAL:
        return None
    if hardlimit.mode(settings, event.team) != "auto":
        return None
    try:
        key = CostKey.parse(event.dedup_key)
    except KeyFormatError:
        return None
    return None if key.retracted else key.series


def arm(
    settings: Settings, state: StateStore, scheduler: Any, target: TimerTarget, *, team: str, series: str, now: datetime
) -> dict[str, Any]:
    """Arm the team's grace timer (or say why not); the notice the alert shows."""
    record = _record(state, team)
    if record.get("active"):
        return {"status": "enforced", "by": str(record.get("by", ""))}
    if (until := held_until(record, now)) is not None:
        return {"status": "held", "by": str(record.get("held_by", "")), "until": until.isoformat()}
    timer = record.get("timer") if isinstance(record.get("timer"), dict) else None
    if timer is not None and datetime.fromisoformat(str(timer["at"])) > now:
        return {"status": "armed", "at": str(timer["at"])}
    at, token, name = _at(settings, now), uuid.uuid4().hex, schedule_name(team)
    request = {
        "Name": name,
        "GroupName": target.group,
        "ScheduleExpression": f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Description": f"Costwarden: enforce the hard limit of one team unless held ({series})"[:512],
        "Target": {
            "Arn": target.function_arn,
            "RoleArn": target.role_arn,
            "Input": json.dumps({TIMER_EVENT_KEY: {"team": team, "token": token}}),
            "RetryPolicy": {"MaximumRetryAttempts": 0},
        },
    }
    try:
        try:
            scheduler.create_schedule(**request)
        except Exception as error:  # a past episode's schedule that never ran (its time moved): replaced
            if error_code(error) != "ConflictException":
                raise
            scheduler.update_schedule(**{k: v for k, v in request.items() if k != "ActionAfterCompletion"})
    except Exception as error:  # the alert says so; on-call still has Enforce
        return {"status": "failed", "error": redact(error_text(error))[:200]}
    region = target.function_arn.split(":")[3]
    record["timer"] = {
        "at": at.isoformat(),
        "token": token,
        "name": name,
        "group": target.group,
        "region": region,
        "series": series,
    }
    state.put(hardlimit.STATE_PK, team, record)
    return {"status": "armed", "at": at.isoformat()}


def announce(
    event: AlertEvent,
    settings: Settings,
    state: StateStore,
    clients: Clients,
    target: TimerTarget | None,
    *,
    now: datetime,
) -> AlertEvent:
    """``event`` with its hard-limit notice (``details.hard_limit``) when it arms (or would arm) a grace timer."""
    series = _critical_series(event, settings)
    if series is None:
        return event
    if target is None:
        notice: dict[str, Any] = {"status": "failed", "error": "the grace timer is not deployed"}
    else:
        scheduler = clients("scheduler", target.function_arn.split(":")[3])
        notice = arm(settings, state, scheduler, target, team=event.team, series=series, now=now)
    return event.model_copy(update={"details": {**event.details, NOTICE_KEY: notice}})


def notice_text(notice: dict[str, Any]) -> str:
    """What the alert says about its hard limit (``interact.buttons`` renders it above the buttons)."""
    status = notice.get("status")
    if status == "armed":
        at = datetime.fromisoformat(str(notice["at"]))
        return (
            f":hourglass: Hard limit: enforced at {at.strftime('%H:%M')} UTC ({at.strftime('%Y-%m-%d')}) unless "
            "someone on-call presses *Hold*; *Lift* removes it once enforced."
        )
    if status == "held":
        until = datetime.fromisoformat(str(notice["until"]))
        return f"Hard limit held by <@{notice.get('by', '')}> until {until.strftime('%Y-%m-%d %H:%M')} UTC."
    if status == "enforced":
        return "Hard limit already enforced; *Lift* removes it."
    return f":warning: Hard limit NOT armed ({notice.get('error', 'unknown')}): on-call can still press *Enforce*."


def hold(state: StateStore, clients: Clients, team: str, *, by: str, now: datetime) -> tuple[str, str, dict[str, Any]]:
    """Record *Hold* (who, until when) and delete the armed schedule, if any; ``(status, reply, record)``."""
    record = _record(state, team)
    if record.get("active"):
        return "refused", f"The hard limit of {team} is already enforced: use Lift.", {}
    until = now + timedelta(hours=HOLD_HOURS)
    timer = record.get("timer")  # kept: a timer whose schedule could not be deleted finds the hold when it fires
    note = ""
    if isinstance(timer, dict) and timer.get("name"):
        region = str(timer.get("region", ""))
        try:
            clients("scheduler", region).delete_schedule(Name=timer["name"], GroupName=timer["group"])
        except Exception as error:  # the hold still holds: the timer checks it when it fires
            if error_code(error) != "ResourceNotFoundException":
                note = f" (its timer could not be deleted: {redact(error_text(error))[:120]}; it will find the hold)"
    record.update(held_by=by, held_at=now.isoformat(), held_until=until.isoformat(), active=False)
    state.put(hardlimit.STATE_PK, team, record)
    return "done", f"Hard limit held for {team} until {until.strftime('%Y-%m-%d %H:%M')} UTC{note}", record


def fire(
    settings: Settings,
    state: StateStore,
    clients: Clients | None,
    payload: Any,
    *,
    now: datetime,
    regions: Sequence[str],
) -> dict[str, Any]:
    """The schedule fired: enforce unless held, no longer ``auto``, already enforced or stale; audited."""
    team = payload.get("team") if isinstance(payload, dict) else None
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(team, str) or not isinstance(token, str):
        return {"status": "ignored", "reply": "not a hard-limit timer payload"}
    record = _record(state, team)
    found = record.get("timer")
    timer: dict[str, Any] = found if isinstance(found, dict) else {}
    after: dict[str, Any] = {}
    if timer.get("token") != token:
        status, reply = "ignored", f"a stale timer of {team} (not the armed one): nothing done"
    elif hardlimit.mode(settings, team) != "auto":
        status, reply = "refused", f"the hard limit of {team} is no longer auto: nothing done"
    elif (until := held_until(record, now)) is not None:
        status, reply = "held", f"held by {record.get('held_by')} until {until.isoformat()}: nothing done"
    elif clients is None:
        status, reply = "failed", "the hard-limit role is not deployed: nothing done"
    else:
        status, reply, after = hardlimit.enforce(
            settings, state, clients, team, by="grace timer", now=now, regions=regions
        )
    state.put(
        f"audit#{now.strftime('%Y-%m-%d')}",
        f"hardlimit-timer#{now.isoformat()}#{hashlib.sha256(team.encode()).hexdigest()[:12]}",
        {
            "source": "timer",
            "who": "grace timer",
            "action": "enforce (auto)",
            "team": team,
            "target": str(timer.get("series", "")),
            "status": status,
            "reply": redact(reply),
            "after": after,
        },
        ttl_days=settings.reaper.audit_ttl_days,
    )
    return {"status": status, "reply": reply}
