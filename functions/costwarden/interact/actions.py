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
* Keep / Stop (idle findings, issue 23): *Keep* records a keep with its reason and expiry in the state table
  (``core.keys.IDLE_KEEP_PK``; the idle finder leaves the resource out until it expires — nothing on the resource
  changes, so it needs no IAM and works for production too); *Stop* stops a stoppable type through the one action
  path (``act_on``, Trigger SLACK: its guards decide — never production, never protected — and its audit record
  shows their decisions); nothing is ever terminated from the idle alert (``interact/idle_actions.py``).

Authorization (issue 23) rests on what the target *is*, read fresh: every action kind first resolves its target
(``ActionKind.resolve``: the resource read through the registry, the anomaly episode from the ledger, the team a
hard limit names) and only then asks ``authz.authorize_target`` about the target's own team. The button's team is a
hint: a different one is refused, audited (the basis names both teams) and answered ephemerally; nothing changes.

Every attempt — done, refused, failed — is one audit item (who, what, before/after, from which message), and the
original message is updated in place (``response_url``) or the user alone is answered (ephemeral).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from costwarden.core import planned
from costwarden.core.act import Request, Rules, Verb, decision_for, refusal
from costwarden.core.episodes import DEDUP_PK as EPISODE_PK
from costwarden.core.keys import FIRST_SEEN_PK
from costwarden.core.owner import team_of
from costwarden.interact import bedrock_limit, hardlimit, hardlimit_timer
from costwarden.interact.authz import authorize_target, series_team
from costwarden.interact.buttons import EXTEND_DAYS, lift_block
from costwarden.interact.context import (
    FAILED_REPLY,
    NOT_YOURS,
    OTHER_TEAM,
    Context,
    Outcome,
    act_once,
    read_target,
    refused_by,
)
from costwarden.interact.idle_actions import KEEP_REASON, KEEP_USAGE, keep, keep_command, stop
from costwarden.interact.payload import ONCALL_ACTIONS, Button, Interaction
from costwarden.models.expiry import MalformedExpiry, format_expiry, parse_expires_at
from costwarden.redaction import redact
from costwarden.resources.model import Resource, Status

#: What callers and tests import from here (the shared parts live in ``interact.context``).
__all__ = [
    "ACTIONS",
    "FAILED_REPLY",
    "KEEP_REASON",
    "KEEP_USAGE",
    "NOT_YOURS",
    "OTHER_TEAM",
    "Context",
    "Outcome",
    "extend",
    "handle",
    "keep",
    "stop",
]


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
    outcome = act_once(ctx, Request(resource, Verb.TAG, decision, tags={key: value}), rules)
    if outcome.refused_by is not None:
        return Outcome("refused", f"Refused: {outcome.note}.", before)
    if outcome.status is Status.FAILED:
        return Outcome("failed", f"Could not update {key}: {redact(outcome.note)}", before)
    return None


def extend(ctx: Context, arn: str, days: int) -> Outcome:
    """Move the resource's expiry ``days`` later (from now if already past), capped by the lifetime limit (no
    authorization: the button path authorizes on the resource read here, ``ACTIONS['extend']``)."""
    if days not in EXTEND_DAYS:
        return Outcome("refused", f"Extensions are {', '.join(map(str, EXTEND_DAYS))} days.")
    found = read_target(ctx, arn, verb="extend")
    return found if isinstance(found, Outcome) else extend_resource(ctx, found, days)


def extend_resource(ctx: Context, resource: Resource, days: int) -> Outcome:  # noqa: PLR0911 - one answer per refusal
    """``extend`` once the resource is read (and, from a button, authorized on)."""
    key = ctx.settings.tags.expires_key
    arn = resource.arn
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


def _episode_over() -> Outcome:
    return Outcome("refused", "This anomaly episode is over (or unknown): nothing to change.")


def _mark(ctx: Context, series: str, item: dict[str, Any], action: str, user_id: str) -> Outcome:
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
def _hard_limit(ctx: Context, interaction: Interaction, button: Button, team: str) -> Outcome:
    """Enforce / Hold / Lift for ``team`` (the series' own team, authorized on-call)."""
    clients = ctx.hard_limit_clients
    who, now = interaction.user_id, ctx.now
    if button.action == "hold":
        status, reply, record = hardlimit_timer.hold(ctx.state, ctx.clients, team, by=who, now=now)
        return Outcome(status, reply, {}, record)
    if clients is None:
        return Outcome("refused", "The hard-limit role is not deployed (no team has budgets.hard_limit on).")
    if button.action == "enforce":
        status, reply, record = hardlimit.enforce(
            ctx.settings, ctx.state, clients, team, by=who, now=now, regions=ctx.regions
        )
        outcome = Outcome(status, reply, {}, record)
        if status in ("done", "failed") and record.get("active"):
            outcome.follow_up = [lift_block(team, button.channel, button.target)]
        return outcome
    status, reply, record = hardlimit.lift(ctx.state, clients, team, by=who, now=now, region=ctx.regions[0])
    return Outcome(status, reply, {}, record)


# -- the action kinds: resolve the target (read fresh), then authorize on its team, then act ------------------------
@dataclass(frozen=True)
class Target:
    """What a button acts on, as it is now: its team, and the resource or episode read to learn it."""

    team: str
    resource: Resource | None = None
    episode: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionKind:
    """One button action: ``resolve`` reads the target fresh (or refuses), ``perform`` acts on it once authorized."""

    resolve: Callable[[Context, Button], Target | Outcome]
    perform: Callable[[Context, Interaction, Button, Target], Outcome]


def _resource(verb: str) -> Callable[[Context, Button], Target | Outcome]:
    def resolve(ctx: Context, button: Button) -> Target | Outcome:
        found = read_target(ctx, button.target, verb=verb)
        if isinstance(found, Outcome):
            return found
        return Target(team_of(found.tags, ctx.settings.tags), resource=found)

    return resolve


def _episode(ctx: Context, button: Button) -> Target | Outcome:
    """The anomaly episode the button names, from the ledger; its team is the series' own (``team|second``)."""
    item = ctx.state.get(EPISODE_PK, button.target)
    if item is None:
        return _episode_over()
    return Target(series_team(button.target), episode=item)


def _limited_team(_ctx: Context, button: Button) -> Target | Outcome:
    """The team a hard-limit button names through its series (must be configured: ``authorize_target`` checks)."""
    return Target(series_team(button.target))


def _resolved(target: Target) -> Resource:
    assert target.resource is not None  # resolved by ``_resource``
    return target.resource


def _extend(ctx: Context, _interaction: Interaction, button: Button, target: Target) -> Outcome:
    if button.days not in EXTEND_DAYS:
        return Outcome("refused", f"Extensions are {', '.join(map(str, EXTEND_DAYS))} days.")
    return extend_resource(ctx, _resolved(target), button.days)


def _limit(ctx: Context, interaction: Interaction, button: Button, target: Target) -> Outcome:
    return _hard_limit(ctx, interaction, button, target.team)


def _keep(ctx: Context, interaction: Interaction, button: Button, target: Target) -> Outcome:
    reason = KEEP_REASON.format(days=button.days)
    return keep(ctx, _resolved(target), button.days, by=interaction.user_id, reason=reason)


def _stop(ctx: Context, interaction: Interaction, _button: Button, target: Target) -> Outcome:
    return stop(ctx, _resolved(target), by=interaction.user_id)


def _bedrock_team(ctx: Context, button: Button) -> Target | Outcome:
    """The Bedrock hard limit's team, from what its roles are (``bedrock_limit.roles_team``)."""
    found = bedrock_limit.roles_team(ctx, button.target)
    return found if isinstance(found, Outcome) else Target(found)


def _bedrock(ctx: Context, interaction: Interaction, button: Button, target: Target) -> Outcome:
    return bedrock_limit.press(ctx, interaction.user_id, button, target.team)


def _episode_action(action: str) -> ActionKind:
    def perform(ctx: Context, interaction: Interaction, button: Button, target: Target) -> Outcome:
        assert target.episode is not None
        return _mark(ctx, button.target, target.episode, action, interaction.user_id)

    return ActionKind(_episode, perform)


#: Button action -> how its target is read and what it does (``payload.BUTTON_ACTIONS`` names the same; the
#: on-call-only ones are ``payload.ONCALL_ACTIONS``).
ACTIONS: dict[str, ActionKind] = {
    "extend": ActionKind(_resource("extend"), _extend),
    "ack": _episode_action("ack"),
    "snooze": _episode_action("snooze"),
    "planned": _episode_action("planned"),
    "enforce": ActionKind(_limited_team, _limit),
    "hold": ActionKind(_limited_team, _limit),
    "lift": ActionKind(_limited_team, _limit),
    "idle_keep": ActionKind(_resource("keep"), _keep),
    "idle_stop": ActionKind(_resource("stop"), _stop),
    **dict.fromkeys((bedrock_limit.DENY_ACTION, bedrock_limit.LIFT_ACTION), ActionKind(_bedrock_team, _bedrock)),
}


# -- dispatch -----------------------------------------------------------------------------------------------------
def _button(ctx: Context, interaction: Interaction) -> tuple[str, str, str, Outcome]:
    button = interaction.button
    assert button is not None
    name = f"{button.action}{f' {button.days}d' if button.days else ''}"
    kind = ACTIONS[button.action]
    team = button.team
    try:
        target = kind.resolve(ctx, button)
        if isinstance(target, Outcome):
            return name, team, button.target, target
        team = target.team
        oncall_only = button.action in ONCALL_ACTIONS
        verdict = authorize_target(ctx, interaction, target_team=target.team, oncall_only=oncall_only)
        if not verdict.allowed:
            return name, team, button.target, refused_by(verdict, button)
        outcome = kind.perform(ctx, interaction, button, target)
        outcome.basis = verdict.basis
    except Exception as error:
        outcome = Outcome("failed", f"{FAILED_REPLY} ({type(error).__name__}).")
    return name, team, button.target, outcome


def _command(ctx: Context, interaction: Interaction) -> tuple[str, str, str, Outcome]:
    words = interaction.command_text.split()
    if words and words[0] == "keep":
        return keep_command(ctx, interaction, words[1:])
    try:
        plan = planned.parse_plan(words)
    except planned.PlanError as error:
        return "plan", "", "", Outcome("refused", str(error))
    verdict = authorize_target(ctx, interaction, target_team=plan.team)
    if not verdict.allowed:
        return "plan", plan.team, plan.key, refused_by(verdict, None)
    planned.store(ctx.state, plan, by=interaction.user_id, now=ctx.now)
    return "plan", plan.team, plan.key, Outcome("done", plan.describe(), {}, plan.to_item(), verdict.basis)


def handle(ctx: Context, interaction: Interaction, *, log: Callable[..., Any] | None = None) -> Outcome:
    """Run one verified interaction: resolve the target, authorize on it, act, audit, answer. Never raises for what
    the user sent."""
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
