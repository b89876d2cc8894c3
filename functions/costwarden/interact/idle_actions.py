"""The idle finder's buttons (issue 23): *Keep* and *Stop*, and ``/costwarden keep <arn> <days> <reason>``.

* Keep records a keep with its reason and expiry in the state table (``core.keys.IDLE_KEEP_PK``; the idle finder
  leaves the resource out until it expires, ``idle/keeps.py``). Nothing on the resource changes, so it needs no IAM
  and works for production too.
* Stop stops a stoppable type through the one action path (``act_once``: ``act_on``, Trigger SLACK — its guards
  decide, never production, never protected — and its audit record shows their decisions). Never terminated.

Both are called once ``interact.actions`` has read the resource fresh and authorized the presser on its team.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from costwarden.core.act import Request, Rules, Verb, decision_for
from costwarden.core.keys import IDLE_KEEP_PK
from costwarden.core.owner import team_of
from costwarden.interact.authz import authorize_target
from costwarden.interact.buttons import KEEP_DAYS, LONG_KEEP_DAYS, stoppable
from costwarden.interact.context import FAILED_REPLY, Context, Outcome, act_once, read_target, refused_by
from costwarden.interact.payload import Interaction
from costwarden.models.expiry import format_expiry
from costwarden.redaction import redact
from costwarden.resources.model import Resource, Status

#: The reason a Keep from the idle alert records (a button carries no free text).
KEEP_REASON = "idle on purpose: Keep {days} days pressed on the idle alert"
#: The longest keep (the idle alert's long keep; a longer one is the expected-idle tag's job, set by hand).
MAX_KEEP_DAYS = LONG_KEEP_DAYS
#: ``/costwarden keep``: its usage, and the longest reason it records.
KEEP_USAGE = "usage: keep <resource ARN> <days 1-90> <reason>"
MAX_KEEP_REASON_CHARS = 200
#: Resource states in which Stop has nothing to do.
STOPPED_STATES = frozenset({"stopping", "stopped", "Stopping", "Stopped"})


def keep(ctx: Context, resource: Resource, days: int, *, by: str, reason: str) -> Outcome:
    """Record a keep of ``resource`` for ``days`` (with its ``reason``): the idle finder leaves it out until then."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_KEEP_DAYS:
        return Outcome("refused", f"A keep lasts 1 to {MAX_KEEP_DAYS} days (the idle alert offers {KEEP_DAYS}).")
    until = ctx.now + timedelta(days=days)
    before = ctx.state.get(IDLE_KEEP_PK, resource.arn) or {}
    record = {
        "until": until.isoformat(),
        "reason": reason,
        "by": by,
        "at": ctx.now.isoformat(),
        "team": team_of(resource.tags, ctx.settings.tags),
        "type": resource.type,
    }
    ctx.state.put(IDLE_KEEP_PK, resource.arn, record, ttl_days=days + 1)
    previous: dict[str, Any] = {k: before[k] for k in ("until", "reason", "by") if k in before}
    reply = f"Kept: {resource.type} {resource.id} is left out of the idle report until {format_expiry(until)}"
    return Outcome("done", reply, previous, record)


def stop(ctx: Context, resource: Resource, *, by: str) -> Outcome:
    """Stop ``resource`` (stop-only: never terminated) through the one action path; its guards decide."""
    if not stoppable(resource.type):
        return Outcome("refused", f"{resource.type} cannot be stopped (Stop never terminates nor deletes).")
    if resource.state in STOPPED_STATES:
        return Outcome("refused", f"{resource.type} {resource.id} is already {resource.state.lower()}: nothing to do.")
    rules = Rules.for_settings(ctx.settings, allow_production=False)
    decision = decision_for(resource, Verb.STOP.value, rules.policy, reason=f"idle: stop pressed in Slack by {by}")
    outcome = act_once(ctx, Request(resource, Verb.STOP, decision), rules)
    guard = {"status": outcome.status.value, "reason": outcome.decision.reason}
    guard["refused_by"] = outcome.refused_by.value if outcome.refused_by is not None else ""
    if outcome.refused_by is not None:
        return Outcome("refused", f"Refused: {outcome.note}.", {}, {"decision": guard})
    if outcome.status is Status.FAILED:
        return Outcome("failed", f"Could not stop {resource.id}: {redact(outcome.note)}", {}, {"decision": guard})
    return Outcome("done", f"Stopped {resource.type} {resource.id}", {}, {"decision": guard})


def keep_command(ctx: Context, interaction: Interaction, words: list[str]) -> tuple[str, str, str, Outcome]:
    """``/costwarden keep <arn> <days> <reason>``: a keep with the presser's own reason, authorized on the
    resource's team read fresh (and answered in that team's channel only)."""
    if len(words) < 3 or not words[1].isdigit() or len(words[1]) > 3:
        return "keep", "", "", Outcome("refused", KEEP_USAGE)
    arn, days, reason = words[0], int(words[1]), " ".join(words[2:])
    if len(reason) > MAX_KEEP_REASON_CHARS or not reason.isprintable():
        return (
            "keep",
            "",
            "",
            Outcome("refused", f"<reason>: printable text of at most {MAX_KEEP_REASON_CHARS} characters"),
        )
    team = ""
    try:
        found = read_target(ctx, arn, verb="keep")
        if isinstance(found, Outcome):
            return "keep", team, arn, found
        team = team_of(found.tags, ctx.settings.tags)
        verdict = authorize_target(ctx, interaction, target_team=team)
        if not verdict.allowed:
            return "keep", team, arn, refused_by(verdict, None)
        outcome = keep(ctx, found, days, by=interaction.user_id, reason=reason)
        outcome.basis = verdict.basis
    except Exception as error:
        outcome = Outcome("failed", f"{FAILED_REPLY} ({type(error).__name__}).")
    return "keep", team, arn, outcome
