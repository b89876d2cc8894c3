"""Organization runs: list the guarded accounts, run one capability for one account x region as the member role,
and the aggregation between the reaper's two phases.

Shared by the Step Functions tasks (``handlers.org_*``), ``costwarden reap|tags audit --accounts`` and the demo:
all of them run exactly the single-account code (``run_reaper``, ``run_audit``) with the member account's clients.

Adding a capability is one entry in ``CAPABILITIES``: a scan function ``(settings, item, clients, context) ->
JSON-able outcome`` (and ``infra/fanout.py`` builds its state machine from the same registry).

The idle finder runs report-only in the fan-out: each item scans one account x region with the member READ role
(``run_idle`` with ``apply=False``: marks, when ``idle.action`` is ``expire``, are planned and counted, never
written — routing them through the reaper's two-phase cap is not built), returns its findings attributed to the
account's team, and the last step (``publish_idle``) sends ONE weekly ``idle`` alert per team for the whole
organization.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from costwarden.adapters import aws
from costwarden.adapters.organizations import Organization
from costwarden.adapters.sts import AssumeRoleError, caller_account, member_clients
from costwarden.core.owner import UNOWNED_TEAM, operator_team
from costwarden.core.publish import send_once
from costwarden.idle import alerts as idle_alerts
from costwarden.idle.model import Finding, Kind
from costwarden.idle.run import run_idle
from costwarden.models.alert import AlertEvent
from costwarden.models.idle_ports import PriceBook
from costwarden.models.ports import StateStore
from costwarden.org.accounts import read_role_name, reaper_role_name, regions_for, select_accounts, wants_ou_paths
from costwarden.org.aggregate import SAMPLE_ACTIONS, Approval, ItemOutcome, approve, org_reap_blocked, run_summary
from costwarden.org.attribution import attribute_event, attribute_rows
from costwarden.org.items import WorkItem, plan_items
from costwarden.reaper.execute import Publisher, run_reaper
from costwarden.resources import Clients
from costwarden.resources.model import Status
from costwarden.services.idle import aws_ports
from costwarden.services.tag_audit import run_audit
from costwarden.settings import Settings
from costwarden.tags.audit import NO_TEAM

#: The most a plan-phase item may plan before its own run caps it (the aggregation applies the real caps).
PLAN_PHASE_CAP = 1000
#: How long the organization's weekly idle alert and its reap-blocked alert count as sent (as the single-account
#: idle run and reaper keep theirs).
IDLE_DEDUP_TTL_DAYS = 21
REAP_DEDUP_TTL_DAYS = 90
_THROTTLING_MARKERS = ("Throttl", "TooManyRequests", "RequestLimitExceeded", "SlowDown", "Rate exceeded")


class ThrottledError(RuntimeError):
    """An item met AWS throttling it could not get past: raised (not returned) so that the state machine's Retry
    with backoff runs the item again later; a Lambda never sleeps waiting for capacity."""


@dataclass
class ItemContext:
    state: StateStore
    publish_fn: Publisher | None = None
    now: datetime | None = None
    clients_for: Callable[[str, str], Clients] = field(default=member_clients)
    detail: bool = False
    """Include every decision / violation (the CLI prints them); the state machine keeps outputs small."""
    prices: PriceBook | None = None
    """What a reaped resource costs a month (issue 22): the hub's own price book (list prices are the same in every
    account, so the member roles need no Price List read); None: the reaped alert says the saving is not known."""


ScanFunction = Callable[[Settings, WorkItem, Clients, ItemContext], dict[str, Any]]


def _throttled(text: str) -> bool:
    return any(marker in text for marker in _THROTTLING_MARKERS)


def _attributing(publish_fn: Publisher | None, item: WorkItem, unowned: str) -> Publisher | None:
    if publish_fn is None:
        return None

    def publish(event: AlertEvent) -> object:
        return publish_fn(attribute_event(event, item.account_id, item.account_team, unowned=unowned))

    return publish


def _reap(settings: Settings, item: WorkItem, clients: Clients, context: ItemContext) -> dict[str, Any]:
    """Plan phase: plan only (dry run, generous cap: the aggregation applies the caps over all accounts).
    Act phase: act, capped at what the aggregation approved for this item (a grown plan is blocked by the
    reaper's own cap, the one guard path, and raises its ``reap_blocked``)."""
    if item.phase == "act":
        if settings.reaper.dry_run:
            return {**_base(item), "ok": False, "error": "act phase refused: settings.reaper.dry_run is on"}
        if item.approved_actions < 1:
            return {**_base(item), "ok": False, "error": "act phase refused: no approved actions for this item"}
        cap = item.approved_actions
        dry = False
    else:
        cap, dry = PLAN_PHASE_CAP, True
    run_settings = settings.model_copy(
        update={"reaper": settings.reaper.model_copy(update={"max_actions_per_run": cap})}
    )
    result = run_reaper(
        run_settings,
        regions=[item.region],
        clients=clients,
        state=context.state,
        publish_fn=_attributing(context.publish_fn, item, UNOWNED_TEAM),
        dry_run=dry,
        now=context.now,
        prices=context.prices,
    )
    if result.errors and all(_throttled(e.error) for e in result.errors) and not result.decisions:
        raise ThrottledError(f"account {item.account_id} {item.region}: " + "; ".join(e.error for e in result.errors))
    planned = [
        d
        for d in result.decisions
        if d.status is Status.PLANNED or d.reason.startswith("blocked by the blast-radius cap")
    ]
    detail: dict[str, Any] = {}
    if context.detail:
        rows = [{"account": item.account_id, **d.to_dict()} for d in result.decisions]
        detail["decisions"] = attribute_rows(
            rows, {item.account_id: item.account_team}, team_field="team", unowned=UNOWNED_TEAM, account_field="account"
        )
    return {
        **_base(item),
        **detail,
        "ok": not result.failed,
        "run_id": result.run_id,
        "planned_actions": len(planned),
        "sample": [f"{d.action} {d.type} {d.id or d.arn} (team {d.team})" for d in planned[:SAMPLE_ACTIONS]],
        "counts": result.counts(),
        "blocked": result.blocked,
        "events": [f"{e.kind.value}:{e.team}" for e in result.events],
        "source_errors": [f"{e.source}: {e.error}" for e in result.errors],
        "error": None if not result.failed else "some actions failed (see the audit log)",
    }


def _audit(settings: Settings, item: WorkItem, clients: Clients, context: ItemContext) -> dict[str, Any]:
    """The tag audit of one account x region; its alerts go to the account's team when nobody owns a resource."""
    report = run_audit(
        settings, now=context.now, regions=[item.region], client_factory=clients, ce=clients("ce", "us-east-1")
    )
    publish = _attributing(context.publish_fn, item, NO_TEAM)
    published = 0
    errors = list(report.facts.errors)
    if publish is not None:
        for event in report.events:
            try:
                publish(event)
                published += 1
            except aws.AWS_ERRORS as error:
                errors.append(f"publish {event.team}: {error}")
    failed = dict(report.facts.failed_regions)
    if failed and all(_throttled(str(e)) for e in failed.values()):
        raise ThrottledError(f"account {item.account_id} {item.region}: {failed}")
    owners = {v.team for v in report.violations}
    detail: dict[str, Any] = {}
    if context.detail:
        rows = [
            {"account": item.account_id, "team": v.team, **v.to_dict(), "summary": v.line()} for v in report.violations
        ]
        detail["violations"] = attribute_rows(
            rows, {item.account_id: item.account_team}, team_field="team", unowned=NO_TEAM, account_field="account"
        )
    return {
        **_base(item),
        **detail,
        "ok": not failed,
        "planned_actions": 0,
        "counts": {"resources_scanned": report.facts.scanned, "violations": len(report.violations)},
        "teams": sorted(item.account_team if t == NO_TEAM and item.account_team else t for t in owners),
        "events": [f"{e.kind.value}:{e.team}" for e in report.events],
        "published": published,
        "error": "; ".join(f"{r}: {e}" for r, e in failed.items()) or None,
        "source_errors": errors,
    }


#: The most findings an idle item returns (the costliest first, without their command lines: ~600 bytes each): keeps
#: the results files and the per-team alert bounded (the state carries only keys: docs/architecture.md,
#: "Fan-out state size").
IDLE_ITEM_FINDINGS = 5


def _idle(settings: Settings, item: WorkItem, clients: Clients, context: ItemContext) -> dict[str, Any]:
    """The idle scan of one account x region, report-only (no marks, no alerts: ``publish_idle`` alerts once per
    team over every account). Prices are cached in the deployment's state table (list prices are public)."""
    ports = aws_ports(clients, context.state, settings)
    run = run_idle(settings, regions=[item.region], ports=ports, apply=False, now=context.now)
    errors = [*run.scan.errors, *run.errors]
    if errors and all(_throttled(e) for e in errors) and not run.findings:
        raise ThrottledError(f"account {item.account_id} {item.region}: " + "; ".join(errors))
    ordered = sorted(run.findings, key=lambda f: (f.monthly_usd is None, -(f.monthly_usd or 0.0), f.arn))
    rows = [{"account": item.account_id, **{k: v for k, v in f.to_dict().items() if k != "commands"}} for f in ordered]
    attributed = attribute_rows(
        rows, {item.account_id: item.account_team}, team_field="team", unowned=UNOWNED_TEAM, account_field="account"
    )
    waste, _other, _unpriced = idle_alerts.sums(run.findings)
    return {
        **_base(item),
        "ok": not errors,
        "planned_actions": 0,
        "counts": {
            "findings": len(run.findings),
            "not_judged": len(run.scan.not_judged),
            "marks_planned_not_written": len(run.marks.marks),
        },
        "waste_usd_per_month": round(waste, 2),
        "findings": attributed[:IDLE_ITEM_FINDINGS],
        "findings_left_off": max(0, len(attributed) - IDLE_ITEM_FINDINGS),
        "teams": sorted({str(r["team"]) for r in attributed}),
        "error": "; ".join(errors) or None,
        "source_errors": errors,
    }


def _finding(row: Any) -> Finding:
    return Finding(
        arn=str(row["arn"]),
        id=str(row["id"]),
        type=str(row["type"]),
        region=str(row["region"]),
        team=str(row["team"]),
        kind=Kind(row["kind"]),
        monthly_usd=row.get("monthly_usd"),
        evidence=str(row.get("evidence", "")),
        recommendation=str(row.get("recommendation", "")),
        price_note=str(row.get("price_note", "")),
        environment=str(row.get("environment", "")),
        commands=tuple(row.get("commands", ())),
        judged_hours=row.get("judged_hours"),
    )


def publish_idle(
    settings: Settings,
    item_outputs: Sequence[dict[str, Any]],
    *,
    state: StateStore,
    publish_fn: Publisher | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """After every idle item: one weekly ``idle`` alert per team over all accounts (de-duplicated per team and week
    in the state table, as the single-account run does). Findings of the account's default owner say so."""
    now = now or datetime.now(UTC)
    by_team: dict[str, list[Finding]] = {}
    defaults: dict[str, set[str]] = {}
    errors: list[str] = []
    for output in item_outputs:
        for row in output.get("findings") or ():
            try:
                finding = _finding(row)
            except (KeyError, TypeError, ValueError) as error:  # a malformed row is reported, never a traceback
                errors.append(f"idle finding of account {output.get('account_id', '?')} unreadable: {error!r}")
                continue
            by_team.setdefault(finding.team, []).append(finding)
            if row.get("attribution") == "account default":
                defaults.setdefault(str(row["team"]), set()).add(str(row.get("account", "?")))
    left_off = sum(int(o.get("findings_left_off") or 0) for o in item_outputs)
    sent: list[str] = []
    for team, findings in sorted(by_team.items()):
        event = idle_alerts.team_alert(team, findings, settings.idle, now)
        figures = dict(event.details["figures"])
        figures["Accounts"] = ", ".join(sorted({str(f.arn.split(":")[4]) for f in findings if f.arn.count(":") > 4}))
        if team in defaults:
            figures["Owner"] = f"account default (team tag of account {', '.join(sorted(defaults[team]))})"
        event = event.model_copy(update={"details": {**event.details, "figures": figures}})
        if publish_fn is None:
            continue
        key = (f"dedup#orgidle#{team}", str(event.details["week"]))
        once = send_once(event, key=key, store=state, publish=publish_fn, ttl_days=IDLE_DEDUP_TTL_DAYS, now=now)
        if once.error is not None:  # recorded; the claim is released so the next run tries again
            errors.append(f"idle/{team}: {once.error}")
        elif once.sent:
            sent.append(team)
    return {
        "teams": {t: len(f) for t, f in sorted(by_team.items())},
        "findings_left_off": left_off,
        "alerts_sent": sent,
        "errors": errors,
    }


#: capability -> scan function.
CAPABILITIES: dict[str, ScanFunction] = {"reaper": _reap, "tag_audit": _audit, "idle": _idle}


def _base(item: WorkItem) -> dict[str, Any]:
    return {
        "capability": item.capability,
        "phase": item.phase,
        "account_id": item.account_id,
        "account_name": item.account_name,
        "account_team": item.account_team,
        "region": item.region,
    }


def role_for(settings: Settings, capability: str, phase: str) -> str:
    """Only the reaper's act phase uses the reaper role; everything else reads."""
    org = settings.organization
    return reaper_role_name(org) if (capability, phase) == ("reaper", "act") else read_role_name(org)


def list_items(
    settings: Settings,
    capability: str,
    *,
    organization: Organization | None = None,
    accounts: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    role_name: str | None = None,
) -> dict[str, Any]:
    """The state machine's first step (and the CLI's): guarded accounts x regions as work items.

    ``accounts`` (the CLI's ``--accounts ID,ID``) narrows ``organization.accounts``; exclusions still apply."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}")
    org = settings.organization
    if accounts:
        org = org.model_copy(update={"accounts": tuple(accounts)})
    reader = organization or Organization()
    selection = select_accounts(reader.accounts(with_ou_paths=wants_ou_paths(org)), org)
    own = caller_account()
    if own is not None and any(a.id == own for a in selection.selected):
        # Guarded by the single-account functions already; service-managed StackSets never deploy member roles to
        # the management account, so assuming one there would only fail.
        selection.selected = [a for a in selection.selected if a.id != own]
        selection.skipped[own] = "the deployment account: guarded by the single-account functions"
    chosen_regions = regions_for(settings, aws.default_region(), regions)
    role = role_name or role_for(settings, capability, "plan")
    items = plan_items(capability, selection.selected, chosen_regions, role, settings.tags.team_key)
    return {
        "capability": capability,
        "items": [i.to_dict() for i in items],
        "skipped_accounts": selection.skipped,
        "unknown_ids": selection.unknown,
        "tag_errors": dict(reader.tag_errors),
        "organizations_requests": reader.requests,
    }


def run_item(settings: Settings, item: WorkItem, context: ItemContext) -> dict[str, Any]:
    """One item as the member role. A role that cannot be assumed is this item's failure, reported; throttling is
    raised for the state machine to retry."""
    try:
        clients = context.clients_for(item.account_id, item.role_name)
    except AssumeRoleError as error:
        if _throttled(str(error)):
            raise ThrottledError(str(error)) from None
        return {**_base(item), "ok": False, "planned_actions": 0, "error": str(error)}
    return CAPABILITIES[item.capability](settings, item, clients, context)


@dataclass
class AggregateResult:
    approval: Approval
    act_items: list[dict[str, Any]]
    event: AlertEvent | None
    published: bool = False
    publish_error: str | None = None


def aggregate_plans(
    settings: Settings,
    plan_outputs: Sequence[dict[str, Any]],
    *,
    state: StateStore,
    publish_fn: Publisher | None,
    now: datetime | None = None,
) -> AggregateResult:
    """Between the phases: both caps over every account's plan; the act items; ``reap_blocked`` once if over."""
    now = now or datetime.now(UTC)
    outcomes = [ItemOutcome.from_output(o) for o in plan_outputs]
    approval = approve(
        outcomes,
        global_cap=settings.reaper.max_actions_per_run,
        account_cap=settings.organization.max_actions_per_account,
    )
    act_items: list[dict[str, Any]] = []
    if not settings.reaper.dry_run:
        by_key = {f"{o.get('account_id')}/{o.get('region')}": o for o in plan_outputs}
        for key, count in approval.approved.items():
            source = by_key[key]
            act_items.append(
                WorkItem(
                    capability="reaper",
                    account_id=str(source["account_id"]),
                    account_name=str(source.get("account_name", "")),
                    region=str(source["region"]),
                    role_name=role_for(settings, "reaper", "act"),
                    account_team=source.get("account_team"),
                    phase="act",
                    approved_actions=count,
                ).to_dict()
            )
    event = org_reap_blocked(operator_team(settings), outcomes, approval, now)
    result = AggregateResult(approval, act_items, event)
    if event is not None and publish_fn is not None and not settings.reaper.dry_run:
        once = send_once(
            event,
            key=("dedup#reapblocked", event.dedup_key),
            store=state,
            publish=publish_fn,
            ttl_days=REAP_DEDUP_TTL_DAYS,
            now=now,
        )
        result.published = once.sent
        if once.error is not None:  # recorded in the summary; the next run tries again
            result.publish_error = str(once.error)
    return result


def summarize(
    plan_outputs: Sequence[dict[str, Any]],
    approval_summary: dict[str, Any],
    act_outputs: Sequence[dict[str, Any]],
    skipped_accounts: dict[str, str],
) -> dict[str, Any]:
    """The one run summary (per account), from the state machine's collected outputs."""
    plan = [ItemOutcome.from_output(o) for o in plan_outputs]
    acted = [ItemOutcome.from_output(o) for o in act_outputs]
    return run_summary(plan, approval_summary, acted, skipped_accounts)
