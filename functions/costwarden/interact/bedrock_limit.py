"""The Bedrock hard limit (issue 26, part 4): *Deny Bedrock* attaches an inline deny on ``bedrock:InvokeModel*``
for the team's application inference profiles to exactly the team's profile roles; *Lift* deletes exactly it.

* **What is denied.** ``bedrock:InvokeModel`` and ``bedrock:InvokeModelWithResponseStream`` (``Converse`` and
  ``ConverseStream`` are authorized as these) on the team's profile ARNs, as the guard last read them
  (``core.keys.BEDROCK_PROFILES_PK``). Other teams' profiles and the roles' other permissions are untouched.
* **Where.** The roles ``bedrock.roles.<team>`` lists, each only after its tags are read fresh
  (``iam:ListRoleTags``) and its team (``core.owner.team_of``, the one owner rule) is the team: a role that is not
  the team's is refused, named, and gets nothing. IAM holds the same line: the permission to put or delete the
  policy is conditioned on the role's team tag (``infra/bedrock.py``).
* **Named so Lift removes exactly it.** The inline policy is ``POLICY_NAME``; what was attached is recorded
  (``STATE_PK`` / team) and Lift deletes that policy from those roles, never an operator's own.
* **Who.** From Slack, on-call only (``authz.authorize_target`` on the team the roles' tags name); with
  ``bedrock.hard_limit: auto`` the hourly run enforces it itself (``services.bedrock``). Every attempt, per role,
  is one audit item of the one record shape (``core.act.write_audit``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from costwarden.core.act import write_audit
from costwarden.core.keys import BEDROCK_PROFILES_PK
from costwarden.core.owner import team_of
from costwarden.interact.context import Context, Outcome
from costwarden.interact.hardlimit import lift_policies, put_policies
from costwarden.interact.payload import Button, encode_button
from costwarden.models.ports import StateStore
from costwarden.resources import Clients
from costwarden.resources.base import error_text
from costwarden.resources.model import Decision, Status, new_run_id
from costwarden.settings import Settings

POLICY_NAME = "costwarden-bedrock-deny"
STATE_PK = "bedrocklimit"
DENY_ACTION, LIFT_ACTION = "bedrock_deny", "bedrock_lift"
DENIED_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
#: What the audit records as the type of the thing changed (an IAM role's inline policy).
AUDIT_TYPE = "iam-role-policy"


def deny_policy(profiles: Sequence[str]) -> dict[str, Any]:
    """The inline deny: invoking through the team's application inference profiles."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CostwardenBedrockDeny",
                "Effect": "Deny",
                "Action": list(DENIED_ACTIONS),
                "Resource": list(profiles),
            }
        ],
    }


def role_arn(account: str, role: str) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


def team_roles(settings: Settings, clients: Clients, team: str) -> tuple[list[str], list[str]]:
    """``(roles, refusals)``: the team's configured roles whose tags, read now, name the team; why the others not."""
    iam = clients("iam", "us-east-1")
    roles, refusals = [], []
    for role in settings.bedrock.roles.get(team, ()):
        try:
            tags = {t["Key"]: t["Value"] for t in _role_tags(iam, role)}
        except Exception as error:  # a role that cannot be read is not denied on
            refusals.append(f"{role}: its tags could not be read ({error_text(error)})")
            continue
        owner = team_of(tags, settings.tags)
        if owner != team:
            refusals.append(f"{role}: its {settings.tags.team_key} tag names {owner!r}, not {team!r}")
        else:
            roles.append(role)
    return roles, refusals


def _role_tags(iam: Any, role: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = []
    request: dict[str, Any] = {"RoleName": role}
    while True:
        page = iam.list_role_tags(**request)
        tags += page.get("Tags", [])
        if not page.get("IsTruncated"):
            return tags
        request["Marker"] = page["Marker"]


#: ``(status, reply, record)`` of an Enforce or a Lift.
Result = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Denier:
    """Who attaches or lifts the deny, with what: the settings, the state table, IAM clients, who asked (a Slack
    user, or the hourly run for ``auto``) and the clock."""

    settings: Settings
    state: StateStore
    clients: Clients
    by: str
    now: datetime

    def _audit(self, team: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """One audit item per role (``(role or "role: why", status, reason)``), in the one record shape."""
        decisions = [
            Decision(f"role/{role}", AUDIT_TYPE, "global", team, None, POLICY_NAME, Status(status), reason, role)
            for role, status, reason in ((r.split(":")[0], status, why) for r, status, why in rows)
        ]
        if decisions:
            ttl = self.settings.reaper.audit_ttl_days
            run_id = new_run_id(self.now)
            write_audit(self.state, ttl, run_id=run_id, started_at=self.now, dry_run=False, decisions=decisions)

    def _refused(self, team: str, profiles: Sequence[str] | None) -> tuple[str, list[str]]:
        """Why nothing is attached ("" when it may be), and the profiles to deny."""
        if self.settings.bedrock.hard_limit.get(team, "off") == "off":
            return f"The Bedrock hard limit is off for {team} (bedrock.hard_limit).", []
        current = self.state.get(STATE_PK, team)
        if current and current.get("active"):
            return f"Bedrock is already denied for {team} (by {current.get('by')}).", []
        if profiles is None:
            known = self.state.get(BEDROCK_PROFILES_PK, team) or {}
            profiles = [str(p) for p in known.get("profiles", []) if isinstance(p, str)]
        if not profiles:
            return f"No application inference profile of {team} is known: nothing to deny.", []
        return "", list(profiles)

    def enforce(self, team: str, profiles: Sequence[str] | None = None) -> Result:
        """Attach the deny on ``profiles`` (default: the guard's last reading) to the team's roles, read fresh;
        refused when off, already enforced, without profiles or without a role that is the team's."""
        why, profiles = self._refused(team, profiles)
        if why:
            return "refused", why, {}
        roles, refusals = team_roles(self.settings, self.clients, team)
        skipped = [(r, "skipped", r) for r in refusals]
        if not roles:
            self._audit(team, skipped)
            return "refused", f"Not denied: no role of {team} to attach it to ({'; '.join(refusals)[:300]}).", {}
        document = json.dumps(deny_policy(profiles))
        attached, failures = put_policies(self.clients("iam", "us-east-1"), roles, POLICY_NAME, document)
        reason = f"Bedrock hard limit of {team} by {self.by}"
        self._audit(team, [(r, "done", reason) for r in attached] + [(f, "failed", f) for f in failures] + skipped)
        record = {
            "active": bool(attached),
            "by": self.by,
            "at": self.now.isoformat(),
            "attached": attached,
            "policy_name": POLICY_NAME,
            "profiles": profiles,
            "failures": failures,
            "refused": refusals,
        }
        self.state.put(STATE_PK, team, record)
        reply = f"Bedrock denied for {team}: {len(profiles)} profile(s) on {len(attached)} role(s)"
        if problems := failures + refusals:
            reply += f"; not on {len(problems)}: {'; '.join(problems)[:300]}"
        return ("done" if not failures else "failed"), reply, record

    def lift(self, team: str) -> Result:
        """Delete exactly the policy ``enforce`` attached, from exactly those roles."""
        iam = self.clients("iam", "us-east-1")
        lifted = lift_policies(self.state, iam, (STATE_PK, team), by=self.by, now=self.now, name=POLICY_NAME)
        if lifted is None:
            return "refused", f"Bedrock is not denied for {team}.", {}
        removed, failures, record = lifted
        reason = f"Bedrock deny lifted by {self.by}"
        self._audit(team, [(r, "done", reason) for r in removed] + [(f, "failed", f) for f in failures])
        if failures:
            return "failed", f"Lift incomplete for {team}: {'; '.join(failures)[:300]}", record
        return "done", f"Bedrock deny lifted for {team}: removed from {len(removed)} role(s)", record


def lift_block(team: str, channel: str) -> dict[str, Any]:
    """The *Lift Bedrock deny* button the message shows once the deny is attached."""
    element = {
        "type": "button",
        "action_id": f"cw_{LIFT_ACTION}_0",
        "text": {"type": "plain_text", "text": "Lift Bedrock deny"},
        "value": encode_button(Button(LIFT_ACTION, team, channel, team)),
    }
    return {"type": "actions", "block_id": "costwarden_bedrock_lift", "elements": [element]}


def roles_team(ctx: Context, target: str) -> str | Outcome:
    """The team a Deny / Lift press acts for, from what its roles *are*: the team the button names, refused unless
    at least one of its configured roles carries that team's tag now (``authz`` then checks the presser)."""
    clients = ctx.hard_limit_clients
    if clients is None:
        return Outcome("refused", "The hard-limit role is not deployed (no team has bedrock.hard_limit on).")
    roles, refusals = team_roles(ctx.settings, clients, target)
    if not roles:
        why = "; ".join(refusals) or "bedrock.roles lists none"
        return Outcome("refused", f"Refused: no role of {target} carries its tag ({why[:300]}).")
    return target


def press(ctx: Context, user: str, button: Button, team: str) -> Outcome:
    """Deny or Lift for ``team`` (resolved by ``roles_team`` and authorized on-call)."""
    clients = ctx.hard_limit_clients
    assert clients is not None  # ``roles_team`` refused otherwise
    denier = Denier(ctx.settings, ctx.state, clients, user, ctx.now)
    if button.action == DENY_ACTION:
        status, reply, record = denier.enforce(team)
        outcome = Outcome(status, reply, {}, record)
        if record.get("active"):
            outcome.follow_up = [lift_block(team, button.channel)]
        return outcome
    status, reply, record = denier.lift(team)
    return Outcome(status, reply, {}, record)
