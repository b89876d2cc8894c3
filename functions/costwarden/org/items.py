"""Work items: one (capability, account, region) per Distributed Map iteration, validated at every boundary.

An item crosses Step Functions as JSON, so it is parsed back with the same checks a user's input gets: a malformed
item fails that item with a message naming the field, never a traceback inside a member account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from costwarden.models.org import Account

ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
ROLE_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
PHASES = ("plan", "act")


class ItemError(ValueError):
    """A work item that cannot be run; the message names the field."""


@dataclass(frozen=True)
class WorkItem:
    capability: str
    account_id: str
    account_name: str
    region: str
    role_name: str
    account_team: str | None = None
    phase: str = "plan"
    approved_actions: int = 0
    """Act phase only: how many actions the aggregation approved for this item (the re-plan may not exceed it)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"


def plan_items(
    capability: str, accounts: Sequence[Account], regions: Sequence[str], role_name: str, team_key: str
) -> list[WorkItem]:
    """Account x region, account-major (one account's regions run close together)."""
    return [
        WorkItem(capability, a.id, a.name, region, role_name, a.team(team_key)) for a in accounts for region in regions
    ]


def _text(raw: Mapping[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise ItemError(f"work item field {name!r} must be a non-empty string, got {value!r}")
    if pattern is not None and not pattern.match(value):
        raise ItemError(f"work item field {name!r} is malformed: {value!r}")
    return value


def parse_item(raw: object, capabilities: Sequence[str]) -> WorkItem:
    """A work item from a state machine event; ``ItemError`` names the field that is wrong."""
    if not isinstance(raw, Mapping):
        raise ItemError(f"a work item must be an object, got {type(raw).__name__}")
    capability = _text(raw, "capability")
    if capability not in capabilities:
        raise ItemError(f"work item field 'capability' must be one of {sorted(capabilities)}, got {capability!r}")
    phase = raw.get("phase", "plan")
    if phase not in PHASES:
        raise ItemError(f"work item field 'phase' must be one of {list(PHASES)}, got {phase!r}")
    approved = raw.get("approved_actions", 0)
    if not isinstance(approved, int) or isinstance(approved, bool) or approved < 0:
        raise ItemError(f"work item field 'approved_actions' must be a count >= 0, got {approved!r}")
    team = raw.get("account_team")
    if team is not None and not isinstance(team, str):
        raise ItemError(f"work item field 'account_team' must be a string or null, got {team!r}")
    name = raw.get("account_name", "")
    return WorkItem(
        capability=capability,
        account_id=_text(raw, "account_id", ACCOUNT_RE),
        account_name=name if isinstance(name, str) else "",
        region=_text(raw, "region", REGION_RE),
        role_name=_text(raw, "role_name", ROLE_RE),
        account_team=team or None,
        phase=phase,
        approved_actions=approved,
    )
