"""An Organizations member account as plain data: read by ``adapters.organizations``, judged by ``costwarden.org``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class Account:
    """One member account as Organizations describes it, plus where it sits (its OU path) and its tags."""

    id: str
    name: str
    status: str = ACTIVE
    parents: tuple[str, ...] = ()
    """OU ids from its direct parent up to the root (the root id last)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def team(self, team_key: str) -> str | None:
        """The account's team: its Organizations tag ``team_key`` (``settings.tags.team_key``), if set."""
        value = self.tags.get(team_key, "").strip()
        return value or None
