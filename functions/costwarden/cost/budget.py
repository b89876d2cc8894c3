"""Monthly budgets per team: month to date, run rate, projected month end, status, and when to say so.

Month to date and the projection come from the ledger (``cost.ledger``), the one place every part asks: month-to-date
spend plus the daily run rate (month-to-date average over the days elapsed) times the days left, with the month's
true length (28-31 days, not 30). Status: ON_TRACK, AT_RISK above 90% of budget
projected, OVER_BUDGET above 110% (thresholds from settings). An alert goes out when a team's status worsens
within a month (state ``dedup#cost-budget``, sk ``<team>#<YYYY-MM>``); a new month starts from ON_TRACK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

from costwarden.cost import ledger
from costwarden.models.alert import RankedEnum

BUDGET_PK = "dedup#cost-budget"


class BudgetStatus(RankedEnum):
    """Ordered: on track < at risk < over budget (a status alerts when it worsens)."""

    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    OVER_BUDGET = "OVER_BUDGET"


@dataclass(frozen=True)
class BudgetView:
    team: str
    month: str
    budget_usd: float
    month_to_date_usd: float
    days_elapsed: int
    days_in_month: int
    run_rate_usd: float
    projected_usd: float
    projected_share: float
    status: BudgetStatus

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        return out


def classify(projected_share: float, at_risk_ratio: float = 0.9, over_budget_ratio: float = 1.1) -> BudgetStatus:
    if projected_share > over_budget_ratio:
        return BudgetStatus.OVER_BUDGET
    if projected_share > at_risk_ratio:
        return BudgetStatus.AT_RISK
    return BudgetStatus.ON_TRACK


def project(
    team: str,
    budget: float,
    month_to_date: float,
    last_day: date,
    *,
    at_risk_ratio: float = 0.9,
    over_budget_ratio: float = 1.1,
) -> BudgetView:
    """The budget view for ``team`` given spend from the 1st through ``last_day`` (the last complete day)."""
    heading = ledger.projection(month_to_date, last_day)
    share = heading.projected_usd / budget
    return BudgetView(
        team=team,
        month=heading.month,
        budget_usd=round(budget, 2),
        month_to_date_usd=round(month_to_date, 2),
        days_elapsed=heading.days_elapsed,
        days_in_month=heading.days_in_month,
        run_rate_usd=round(heading.run_rate_usd, 2),
        projected_usd=round(heading.projected_usd, 2),
        projected_share=round(share, 4),
        status=classify(share, at_risk_ratio, over_budget_ratio),
    )


def budget_views(
    daily: pd.DataFrame,
    budgets: Mapping[str, float],
    last_day: date,
    *,
    at_risk_ratio: float = 0.9,
    over_budget_ratio: float = 1.1,
) -> list[BudgetView]:
    """One view per team with a budget, from a team-level daily frame (date, team, cost_usd)."""
    if not budgets:
        return []
    spent = ledger.month_to_date(daily, last_day)
    return [
        project(
            team,
            amount,
            float(spent.get(team, 0.0)),
            last_day,
            at_risk_ratio=at_risk_ratio,
            over_budget_ratio=over_budget_ratio,
        )
        for team, amount in sorted(budgets.items())
    ]


def worsened(view: BudgetView, stored: Mapping[str, Any] | None) -> bool:
    """True when ``view`` is worse than the status last alerted this month (none stored = ON_TRACK)."""
    previous = BudgetStatus(str(stored["status"])) if stored else BudgetStatus.ON_TRACK
    return view.status.rank > previous.rank


def state_key(view: BudgetView) -> tuple[str, str]:
    return BUDGET_PK, f"{view.team}#{view.month}"
