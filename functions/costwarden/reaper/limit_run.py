"""One development-limits run (issue 15), riding on the reaper's hourly run: inventory → count → plan → cap →
stop (unless dry run) → audit → warn.

It uses the reaper's own parts, so a stop is held by the same rules as a reap: the inventory (``collect``), the one
guard (``model.guard_reason``, inside ``limits.plan``, so a guarded resource is passed over for the next newest) and
the one action path (``core.act.act_on``: the guards again, the run cap ``reaper.max_actions_per_run`` — more stops
than that and nothing is stopped —, the dry-run switch ``reaper.dry_run``, the audit ``audit#<date>`` items in the
shape the digest reads), and IAM (the ``limit`` permissions are granted only to the experiment pool's environments
and never with the protect tag).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from costwarden.core.act import Request, Rules, Trigger, Verb, act_on
from costwarden.core.publish import send_once
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.ports import Publisher, StateStore
from costwarden.reaper import limits
from costwarden.reaper.execute import DEDUP_TTL_DAYS, RunResult, _store_audit, write_audit
from costwarden.resources import REGISTRY, Clients
from costwarden.resources.base import error_text
from costwarden.resources.inventory import collect
from costwarden.resources.model import Decision, Resource, Status
from costwarden.settings import Settings

LIMIT_DEDUP_PK = "dedup#limit"
#: Resources named in a warning.
NEWEST_SHOWN = 5


@dataclass
class LimitRunResult:
    run: RunResult
    counts: list[limits.TeamCount] = field(default_factory=list)
    events: list[AlertEvent] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run.run_id,
            "dry_run": self.run.dry_run,
            "blocked": self.run.blocked,
            "teams": [c.as_dict() for c in self.counts],
            "decisions": [d.to_dict() for d in self.run.decisions],
            "events": [f"{e.kind.value}:{e.team}" for e in self.events],
            "publish_errors": self.run.publish_errors,
        }


def _fill_details(clients: Clients, resources: list[Resource], settings: Settings) -> list[Resource]:
    """Ask each type for what the count needs, only for the counted resources of limited teams."""
    teams = limits.limited_teams(settings)
    groups: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for r in resources:
        if r.tags.get(settings.tags.team_key, "") in teams and limits.is_counted(r, settings):
            groups[(r.region, r.type)].append(r)
    filled: dict[str, Resource] = {}
    for (region, type_name), group in sorted(groups.items()):
        filled.update({r.arn: r for r in REGISTRY[type_name].limit_details(clients, region, group)})
    return [filled.get(r.arn, r) for r in resources]


def count_now(
    settings: Settings, *, regions: Sequence[str], clients: Clients
) -> tuple[list[limits.TeamCount], list[str]]:
    """Counts against limits right now, acting on nothing (``costwarden limits``); with the sources that failed."""
    selectors = [(settings.tags.environment_key, env) for env in settings.budgets.pools.experiment_environments()]
    inventory = collect(clients, list(regions), selectors)
    resources = _fill_details(clients, inventory.resources, settings)
    errors = [f"{e.region}/{e.source}: {e.error}" for e in inventory.errors]
    return limits.count(resources, settings), errors


def limit_event(entry: limits.TeamCount, decisions: Sequence[Decision], *, dry_run: bool, now: datetime) -> AlertEvent:
    """The team's warning: counts against limits, its newest resources, and what was (or would be) stopped."""
    stopped = [d for d in decisions if d.action == limits.STOP_ACTION]
    skipped = [d for d in decisions if d.status is Status.SKIPPED]
    over = entry.level == "over"
    if stopped and not dry_run:
        done = sum(d.status is Status.DONE for d in stopped)
        title = f"{entry.team}: over its development limit, {done} newest resource(s) stopped"
    elif over:
        title = f"{entry.team}: over its development limit"
    else:
        title = f"{entry.team}: at its development limit"
    limits_cfg = entry.limits
    figures = {
        "Instances": f"{entry.instances}"
        + (f" of {limits_cfg.development_instances}" if limits_cfg.development_instances is not None else ""),
        "GPUs": f"{entry.gpus}"
        + (f" of {limits_cfg.development_gpus}" if limits_cfg.development_gpus is not None else ""),
        "Action": limits_cfg.action + (" (dry run)" if dry_run and limits_cfg.action == "stop" else ""),
    }
    items = [f"newest: {c.line()}" for c in entry.resources[:NEWEST_SHOWN]]
    items += [f"{d.status.value} stop {d.type} {d.id}" for d in stopped]
    items += [f"skipped {d.type} {d.id}: {d.reason.rsplit('; ', 1)[-1]}" for d in skipped]
    if over and limits_cfg.action == "report":
        summary = "Over the limit: nothing is stopped (limits.action is report). Stop what is not needed."
    elif over:
        summary = "Over the limit: the newest resources beyond it are stopped (protected ones are skipped)."
    else:
        summary = "At the limit: the next development resource started puts the team over it."
    return AlertEvent(
        kind=AlertKind.LIMIT,
        severity=Severity.CRITICAL if over else Severity.WARNING,
        team=entry.team,
        title=title,
        summary=summary,
        details={"figures": figures, "items": items, "limits": entry.as_dict()},
        dedup_key=f"limit#{entry.team}#{now:%Y-%m-%d}#{entry.instances}#{entry.gpus}",
        occurred_at=now,
    )


def run_limits(
    settings: Settings,
    *,
    regions: Sequence[str],
    clients: Clients,
    state: StateStore,
    publish_fn: Publisher | None = None,
    dry_run: bool | None = None,
    now: datetime | None = None,
) -> LimitRunResult:
    """Count every limited team's development resources; warn at or over a limit; stop beyond it with ``stop``."""
    now = now or datetime.now(UTC)
    dry = settings.reaper.dry_run if dry_run is None else dry_run
    run_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-limits-{uuid.uuid4().hex[:8]}"
    environment_key = settings.tags.environment_key
    selectors = [(environment_key, env) for env in settings.budgets.pools.experiment_environments()]
    inventory = collect(clients, list(regions), selectors)
    resources = _fill_details(clients, inventory.resources, settings)
    plan = limits.plan(resources, settings)
    planned = {d.arn: d for d in plan.decisions if d.action == limits.STOP_ACTION}
    # Production is never stopped here, and only the experiment pool's environments (IAM grants no more).
    rules = Rules.for_settings(
        settings, allow_production=False, environments=settings.budgets.pools.experiment_environments()
    )
    batch = act_on(
        [Request(r, Verb.STOP, planned[r.arn]) for r in plan.stops],
        trigger=Trigger.LIMITS,
        rules=rules,
        dry_run=dry,
        clients=clients,
        audit=partial(write_audit, state, settings),
        now=now,
        run_id=run_id,
    )
    decisions = batch.settle(plan.decisions)
    run = RunResult(run_id, now, dry, list(regions), decisions, inventory.errors, batch.blocked)
    if any(d.arn not in planned for d in decisions) or inventory.errors:
        _store_audit(state, settings, run, batch)
    elif batch.audit_error:
        run.audit_error = batch.audit_error
    result = LimitRunResult(run=run, counts=plan.counts)
    if publish_fn is None:
        return result
    by_team: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        by_team[d.team].append(d)
    for entry in plan.counts:
        if entry.level == "under":
            continue
        event = limit_event(entry, by_team.get(entry.team, []), dry_run=dry, now=now)
        acted = any(d.status in (Status.DONE, Status.FAILED) for d in by_team.get(entry.team, []))
        # Once per team, day and count (a change of count warns again); an action taken is always told.
        sent = send_once(
            event,
            key=(LIMIT_DEDUP_PK, event.dedup_key),
            store=state,
            publish=publish_fn,
            ttl_days=DEDUP_TTL_DAYS,
            now=now,
            always=acted,
        )
        if sent.error is not None:  # recorded; the claim is released so the next run warns again
            run.publish_errors.append(f"{event.kind.value}/{event.team}: {error_text(sent.error)}")
        elif sent.sent:
            result.events.append(event)
    return result
