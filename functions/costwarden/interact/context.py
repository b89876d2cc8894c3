"""What every Slack action shares: its context, its outcome, the fresh read of a target resource and the one
action path for a press (``act_once``), and the answer to an unauthorized press. ``interact.actions`` dispatches;
``interact.idle_actions`` holds the idle finder's Keep and Stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costwarden.core.act import Outcome as ActOutcome
from costwarden.core.act import Request, Rules, Trigger, act_on, state_audit
from costwarden.core.arn import BadArn, parse_arn
from costwarden.interact.authz import Verdict
from costwarden.interact.payload import Button
from costwarden.models.ports import SlackGroups, SlackResponder, StateStore
from costwarden.resources import REGISTRY, Clients, type_for_arn
from costwarden.resources.model import Resource
from costwarden.settings import Settings

#: What the presser reads when an action broke: no internals (the log has the error), and what to do next.
FAILED_REPLY = "Something went wrong and the action may not have completed; check the resource before pressing again"
NOT_YOURS = "Not yours: only the team's members and on-call can act on this alert, from the channel it was sent to."
#: The refusal of a button whose team is not its target's (the basis, audited, names both teams).
OTHER_TEAM = "Not yours: this button names team {hint}, but what it acts on belongs to another team; nothing changed."


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


def act_once(ctx: Context, request: Request, rules: Rules) -> ActOutcome:
    """One request through the one action path (Trigger SLACK): guards, cap, the call, the reaper's audit record."""
    batch = act_on(
        [request],
        trigger=Trigger.SLACK,
        rules=rules,
        dry_run=False,
        clients=ctx.clients,
        audit=state_audit(ctx.state, ctx.settings.reaper.audit_ttl_days),
        now=ctx.now,
    )
    [outcome] = batch.outcomes
    return outcome


_PARTICIPLES = {"extend": "extended", "keep": "kept", "stop": "stopped"}


def read_target(ctx: Context, arn: str, *, verb: str) -> Resource | Outcome:
    """The resource ``arn`` names, read fresh through the registry (its tags now, not what a message said: the
    tagging-API types through the tagging API, ASG / EMR / EKS node groups through their own describe calls), or the
    refusal to answer."""
    try:
        region = parse_arn(arn).region
    except BadArn as error:
        return Outcome("refused", f"Refused: the button's target is not a resource ARN ({error}).")
    type_name = type_for_arn(arn)
    rtype = REGISTRY.get(type_name)
    if rtype is None:
        by_hand = f"update its {ctx.settings.tags.expires_key} tag by hand" if verb == "extend" else "act by hand"
        return Outcome("refused", f"{type_name} cannot be {_PARTICIPLES[verb]} from Slack; {by_hand}.")
    try:
        found = [r for r in rtype.read(ctx.clients, region, [arn]) if r.arn == arn]
    except ValueError as error:  # an ARN of the type's service whose resource part the type cannot read
        return Outcome("refused", f"Refused: the button's target is not a {type_name} ARN ({error}).")
    if not found or not found[0].active:
        return Outcome("refused", f"The resource no longer exists (or is being deleted): nothing to {verb}.")
    return found[0]


def refused_by(verdict: Verdict, button: Button | None) -> Outcome:
    """The answer to an unauthorized press: why, in words the presser can act on (the basis has the detail)."""
    other = button is not None and verdict.basis.startswith("the button names team")
    text = OTHER_TEAM.format(hint=button.team) if other and button is not None else NOT_YOURS
    return Outcome("unauthorized", text, basis=verdict.basis)
