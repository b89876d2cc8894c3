"""Keeps: a resource its owner means to keep idle for a while (Slack *Keep 14 / 90 days*, issue 23).

A keep is a state-table record (``core.keys.IDLE_KEEP_PK``, sk = the resource ARN) written by the Slack endpoint:
``{until, reason, by, at, team, type}``. Until ``until`` the idle finder leaves the resource out of its findings (and
so out of the team's alert, the digest and ``idle.action: expire``'s marks; a resource it had marked is unmarked, as
one tagged expected-idle is). After ``until`` it is reported again. Unlike the expected-idle tag (forever, set on the
resource), a keep changes nothing on the resource and expires by itself.

A record whose ``until`` is missing or not a date is no keep (the resource stays reported: a keep is never guessed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from costwarden.core.keys import IDLE_KEEP_PK
from costwarden.models.expiry import stored_instant
from costwarden.models.idle_ports import Store


def _until(record: Mapping[str, Any]) -> datetime | None:
    return stored_instant(record.get("until"))


def active_keeps(store: Store, now: datetime) -> dict[str, dict[str, Any]]:
    """The keeps in force at ``now``, by resource ARN (one query of the keep partition, paged by the store)."""
    kept: dict[str, dict[str, Any]] = {}
    for record in store.query(IDLE_KEEP_PK):
        until = _until(record)
        if until is not None and until > now and isinstance(record.get("sk"), str):
            kept[str(record["sk"])] = dict(record)
    return kept
