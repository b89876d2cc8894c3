"""The monthly cost report's figures: per team and for the account, the month and the one before it, by model,
project and lifecycle phase; month-over-month change, budget status per team and pool, the month's daily trend with
its anomaly episodes, and the waste on the table (idle findings, savings with their owner and command).

Plain data, built from the one ledger (``costwarden.cost.ledger``, through the service that passes its figures in):
``costwarden.advisor.report`` renders it as one self-contained HTML page, the CLI's ``--format json`` prints
``MonthlyReport.to_dict()``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from costwarden.core.owner import UNOWNED_TEAM

UNTAGGED = UNOWNED_TEAM  # one label for "nobody owns this" (core.owner)
TOP_VALUES = 8
TOP_TEAMS = 20


@dataclass(frozen=True)
class CostLine:
    """USD of one team and one value of one dimension (tag key) in one month (``YYYY-MM``)."""

    team: str
    dimension: str
    value: str
    month: str
    usd: float


@dataclass(frozen=True)
class Budget:
    budget_usd: float
    basis_usd: float
    """Spend the status is judged on: the month's actual, or its run-rate projection while it is under way."""
    status: str


def change_pct(this_usd: float, last_usd: float, projection: float) -> float | None:
    """Per cent change from ``last_usd`` to ``this_usd`` projected (run rate) to the month end; None: nothing last
    month to compare with (a new team, value or day)."""
    if last_usd <= 0:
        return None
    return round((this_usd * projection / last_usd - 1) * 100, 1)


@dataclass(frozen=True)
class PoolStatus:
    """One team's production or experiment pool (``teams.<team>.pools``): judged like the pool alerts, production
    on its projected month end, experiment on its actual spend."""

    team: str
    pool: str
    budget_usd: float
    basis_usd: float
    status: str
    change_pct: float | None = None
    """Month over month of the pool's spend (run rate while the month is under way); None: nothing last month."""

    @property
    def share_pct(self) -> float:
        """The spend judged, in per cent of the pool's budget (what the status was decided on)."""
        return self.basis_usd / self.budget_usd * 100


@dataclass(frozen=True)
class Episode:
    """An anomaly episode of the cost monitor (``core.episodes`` state) that touched the month: marked on the trend."""

    team: str
    series: str
    """The series as the trend labels it: ``team``, or ``team / <second key value>``."""
    start: str
    last: str
    """First and last day of the episode (``YYYY-MM-DD``); it may begin before the month or outlast it."""
    severity: str


@dataclass(frozen=True)
class WasteItem:
    """An idle finding (``idle.model.Finding``, as the idle finder stored its latest scan): what it costs a month,
    whose it is and the exact command that stops it."""

    team: str
    resource: str
    type: str
    region: str
    kind: str
    usd_month: float | None
    action: str
    command: str
    owner: str


@dataclass(frozen=True)
class SavingAction:
    """One advisor finding as a thing to do: "save ``usd_month`` USD/month by ``action``" (``command`` when one
    exact command does it)."""

    team: str
    usd_month: float
    action: str
    command: str
    owner: str


@dataclass
class TeamReport:
    team: str
    this_usd: float
    last_usd: float
    by_dimension: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    budget: Budget | None = None
    savings_usd_month: float | None = None
    savings_items: list[str] = field(default_factory=list)

    def change_pct(self, projection: float) -> float | None:
        """Month over month, on the run-rate projection while the month is under way (``projection`` > 1)."""
        return change_pct(self.this_usd, self.last_usd, projection)

    def to_dict(self, projection: float) -> dict[str, Any]:
        return {
            "team": self.team,
            "this_month_usd": round(self.this_usd, 2),
            "last_month_usd": round(self.last_usd, 2),
            "change_pct": self.change_pct(projection),
            "by": {
                dim: [
                    {"value": v, "this_month_usd": round(t, 2), "last_month_usd": round(last, 2)} for v, t, last in rows
                ]
                for dim, rows in self.by_dimension.items()
            },
            "budget": None
            if self.budget is None
            else {
                "budget_usd": self.budget.budget_usd,
                "basis_usd": round(self.budget.basis_usd, 2),
                "status": self.budget.status,
            },
            "savings_usd_month": self.savings_usd_month,
            "savings_items": self.savings_items,
        }


@dataclass
class MonthlyReport:
    month: str
    last_month: str
    days_elapsed: int
    days_in_month: int
    generated_at: datetime
    dimensions: tuple[str, ...]
    account: TeamReport
    teams: list[TeamReport]
    projection: float = 1.0
    """Projected month end / month to date (the ledger's run-rate rule; 1.0 for a complete month)."""
    ce_requests: int = 0
    notes: list[str] = field(default_factory=list)
    daily: list[tuple[str, float]] = field(default_factory=list)
    """The account's spend per day of the month (``YYYY-MM-DD``, USD), from the daily cost cache."""
    episodes: list[Episode] = field(default_factory=list)
    pools: list[PoolStatus] = field(default_factory=list)
    waste: list[WasteItem] = field(default_factory=list)
    waste_as_of: str | None = None
    """When the idle finder's scan the waste section shows ran (ISO 8601); None: no scan stored."""
    savings_actions: list[SavingAction] = field(default_factory=list)
    #: HTML sections other capabilities append after the teams (unit costs: ``unitcost.sections``), each
    #: self-contained and escaped by its producer.
    appendix: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.days_elapsed >= self.days_in_month

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "last_month": self.last_month,
            "complete": self.complete,
            "days_elapsed": self.days_elapsed,
            "days_in_month": self.days_in_month,
            "generated_at": self.generated_at.isoformat(),
            "dimensions": list(self.dimensions),
            "account": self.account.to_dict(self.projection),
            "teams": [t.to_dict(self.projection) for t in self.teams],
            "ce_requests": self.ce_requests,
            "notes": self.notes,
            "daily": [{"date": d, "usd": round(v, 2)} for d, v in self.daily],
            "episodes": [asdict(e) for e in self.episodes],
            "pools": [
                asdict(p) | {"basis_usd": round(p.basis_usd, 2), "share_pct": round(p.share_pct, 1)} for p in self.pools
            ],
            "waste": {"as_of": self.waste_as_of, "idle": [asdict(w) for w in self.waste]},
            "savings_actions": [asdict(a) for a in self.savings_actions],
        }

    @property
    def untagged(self) -> TeamReport | None:
        """The slice nobody's team tag claims (``UNTAGGED``), when the month or the one before had any."""
        return next((t for t in self.teams if t.team == UNTAGGED), None)


def previous_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """[first day, first day of the next month)."""
    year, mon = (int(p) for p in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return start, end


def parse_month(text: str) -> str:
    """``YYYY-MM`` or ValueError saying what is wrong."""
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise ValueError(f"{text!r} is not a month in the form YYYY-MM")
    if not 1 <= int(parts[1]) <= 12:
        raise ValueError(f"{text!r}: month must be 01-12")
    return text


def classify_budget(
    budget_usd: float | None, basis_usd: float, *, at_risk_ratio: float, over_budget_ratio: float
) -> Budget | None:
    if budget_usd is None:
        return None
    share = basis_usd / budget_usd
    status = "OVER_BUDGET" if share > over_budget_ratio else "AT_RISK" if share > at_risk_ratio else "ON_TRACK"
    return Budget(budget_usd, basis_usd, status)


def build_report(
    lines: Iterable[CostLine],
    *,
    month: str,
    today: date,
    dimensions: Sequence[str],
    budgets: Mapping[str, float],
    at_risk_ratio: float,
    over_budget_ratio: float,
    savings: Mapping[str, tuple[float, list[str]]],
    generated_at: datetime,
    heading: tuple[int, int, float],
) -> MonthlyReport:
    """Aggregate ``lines`` (this month and last, every dimension) into the report.

    ``heading`` is ``(days elapsed, days in the month, projection factor)`` from the ledger's projection of the
    month as of ``today`` (``costwarden.cost.ledger``, passed in by the service: capabilities do not import each
    other), so the report projects a month under way exactly as the budgets do.
    """
    last = previous_month(month)
    _, end = month_bounds(month)
    days_elapsed, days_in_month, projection = heading
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for line in lines:
        if line.month not in (month, last) or line.dimension not in dimensions:
            continue
        slot = 0 if line.month == month else 1
        cells[(line.team or UNTAGGED, line.dimension, line.value or UNTAGGED)][slot] += line.usd
        cells[("", line.dimension, line.value or UNTAGGED)][slot] += line.usd
    by_team: dict[str, TeamReport] = {}
    for (team, dim, value), (this, prev) in cells.items():
        report = by_team.setdefault(team, TeamReport(team or "account", 0.0, 0.0))
        report.by_dimension.setdefault(dim, []).append((value, this, prev))
    for report in by_team.values():
        for dim in list(report.by_dimension):
            report.by_dimension[dim].sort(key=lambda r: (-r[1], -r[2], r[0]))
        first = next((report.by_dimension[d] for d in dimensions if d in report.by_dimension), [])
        report.this_usd = sum(r[1] for r in first)
        report.last_usd = sum(r[2] for r in first)
        report.by_dimension = {d: report.by_dimension[d] for d in dimensions if d in report.by_dimension}
        if report.team != "account":
            report.budget = classify_budget(
                budgets.get(report.team),
                report.this_usd * projection,
                at_risk_ratio=at_risk_ratio,
                over_budget_ratio=over_budget_ratio,
            )
            if report.team in savings:
                report.savings_usd_month, report.savings_items = savings[report.team][0], list(savings[report.team][1])
    account = by_team.pop("", TeamReport("account", 0.0, 0.0))
    if savings:
        account.savings_usd_month = round(sum(s for s, _ in savings.values()), 2)
    teams = sorted(by_team.values(), key=lambda t: (-t.this_usd, t.team))
    notes = (
        []
        if end <= today or days_elapsed >= days_in_month
        else [
            f"{month} is under way ({days_elapsed} of {days_in_month} days): change and budget status use the run rate"
        ]
    )
    return MonthlyReport(
        month,
        last,
        days_elapsed,
        days_in_month,
        generated_at,
        tuple(dimensions),
        account,
        teams,
        projection=projection,
        notes=notes,
    )
