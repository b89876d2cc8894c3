"""Attribution at organization scale: a resource or a cost line without a team tag belongs to its account's team.

The account's team is its Organizations tag (``settings.tags.team_key``); such an owner is labelled
``account default`` wherever it is shown, so a team can tell "I tagged this" from "this landed on me because it
runs in my account". Without an account team it stays unowned/untagged, as in a single-account deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from costwarden.models.alert import AlertEvent

Source = Literal["tag", "account default", "none"]
ACCOUNT_DEFAULT: Source = "account default"
TAG: Source = "tag"
NONE: Source = "none"


def attribute(tagged_team: str | None, account_team: str | None, *, unowned: str) -> tuple[str, Source]:
    """(team, how it was found): the tag wins; else the account's team; else ``unowned``."""
    team = (tagged_team or "").strip()
    if team and team != unowned:
        return team, TAG
    if account_team:
        return account_team, ACCOUNT_DEFAULT
    return unowned, NONE


def attribute_rows(
    rows: list[dict[str, object]],
    account_teams: Mapping[str, str | None],
    *,
    team_field: str,
    unowned: str,
    account_field: str = "account_id",
) -> list[dict[str, object]]:
    """Cost or decision rows with ``account_field`` and ``team_field``: team filled in, ``attribution`` added."""
    out = []
    for row in rows:
        raw = row.get(team_field)
        team, source = attribute(
            raw if isinstance(raw, str) else None, account_teams.get(str(row.get(account_field, ""))), unowned=unowned
        )
        out.append({**row, team_field: team, "attribution": source})
    return out


def attribute_event(event: AlertEvent, account_id: str, account_team: str | None, *, unowned: str) -> AlertEvent:
    """An alert of a member account's run: an unowned one goes to the account's team, labelled ``account default``;
    every one names its account (a team with resources in several accounts must know where to look)."""
    figures = {"Account": account_id, **dict(event.details.get("figures", {}))}
    update: dict[str, object] = {"details": {**event.details, "figures": figures, "account_id": account_id}}
    if event.team == unowned and account_team:
        figures["Owner"] = f"{ACCOUNT_DEFAULT} (team tag of account {account_id})"
        update["team"] = account_team
    return event.model_copy(update=update)
