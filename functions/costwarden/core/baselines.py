"""The daily detector's baselines, as the cost monitor leaves them for the parts that judge between its runs.

The launch-time burn guard judges a team's rate minutes after a launch, in the light bundle (no pandas), against
"the same baseline the daily detector uses". It does not recompute one: at the end of each daily run the cost
monitor writes, per team, ``cost.ledger.baselines`` for its run's date (the day the guard watches until the next
run) under ``baseline#team`` (sk ``<day>#<team>``), and the guard reads that record. A team without a record has
no baseline (too little history): the guard says so and does not alert, as the detector would not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

from costwarden.models.ports import StateStore

PK = "baseline#team"
#: Kept a few days: a guard whose monitor did not run today reads yesterday's (``latest`` looks back this far).
TTL_DAYS = 4
LOOKBACK_DAYS = 3


def sort_key(day: date, team: str) -> str:
    return f"{day.isoformat()}#{team}"


def store_baselines(store: StateStore, day: date, values: Mapping[str, float]) -> int:
    """Write each team's baseline (USD/day) for ``day``; NaN (no history) is not written. How many were written."""
    items = [
        (PK, sort_key(day, team), {"team": team, "day": day.isoformat(), "baseline_usd": round(float(usd), 4)})
        for team, usd in values.items()
        if usd is not None and math.isfinite(float(usd))
    ]
    if items:
        store.put_many(items, ttl_days=TTL_DAYS)
    return len(items)


def baseline_of(store: StateStore, team: str, day: date) -> tuple[float | None, str]:
    """The team's baseline for ``day`` (else the newest of the ``LOOKBACK_DAYS`` before it) and the day it is for;
    ``(None, "")`` when the monitor left none (a new team, or the monitor has not run)."""
    for back in range(LOOKBACK_DAYS + 1):
        on = date.fromordinal(day.toordinal() - back)
        item = store.get(PK, sort_key(on, team))
        if item and isinstance(item.get("baseline_usd"), int | float | str):
            try:
                value = float(item["baseline_usd"])
            except ValueError:
                continue
            if math.isfinite(value):
                return value, on.isoformat()
    return None, ""
