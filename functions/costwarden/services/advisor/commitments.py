"""Commitments run: last month's reservation and Savings Plan utilisation and coverage, expiry warnings, and a
Savings Plan purchase recommendation for the teams whose production inference baseline is established.

Cost Explorer requests are bounded and do not grow with teams or commitments beyond pages: four utilisation and
coverage requests, plus one purchase recommendation per configured plan type, asked only when some team is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from costwarden.adapters.commitments import CommitmentsReader
from costwarden.advisor.commitments import (
    Commitment,
    CommitmentAlert,
    PlanRecommendation,
    Stability,
    coverage_pct,
    judge,
    recommend_plan,
    reservations,
    savings_plans,
    stability,
    stable_floor_hourly,
)
from costwarden.settings import Settings

History = dict[str, list[tuple[date, float]]]


def last_full_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1)
    return (end - timedelta(days=1)).replace(day=1), end


@dataclass
class CommitmentRun:
    period: tuple[date, date]
    commitments: list[Commitment] = field(default_factory=list)
    coverage: dict[str, float | None] = field(default_factory=dict)
    alerts: list[CommitmentAlert] = field(default_factory=list)
    stability: list[Stability] = field(default_factory=list)
    recommendations: list[PlanRecommendation] = field(default_factory=list)
    ce_requests: int = 0
    savingsplans_requests: int = 0
    errors: list[str] = field(default_factory=list)
    history_note: str | None = None

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "period": [self.period[0].isoformat(), self.period[1].isoformat()],
            "commitments": [c.to_dict(today) for c in self.commitments],
            "coverage": self.coverage,
            "alerts": [{"reason": a.reason, "severity": a.severity, "message": a.message} for a in self.alerts],
            "stability": [
                {
                    "team": s.team,
                    "stable": s.stable,
                    "days": s.days,
                    "floor_daily_usd": s.floor_daily_usd,
                    "mean_daily_usd": s.mean_daily_usd,
                    "reason": s.reason,
                }
                for s in self.stability
            ],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "ce_requests": self.ce_requests,
            "savingsplans_requests": self.savingsplans_requests,
            "history_note": self.history_note,
            "errors": self.errors,
        }


def run_commitments(
    settings: Settings, reader: CommitmentsReader, *, today: date, history: History | None, history_note: str | None
) -> CommitmentRun:
    adv = settings.advisor
    start, end = last_full_month(today)
    run = CommitmentRun(period=(start, end), history_note=history_note)
    before = reader.ce.requests
    try:
        ri = reservations(reader.reservation_utilisation(start, end))
        sp = savings_plans(reader.savings_plans_utilisation(start, end), reader.describe_savings_plans())
        run.commitments = ri + sp
        run.coverage = coverage_pct(reader.reservation_coverage(start, end), reader.savings_plans_coverage(start, end))
    except Exception as error:  # reported in the summary; the rest of the advisor still runs
        run.errors.append(f"commitments: {type(error).__name__}: {error}")
    run.alerts = judge(
        run.commitments,
        today=today,
        min_utilisation_pct=adv.min_utilisation_pct,
        expiry_warn_days=adv.expiry_warn_days,
    )
    run.stability = [
        stability(
            team,
            series,
            stable_days=adv.stable_days,
            max_spread=adv.stable_max_spread,
            floor_quantile=adv.floor_quantile,
        )
        for team, series in sorted((history or {}).items())
    ]
    # Cost Explorer's recommendation per plan type assumes only that plan is bought: they are alternatives, not
    # additions. The floor is committed once, to the plan type that saves the most.
    candidates: list[PlanRecommendation] = []
    for plan_type in adv.plan_types if stable_floor_hourly(run.stability) > 0 else ():
        try:
            summary = reader.purchase_recommendation(plan_type)
        except Exception as error:  # reported; other plan types still asked
            run.errors.append(f"{plan_type} recommendation: {type(error).__name__}: {error}")
            continue
        recommendation = recommend_plan(plan_type, summary, run.stability)
        if recommendation is not None:
            candidates.append(recommendation)
    if candidates:
        best = max(
            candidates, key=lambda r: (r.estimated_monthly_savings_usd or 0.0, -adv.plan_types.index(r.plan_type))
        )
        others = [c.plan_type for c in candidates if c is not best]
        note = f"chosen over {', '.join(others)} (Cost Explorer's recommendations are alternatives)" if others else ""
        run.recommendations.append(replace(best, notes=(*best.notes, note)) if note else best)
    run.ce_requests = reader.ce.requests - before
    run.savingsplans_requests = reader.savingsplans_requests
    return run
