"""What a verified, authorized button press or slash command does — through the paths that already guard each
kind of change — and the record of it.

* Extend 1/3/7 days (expiry warnings): rewrites the configured expires key (``settings.tags.expires_key``) through
  the one action path (``core.act.act_on``: the reaper's guards — protected and production resources are refused
  whoever asks —, its audit record, then the registry type's own ``tag``). Never past ``reaper.max_lifetime_days``
  from the resource's launch or creation (``started_at``; first sighting only where the service gives no date);
  the reply names the cap.
* Acknowledge / Snooze this episode / It was planned (anomalies): written on the episode's item in the state table
  (``core/episodes.py``): the digest shows the acknowledgement; a snoozed or planned episode does not escalate.
* ``/costwarden plan ...``: declared planned spend (``core/planned.py``).

Every attempt — done, refused, failed — is one audit item (who, what, before/after, from which message), and the
original message is updated in place (``response_url``) or the user alone is answered (ephemeral).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from costwarden.core import planned
from costwarden.core.act import Request, Rules, Trigger, Verb, act_on, decision_for, refusal, state_audit
from costwarden.core.arn import BadArn, parse_arn
from costwarden.core.episodes import DEDUP_PK as EPISODE_PK
from costwarden.core.keys import FIRST_SEEN_PK
from costwarden.interact import hardlimit, hardlimit_timer
from costwarden.interact.authz import authorize
from costwarden.interact.buttons import EXTEND_DAYS, lift_block
from costwarden.interact.payload import ONCALL_ACTIONS, Button, Interaction
from costwarden.models.expiry import MalformedExpiry, format_expiry, parse_expires_at
from costwarden.models.ports import SlackGroups, SlackResponder, StateStore
from costwarden.redaction import redact
from costwarden.resources import REGISTRY, Clients, type_for_arn
from costwarden.resources.model import Resource, Status
from costwarden.settings import Settings

#: What the presser reads when an action broke: no internals (the log has the error), and what to do next.
FAILED_REPLY = "Something went wrong and the action may not have completed; check the resource before pressing again"
NOT_YOURS = "Not yours: only the team's members and on-call can act on this alert, from the channel it was sent to."


@dataclass
class Context:
    """Everything an action reaches, passed in (the service wires AWS and Slack; tests pass moto and the stand-in)."""

    settings: Settings
    state: StateStore
    clients: Clients
    responder: SlackResponder
    groups: SlackGroups | None
    now: datetime
    #: Regions the hard limit stops instances in (``services.reaper.regions_for``).
    regions: tuple[str, ...] = ("us-east-1",)
    #: Clients of the hard-limit role (stop instances, attach/remove the deny policy); None: not deployed.
    hard_limit_clients: Clients | None = None


@dataclass
class Outcome:
    """What happened: ``status`` is done / refused / failed / unauthorized; ``reply`` is what the user read."""

    status: str
    reply: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    basis: str = ""
    #: Why the Slack message could not be updated (the action itself stands), or "".
    reply_error: str = ""
    #: Blocks to show under the updated message (the *Lift* button after *Enforce*).
    follow_up: list[dict[str, Any]] = field(default_factory=list)


def _audit(ctx: Context, interaction: Interaction, what: tuple[str, str, str], outcome: Outcome) -> None:
    action, team, target = what
    key = hashlib.sha256(interaction.replay_key.encode()).hexdigest()[:16]
    ctx.state.put(
        f"audit#{ctx.now.strftime('%Y-%m-%d')}",
        f"interact#{ctx.now.isoformat()}#{key}",
        {
            "source": "slack",
            "who": interaction.user_id,
            "action": action,
            "team": team,
            "target": target,
            "status": outcome.status,
            "reply": redact(outcome.reply),
            "basis": outcome.basis,
            "before": outcome.before,
            "after": outcome.after,
            "channel": interaction.channel_name,
            "channel_id": interaction.channel_id,
            "message_ts": interaction.message_ts,
        },
        ttl_days=ctx.settings.reaper.audit_ttl_days,
    )


def updated_message(interaction: Interaction, note: str) -> dict[str, Any]:
    """The original message with its buttons removed and ``note`` appended: what was done, by whom."""
    kept = [b for b in interaction.message_blocks if b.get("type") != "actions"]
    text = note.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    by = f"<@{interaction.user_id}>"  # a user id (checked: [A-Z0-9]), rendered as a mention
    done = {"type": "context", "elements": [{"type": "mrkdwn", "text": f":white_check_mark: {text} by {by}"}]}
    return {"replace_original": True, "text": f"{note} by {by}", "blocks": [*kept[:48], done]}


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


# -- extend -------------------------------------------------------------------------------------------------------
def _anchor(ctx: Context, resource: Resource) -> tuple[datetime | None, str]:
    """Where the lifetime cap counts from: the resource's own launch or creation (``started_at``, every type), else
    — the service gave no date — the first time Costwarden saw it."""
    if resource.started_at is not None:
        return resource.started_at, "launch"
    seen = ctx.state.get(FIRST_SEEN_PK, resource.arn)
    if seen and seen.get("at"):
        return datetime.fromisoformat(str(seen["at"])), "first sighting"
    return None, ""


def _set_expiry(ctx: Context, resource: Resource, rules: Rules, before: dict[str, str], value: str) -> Outcome | None:
    """Tag the new expiry through the one action path (guards, audit record, the type's ``tag``); the refusal or
    failure, or None when it is written."""
    key = rules.policy.expires_key
    decision = decision_for(resource, "extend", rules.policy, reason=f"extend {key} from {before[key] or '(none)'}")
    batch = act_on(
        [Request(resource, Verb.TAG, decision, tags={key: value})],
        trigger=Trigger.SLACK,
        rules=rules,
        dry_run=False,
        clients=ctx.clients,
        audit=state_audit(ctx.state, ctx.settings.reaper.audit_ttl_days),
        now=ctx.now,
    )
    [outcome] = batch.outcomes
    if outcome.refused_by is not None:
        return Outcome("refused", f"Refused: {outcome.note}.", before)
    if outcome.status is Status.FAILED:
        return Outcome("failed", f"Could not update {key}: {redact(outcome.note)}", before)
    return None


def _target(ctx: Context, arn: str, region: str) -> Resource | Outcome:
    """The resource ``arn`` names, read fresh by its registry type (the tagging-API types through the tagging API,
    ASG / EMR / EKS node groups through their own describe calls), or the refusal."""
    type_name = type_for_arn(arn)
    rtype = REGISTRY.get(type_name)
    if rtype is None:
        key = ctx.settings.tags.expires_key
        return Outcome("refused", f"{type_name} cannot be extended from Slack; update its {key} tag by hand.")
    try:
        found = [r for r in rtype.read(ctx.clients, region, [arn]) if r.arn == arn]
    except ValueError as error:  # an ARN of the type's service whose resource part the type cannot read
        return Outcome("refused", f"Refused: the button's target is not a {type_name} ARN ({error}).")
    if not found or not found[0].active:
        return Outcome("refused", "The resource no longer exists (or is being deleted): nothing to extend.")
    return found[0]


def extend(ctx: Context, arn: str, days: int) -> Outcome:  # noqa: PLR0911 - one answer per refusal
    """Move the resource's expiry ``days`` later (from now if already past), capped by the lifetime limit."""
    key = ctx.settings.tags.expires_key
    if days not in EXTEND_DAYS:
        return Outcome("refused", f"Extensions are {', '.join(map(str, EXTEND_DAYS))} days.")
    try:
        region = parse_arn(arn).region
    except BadArn as error:
        return Outcome("refused", f"Refused: the button's target is not a resource ARN ({error}).")
    resource = _target(ctx, arn, region)
    if isinstance(resource, Outcome):
        return resource
    rules = Rules.for_settings(ctx.settings)
    refused = refusal(resource, Verb.TAG, rules)  # answered first, whatever else is wrong with the resource
    if refused:
        return Outcome("refused", f"Refused: {refused[1]}.")
    current = resource.tags.get(key, "")
    before = {key: current}
    try:
        expiry = parse_expires_at(current) if current else None
    except MalformedExpiry as error:
        return Outcome("refused", f"Its {key} is malformed ({error.reason}); fix the tag by hand.", before)
    base = max(expiry.expired_from, ctx.now) if expiry is not None and not expiry.never else ctx.now
    if expiry is not None and expiry.never:
        return Outcome("refused", f"It never expires ({key}={current}): nothing to extend.", before)
    anchor, anchor_name = _anchor(ctx, resource)
    if anchor is None:  # never seen before: this is the first sighting
        ctx.state.put_if_absent(FIRST_SEEN_PK, arn, {"at": ctx.now.isoformat()})
        anchor, anchor_name = ctx.now, "first sighting"
    limit = ctx.settings.reaper.max_lifetime_days
    cap = anchor + timedelta(days=limit)
    cap_note = f"reaper.max_lifetime_days is {limit} (from {anchor_name} {format_expiry(anchor)})"
    if base >= cap:  # checked before any arithmetic: an expiry near year 9999 would overflow ``base + days``
        return Outcome("refused", f"Not extended: it is already at its lifetime cap; {cap_note}.", before)
    wanted = base + timedelta(days=days)
    capped = wanted > cap
    new = min(wanted, cap)
    if expiry is not None and new <= expiry.expired_from:
        return Outcome("refused", f"Not extended: it is already at its lifetime cap; {cap_note}.", before)
    value = format_expiry(new)
    if failure := _set_expiry(ctx, resource, rules, before, value):
        return failure
    reply = f"{key} is now {value}"
    if capped:
        reply += f" (capped: {cap_note})"
    return Outcome("done", reply, before, {key: value})


# -- anomaly episodes ---------------------------------------------------------------------------------------------
_EPISODE_FIELDS = {"ack": "acknowledged", "snooze": "snoozed", "planned": "planned"}


def mark_episode(ctx: Context, series: str, action: str, user_id: str) -> Outcome:
    """Write who acknowledged / snoozed / declared planned the episode of ``series`` on its state item."""
    item = ctx.state.get(EPISODE_PK, series)
    if item is None:
        return Outcome("refused", "This anomaly episode is over (or unknown): nothing to change.")
    data = {k: v for k, v in item.items() if k not in {"pk", "sk", "expiration"}}
    flag = _EPISODE_FIELDS[action]
    before = {k: data.get(k) for k in ("acknowledged_by", "snoozed_by", "planned_by")}
    data[f"{flag}_by"] = user_id
    data[f"{flag}_at"] = ctx.now.isoformat()
    if action in ("snooze", "planned"):
        data["quiet"] = True  # no escalation for the rest of this episode (core/episodes.advance)
    ctx.state.put(EPISODE_PK, series, data)
    words = {"ack": "Acknowledged", "snooze": "Snoozed for this episode", "planned": "Marked as planned"}
    return Outcome("done", words[action], before, {f"{flag}_by": user_id})


# -- hard limit ---------------------------------------------------------------------------------------------------
def _hard_limit(ctx: Context, interaction: Interaction, button: Button) -> Outcome:
    clients = ctx.hard_limit_clients
    who, now = interaction.user_id, ctx.now
    if button.action == "hold":
        status, reply, record = hardlimit_timer.hold(ctx.state, ctx.clients, button.team, by=who, now=now)
        return Outcome(status, reply, {}, record)
    if clients is None:
        return Outcome("refused", "The hard-limit role is not deployed (no team has budgets.hard_limit on).")
    if button.action == "enforce":
        status, reply, record = hardlimit.enforce(
            ctx.settings, ctx.state, clients, button.team, by=who, now=now, regions=ctx.regions
        )
        outcome = Outcome(status, reply, {}, record)
        if status in ("done", "failed") and record.get("active"):
            outcome.follow_up = [lift_block(button.team, button.channel, button.target)]
        return outcome
    status, reply, record = hardlimit.lift(ctx.state, clients, button.team, by=who, now=now, region=ctx.regions[0])
    return Outcome(status, reply, {}, record)


#: Button action -> what it does. The idle finder's *Keep for 14 days* / *Stop now* (issue 10) are the next
#: entries (see ``interact/buttons.py``); *Stop now* must go through ``reaper.execute`` (guards, cap, audit).
ACTIONS: dict[str, Callable[[Context, Interaction, Button], Outcome]] = {
    "extend": lambda ctx, _interaction, button: extend(ctx, button.target, button.days),
    "ack": lambda ctx, interaction, button: mark_episode(ctx, button.target, "ack", interaction.user_id),
    "snooze": lambda ctx, interaction, button: mark_episode(ctx, button.target, "snooze", interaction.user_id),
    "planned": lambda ctx, interaction, button: mark_episode(ctx, button.target, "planned", interaction.user_id),
    "enforce": _hard_limit,
    "hold": _hard_limit,
    "lift": _hard_limit,
}


# -- dispatch -----------------------------------------------------------------------------------------------------
def _button(ctx: Context, interaction: Interaction) -> tuple[str, str, str, Outcome]:
    button = interaction.button
    assert button is not None
    verdict = authorize(
        ctx.settings,
        user_id=interaction.user_id,
        team=button.team,
        routed_channel=button.channel,
        channel_name=interaction.channel_name,
        groups=ctx.groups,
        oncall_only=button.action in ONCALL_ACTIONS,
    )
    name = f"{button.action}{f' {button.days}d' if button.days else ''}"
    if not verdict.allowed:
        return name, button.team, button.target, Outcome("unauthorized", NOT_YOURS, basis=verdict.basis)
    try:
        outcome = ACTIONS[button.action](ctx, interaction, button)
    except Exception as error:
        outcome = Outcome("failed", f"{FAILED_REPLY} ({type(error).__name__}).")
    outcome.basis = verdict.basis
    return name, button.team, button.target, outcome


def _command(ctx: Context, interaction: Interaction) -> tuple[str, str, str, Outcome]:
    try:
        plan = planned.parse_plan(interaction.command_text.split())
    except planned.PlanError as error:
        return "plan", "", "", Outcome("refused", str(error))
    verdict = authorize(
        ctx.settings,
        user_id=interaction.user_id,
        team=plan.team,
        routed_channel=next(iter(sorted(_channels(ctx.settings, plan.team))), ""),
        channel_name=interaction.channel_name,
        groups=ctx.groups,
    )
    if not verdict.allowed:
        return "plan", plan.team, plan.key, Outcome("unauthorized", NOT_YOURS, basis=verdict.basis)
    planned.store(ctx.state, plan, by=interaction.user_id, now=ctx.now)
    return "plan", plan.team, plan.key, Outcome("done", plan.describe(), {}, plan.to_item(), verdict.basis)


def _channels(settings: Settings, team: str) -> set[str]:
    entry = settings.teams.get(team)
    return {entry.channel} if entry is not None and entry.channel else set()


def handle(ctx: Context, interaction: Interaction, *, log: Callable[..., Any] | None = None) -> Outcome:
    """Run one verified interaction: authorize, act, audit, answer. Never raises for what the user sent."""
    if interaction.kind == "slash_command":
        action, team, target, outcome = _command(ctx, interaction)
    else:
        action, team, target, outcome = _button(ctx, interaction)
    _audit(ctx, interaction, (action, team, target), outcome)
    if (outcome.status == "done" and interaction.kind == "block_actions") or outcome.follow_up:
        message = updated_message(interaction, outcome.reply)
        message["blocks"] = [*message["blocks"], *outcome.follow_up]
    else:
        message = ephemeral(outcome.reply)
    try:
        ctx.responder.respond(interaction.response_url, message)
    except Exception as error:  # the action stands (and is audited); only the message update is lost
        outcome.reply_error = type(error).__name__
    return outcome
