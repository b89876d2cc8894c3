"""The reaper's alert events (pure): expiry warnings, tag violations, the per-team summary, the blocked plan.

Every text names the configured tag keys (``settings.tags``): an owner told to set ``expires_at`` under a policy
whose key is ``ttl`` would write a tag the reaper never reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from costwarden.core.alerts import build, truncate
from costwarden.core.keys import ExpiryKey, HashedKey, ReapedKey
from costwarden.core.money import usd
from costwarden.core.owner import PEOPLE_DETAIL, people_of
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.expiry import describe_remaining, format_expiry
from costwarden.models.idle_ports import PriceBook
from costwarden.models.pricing import HOURS_PER_MONTH
from costwarden.resources import REGISTRY
from costwarden.resources.model import Decision, Resource, Status, Violation, Warning
from costwarden.settings import TagPolicy

MAX_ITEMS = 50
EXAMPLE_EXTENSION_DAYS = 7


def _line(decision: Decision) -> str:
    return (
        f"{decision.action} {decision.type} {decision.id or decision.arn} ({decision.region}): {decision.status.value}"
    )


def expiry_warning(warning: Warning, now: datetime, dry_run: bool, policy: TagPolicy) -> AlertEvent:
    """One resource crossing one threshold: when it expires, what will happen, the exact command to extend it."""
    resource = warning.resource
    rtype = REGISTRY[resource.type]
    when = format_expiry(warning.expired_from)
    suggestion = (warning.expired_from.date().toordinal() + EXAMPLE_EXTENSION_DAYS) - 1
    new_value = datetime.fromordinal(suggestion).strftime("%Y-%m-%d")
    key = policy.expires_key
    command = rtype.extend_command(resource, key, new_value)
    if warning.marked:
        title = f"{resource.type} {resource.id} had no {key}: it now expires {when}"
        lead = (
            f"Costwarden tagged it {key}={warning.expires_at} ({policy.environment_key}=experiment without an expiry)."
        )
    else:
        title = f"{resource.type} {resource.id} expires in {describe_remaining(warning.expired_from - now)}"
        lead = f"Its {key} tag is {warning.expires_at!r}."
    then = f"From {when} the reaper will {warning.action} it"
    then += " (dry run is on: it will only report it until dry run is switched off)." if dry_run else "."
    summary = f"{lead} {then} To keep it longer, update the tag, e.g.: {command}"
    return build(
        AlertKind.EXPIRY_WARNING,
        Severity.WARNING,
        warning.team,
        ExpiryKey(resource.arn, warning.expires_at, warning.threshold_hours),
        title=title,
        summary=summary,
        figures={
            "Resource": f"{resource.type} {resource.id}",
            "Region": resource.region,
            "Expires": when,
            "Action": warning.action,
        },
        items=[f"extend: {command}"],
        extra={
            "arn": resource.arn,
            "expires_at": warning.expires_at,
            "threshold_hours": warning.threshold_hours,
            "extend_command": command,
            "dry_run": dry_run,
        }
        | _people([(resource.tags, f"{resource.type} {resource.id} ({resource.region})")], policy),
        now=now,
    )


def _people(resources: Sequence[tuple[Mapping[str, str], str]], policy: TagPolicy) -> dict[str, object]:
    """``{"people": {person: [resource, ...]}}`` when a resource names its person (``core.owner``), else nothing."""
    people = people_of(resources, policy)
    return {PEOPLE_DETAIL: people} if people else {}


def tag_violation(team: str, violations: Sequence[Violation], now: datetime, policy: TagPolicy) -> AlertEvent:
    key = policy.expires_key
    items = [
        f"{v.resource.type} {v.resource.id} ({v.resource.region}): {key}={v.value!r} - {v.reason}"
        for v in violations[:MAX_ITEMS]
    ]
    members = sorted(f"{v.resource.arn}={v.value}" for v in violations)
    return build(
        AlertKind.TAG_VIOLATION,
        Severity.WARNING,
        team,
        HashedKey.of(HashedKey.TAG_VIOLATION, members),
        title=f"{len(violations)} resource(s) of {team} carry a malformed {key}",
        summary=(
            f"The reaper never acts on a malformed {key}. Write an ISO 8601 date ({key}=2026-12-31: may live "
            f"through that UTC day) or date-time ({key}=2026-12-31T18:00:00Z; no offset means UTC)."
        ),
        figures={"Resources": len(violations)},
        items=truncate(items, MAX_ITEMS, total=len(violations)),
        now=now,
    )


#: Registry type -> the Price List service its instance type is priced under (``PriceBook.on_demand_price``): the
#: types whose running cost is one instance's hours. Others are not priced (the alert says how many).
PRICED_TYPES = {"ec2:instance": "ec2", "sagemaker:notebook-instance": "sagemaker-notebook"}


def monthly_savings(actions: Iterable[tuple[Resource, Decision]], book: PriceBook) -> dict[str, float | None]:
    """What each acted-on resource cost a month while it ran (on-demand list price x 730 h), by ARN; ``None`` where
    no price is known (a type without a per-instance price, an unknown instance type, a Price List failure)."""
    out: dict[str, float | None] = {}
    for resource, decision in actions:
        service = PRICED_TYPES.get(resource.type)
        instance_type = str(resource.details.get("instance_type") or "")
        if service is None or not instance_type or decision.action in ("none", "mark"):
            out[decision.arn] = None
            continue
        quote = book.on_demand_price(service, instance_type, resource.region)
        out[decision.arn] = None if quote.usd is None else round(quote.usd * HOURS_PER_MONTH, 2)
    return out


def _saves(done: Sequence[Decision], monthly_usd: Mapping[str, float | None] | None) -> tuple[str, dict[str, str]]:
    """The sentence and figure saying what the run saves a month (only what was done; unpriced ones counted)."""
    if monthly_usd is None:
        return " What this saves per month is not known: this run read no prices.", {}
    priced = [v for d in done if (v := monthly_usd.get(d.arn)) is not None]
    unpriced = len(done) - len(priced)
    if not priced:
        return f" What this saves per month is not known: no list price for {unpriced} of them.", {}
    note = f" ({unpriced} without a list price)" if unpriced else ""
    total = sum(priced)
    sentence = f" It saves about {usd(total)}/month at on-demand list prices{note}."
    return sentence, {"Saves / month": f"{usd(total)}{'+' if unpriced else ''}"}


def reaped(
    team: str,
    decisions: Sequence[Decision],
    run_id: str,
    now: datetime,
    policy: TagPolicy,
    *,
    tags: Mapping[str, Mapping[str, str]] | None = None,
    monthly_usd: Mapping[str, float | None] | None = None,
) -> AlertEvent:
    """The per-team summary of a run's actions. ``tags`` (arn -> tags of the resources acted on) name the people
    whose resources were cleaned up (their direct messages); ``monthly_usd`` (``monthly_savings``: ARN -> USD/month
    or None) says what it saves, else the alert says that no price was read."""
    known = tags or {}
    done = [d for d in decisions if d.status is Status.DONE]
    failed = [d for d in decisions if d.status is Status.FAILED]
    items = [_line(d) + (f" - {d.reason}" if d.status is Status.FAILED else "") for d in decisions[:MAX_ITEMS]]
    sentence, saves = _saves(done, monthly_usd)
    figures: dict[str, object] = {"Done": len(done), **saves}
    if failed:
        figures["Failed"] = len(failed)
    figures["Run"] = run_id
    return build(
        AlertKind.REAPED,
        Severity.WARNING if failed else Severity.INFO,
        team,
        ReapedKey(run_id, team),
        title=f"Reaper: {len(done)} expired resource(s) of {team} cleaned up"
        + (f", {len(failed)} failed" if failed else ""),
        summary=(
            f"Resources past their {policy.expires_key} tag were stopped, terminated or deleted; "
            "every decision is audited." + (sentence if done else "")
        ),
        figures=figures,
        items=truncate(items, MAX_ITEMS, total=len(decisions)),
        extra=_people([(known[d.arn], _line(d)) for d in done if d.arn in known], policy),
        now=now,
    )


def reap_blocked(team: str, decisions: Sequence[Decision], cap: int, now: datetime) -> AlertEvent:
    blocked = [d for d in decisions if d.action not in ("none",) and d.reason.startswith("blocked")]
    items = [f"{d.action} {d.type} {d.id or d.arn} ({d.region}, team {d.team})" for d in blocked]
    return build(
        AlertKind.REAP_BLOCKED,
        Severity.CRITICAL,
        team,
        HashedKey.of(HashedKey.REAP_BLOCKED, sorted(d.arn for d in blocked)),
        title=f"Reaper blocked: {len(blocked)} actions planned, the cap is {cap}",
        summary=(
            f"The plan has more actions than settings.reaper.max_actions_per_run ({cap}), so nothing was done. "
            "Review the list (costwarden reap --format table), then raise the cap or act by hand."
        ),
        figures={"Planned": len(blocked), "Cap": cap},
        items=items,
        max_items=MAX_ITEMS,
        now=now,
    )
