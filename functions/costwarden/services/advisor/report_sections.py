"""What the monthly report shows besides the cost tables, read from where its owners left it (no new AWS call,
except the pools' one request when the cost cache is not grouped by environment):

* the **daily trend**: the cost monitor's daily cache, summed per day by the ledger (``ledger.daily_totals``);
* the **anomaly episodes** that touched the month: the cost monitor's episode state (``core.episodes``);
* the **idle findings**: the idle finder's latest scan summary (``core.keys.IDLE_SUMMARY_PK``), its ``findings``;
* the **savings as actions**: the advisor's latest run (``core.keys.SAVINGS_PK``), its ``findings`` per team;
* the **pools**: month-to-date spend by team and environment, judged as the pool alerts judge them.

A record of an older version (no ``findings``) or of the wrong shape gives an empty section, never a traceback:
each reader names what it skipped in the report's notes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from costwarden.advisor.report import (
    CostLine,
    Episode,
    MonthlyReport,
    PoolStatus,
    SavingAction,
    WasteItem,
    change_pct,
    classify_budget,
    month_bounds,
    previous_month,
)
from costwarden.core.episodes import DEDUP_PK as EPISODES_PK
from costwarden.core.episodes import load_state
from costwarden.core.keys import IDLE_SUMMARY_PK, IDLE_SUMMARY_SK, SAVINGS_PK, SAVINGS_SK
from costwarden.models.ports import StateStore
from costwarden.settings import Settings

#: Idle findings the report lists (largest first); the scan's summary stores at most this many too.
MAX_WASTE_ROWS = 50


def owner_of(settings: Settings, team: str) -> str:
    """Who answers for ``team``'s resources: its ``teams.<team>.owners``, else the team itself."""
    entry = settings.teams.get(team)
    owners = [str(o) for o in entry.owners] if entry is not None else []
    return ", ".join(owners) if owners else f"team {team}"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def episodes_in(items: Iterable[Mapping[str, Any]], month: str) -> list[Episode]:
    """The episodes (``core.episodes`` state items) whose days overlap ``month``, retracted ones left out."""
    start, end = month_bounds(month)
    first, last = start.isoformat(), date.fromordinal(end.toordinal() - 1).isoformat()
    out: list[Episode] = []
    for series, record in load_state(items).items():
        began, ended = str(record.get("start", "")), str(record.get("last", record.get("start", "")))
        if not began or record.get("retracted") or began > last or ended < first:
            continue
        team, _, second = series.partition("|")
        label = f"{team} / {second}" if second else team
        out.append(Episode(team, label, began, ended, str(record.get("severity", "warning"))))
    return sorted(out, key=lambda e: (e.start, e.series))


def waste_items(settings: Settings, summary: Mapping[str, Any] | None) -> tuple[list[WasteItem], str | None]:
    """The idle findings of the latest scan, largest first, each with its owner and first exact command."""
    if not summary:
        return [], None
    items: list[WasteItem] = []
    for raw in summary.get("findings") or []:
        if not isinstance(raw, Mapping) or not raw.get("id"):
            continue
        team = str(raw.get("team") or "")
        listed = raw.get("commands")
        commands = [str(c) for c in listed if c] if isinstance(listed, list) else []
        items.append(
            WasteItem(
                team=team,
                resource=str(raw["id"]),
                type=str(raw.get("type", "")),
                region=str(raw.get("region", "")),
                kind=str(raw.get("kind", "")),
                usd_month=_number(raw.get("monthly_usd")),
                action=str(raw.get("recommendation", "")),
                command=commands[0] if commands else "",
                owner=owner_of(settings, team),
            )
        )
    items.sort(key=lambda w: (w.usd_month is None, -(w.usd_month or 0.0), w.resource))
    scanned = summary.get("scanned_at")
    return items[:MAX_WASTE_ROWS], str(scanned) if scanned else None


def saving_actions(settings: Settings, record: Mapping[str, Any] | None) -> list[SavingAction]:
    """The advisor's findings as actions ("save X/month by ..."), largest first; a team without them: none."""
    out: list[SavingAction] = []
    teams = (record or {}).get("teams")
    for team, info in teams.items() if isinstance(teams, Mapping) else ():
        found = info.get("findings") if isinstance(info, Mapping) else None
        for raw in found if isinstance(found, list) else []:
            amount = _number(raw.get("usd_month")) if isinstance(raw, Mapping) else None
            if amount is None or amount <= 0 or not raw.get("action"):
                continue
            command = str(raw.get("command") or "")
            out.append(SavingAction(str(team), amount, str(raw["action"]), command, owner_of(settings, str(team))))
    return sorted(out, key=lambda a: (-a.usd_month, a.team, a.action))


def pool_statuses(settings: Settings, lines: Sequence[CostLine], *, month: str, projection: float) -> list[PoolStatus]:
    """Each configured pool's month: production judged on its projected month end, experiment on actual spend
    (the pool alerts' rule), ``lines`` being the month's and the month before's spend by team and environment value."""
    mapping = settings.budgets.pools.environments
    spent: dict[tuple[str, str, str], float] = defaultdict(float)
    for line in lines:
        pool = mapping.get(line.value)
        if pool is not None:
            spent[(line.team, pool, line.month)] += line.usd
    out: list[PoolStatus] = []
    for team, entry in sorted(settings.teams.items()):
        for name, budget in (("production", entry.pools.production), ("experiment", entry.pools.experiment)):
            if budget is None:
                continue
            actual = spent.get((team, name, month), 0.0)
            before = spent.get((team, name, previous_month(month)), 0.0)
            basis = actual * projection if name == "production" else actual
            judged = classify_budget(
                budget,
                basis,
                at_risk_ratio=settings.budgets.at_risk_ratio,
                over_budget_ratio=settings.budgets.over_budget_ratio,
            )
            if judged is not None:
                out.append(PoolStatus(team, name, budget, basis, judged.status, change_pct(actual, before, projection)))
    return out


def has_pools(settings: Settings) -> bool:
    return any(e.pools.production is not None or e.pools.experiment is not None for e in settings.teams.values())


def add_sections(report: MonthlyReport, settings: Settings, store: StateStore) -> None:
    """Fill the report's episodes, waste and savings actions from the state table (each read alone: one that
    fails leaves its section empty and says so in the notes)."""

    def episodes() -> None:
        report.episodes.extend(episodes_in(store.query(EPISODES_PK), report.month))

    def waste() -> None:
        report.waste, report.waste_as_of = waste_items(settings, store.get(IDLE_SUMMARY_PK, IDLE_SUMMARY_SK))

    def savings() -> None:
        report.savings_actions.extend(saving_actions(settings, store.get(SAVINGS_PK, SAVINGS_SK)))

    readers: tuple[tuple[str, Callable[[], None]], ...] = (
        ("anomaly episodes", episodes),
        ("idle findings", waste),
        ("savings findings", savings),
    )
    for what, read in readers:
        try:
            read()
        except Exception as error:  # a section missing is said, the report still goes out
            report.notes.append(f"{what} could not be read ({type(error).__name__}): that section is empty")
