"""Reservations and Savings Plans: Cost Explorer's utilisation, coverage and purchase recommendation APIs, and
``savingsplans:DescribeSavingsPlans`` for each plan's end and commitment.

Every Cost Explorer page goes through ``CostExplorer`` (counted: each costs 0.01 USD, and retried when throttled);
the Savings Plans API is free and counted separately. moto implements none of these: tests use botocore's
``Stubber`` with fixtures in the real response shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from costwarden.adapters import aws
from costwarden.adapters.cost_explorer import CostExplorer

#: The Savings Plans API is global, served from us-east-1.
SAVINGSPLANS_REGION = "us-east-1"


def _period(start: date, end: date) -> dict[str, str]:
    return {"Start": start.isoformat(), "End": end.isoformat()}


@dataclass
class CommitmentsReader:
    ce: CostExplorer
    savingsplans: Any = field(default_factory=lambda: aws.client("savingsplans", SAVINGSPLANS_REGION))
    savingsplans_requests: int = 0

    def reservation_utilisation(self, start: date, end: date) -> list[dict[str, Any]]:
        """Per reservation (``GroupBy SUBSCRIPTION_ID``), one MONTHLY period."""
        params = {
            "TimePeriod": _period(start, end),
            "GroupBy": [{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}],
            "Granularity": "MONTHLY",
        }
        return self.ce.pages("get_reservation_utilization", params, cursor="NextPageToken")

    def reservation_coverage(self, start: date, end: date) -> list[dict[str, Any]]:
        params = {"TimePeriod": _period(start, end), "Granularity": "MONTHLY"}
        return self.ce.pages("get_reservation_coverage", params, cursor="NextPageToken")

    def savings_plans_utilisation(self, start: date, end: date) -> list[dict[str, Any]]:
        """Per plan (``GetSavingsPlansUtilizationDetails``)."""
        params = {"TimePeriod": _period(start, end)}
        return self.ce.pages("get_savings_plans_utilization_details", params, cursor="NextToken")

    def savings_plans_coverage(self, start: date, end: date) -> list[dict[str, Any]]:
        params = {"TimePeriod": _period(start, end), "Granularity": "MONTHLY"}
        return self.ce.pages("get_savings_plans_coverage", params, cursor="NextToken")

    def purchase_recommendation(self, plan_type: str) -> dict[str, Any] | None:
        """The account's recommendation summary for a plan type (1 year, no upfront, 60-day lookback), or None."""
        params = {
            "SavingsPlansType": plan_type,
            "TermInYears": "ONE_YEAR",
            "PaymentOption": "NO_UPFRONT",
            "LookbackPeriodInDays": "SIXTY_DAYS",
        }
        pages = self.ce.pages("get_savings_plans_purchase_recommendation", params, cursor="NextPageToken")
        for page in pages:
            summary = page.get("SavingsPlansPurchaseRecommendation", {}).get(
                "SavingsPlansPurchaseRecommendationSummary"
            )
            if summary:
                return dict(summary)
        return None

    def describe_savings_plans(self) -> list[dict[str, Any]]:
        """Active and queued plans (every page)."""
        pages = aws.token_pages(self._describe_savings_plans, {"states": ["active", "queued"]}, "nextToken")
        return [plan for page in pages for plan in page.get("savingsPlans", [])]

    def _describe_savings_plans(self, params: dict[str, Any]) -> dict[str, Any]:
        self.savingsplans_requests += 1
        page: dict[str, Any] = self.savingsplans.describe_savings_plans(**params)
        return page
