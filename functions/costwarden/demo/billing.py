"""A simulated billing account for the advisor's demo chapter and benchmark: Cost Explorer, Savings Plans and EC2
spot price answers computed from line items, in the real response shapes.

moto implements none of the commitment APIs, answers Cost Explorer only with results injected in advance, and
``DescribeSpotPriceHistory`` only with placeholder prices. So, like the tag chapter's ``ListCostAllocationTags``, the
demo's own clients get a ``before-call`` hook (``install``) that answers these from the simulated account; every other
call goes to the moto server. Daily Cost Explorer answers are paged by ``page_days`` days (the real page size is not
documented). Never used by a deployed function: ``install`` is only called on clients the demo or bench made.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from botocore.awsrequest import AWSResponse

COLUMNS = {"PURCHASE_TYPE": "purchase_type", "USAGE_TYPE": "usage_type", "SERVICE": "service"}
ITEM_COLUMNS = (
    "date",
    "team",
    "lifecycle_phase",
    "model_id",
    "project",
    "environment",
    "purchase_type",
    "usage_type",
    "service",
    "cost",
    "hours",
)


def commitments(today: date, account: str = "123456789012") -> dict[str, dict[str, Any]]:
    """Last month's commitments of the simulated account: a g4dn reservation used 62.5 % that ends in 45 days, and
    a SageMaker Savings Plan used 98 % that ends in 8 months."""
    end = today.replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    period = {"Start": start.isoformat(), "End": end.isoformat()}
    ri_end = (today + timedelta(days=45)).isoformat() + "T00:00:00.000Z"
    sp_end = (today + timedelta(days=240)).isoformat() + "T00:00:00.000Z"
    ri_id = "4e3f5a10-0000-4d1e-9a11-7c1b2d3e4f50"
    plan_id = "1f2e3d4c-5b6a-4789-8abc-def012345678"
    plan_arn = f"arn:aws:savingsplans::{account}:savingsplan/{plan_id}"
    utilisation = {
        "UtilizationPercentage": "62.5",
        "PurchasedHours": "2880",
        "TotalActualHours": "1800",
        "UnusedHours": "1080",
        "RICostForUnusedHours": "2538",
        "TotalAmortizedFee": "6768",
    }
    return {
        "GetReservationUtilization": {
            "UtilizationsByTime": [
                {
                    "TimePeriod": period,
                    "Groups": [
                        {
                            "Key": "SUBSCRIPTION_ID",
                            "Value": ri_id,
                            "Attributes": {
                                "endDateTime": ri_end,
                                "instanceType": "g4dn.12xlarge",
                                "numberOfInstances": "4",
                                "region": "us-east-1",
                                "subscriptionId": ri_id,
                                "subscriptionType": "No Upfront",
                            },
                            "Utilization": utilisation,
                        }
                    ],
                    "Total": utilisation,
                }
            ],
            "Total": utilisation,
        },
        "GetReservationCoverage": {
            "CoveragesByTime": [
                {
                    "TimePeriod": period,
                    "Groups": [],
                    "Total": {
                        "CoverageHours": {
                            "OnDemandHours": "3120",
                            "ReservedHours": "1800",
                            "TotalRunningHours": "4920",
                            "CoverageHoursPercentage": "36.6",
                        }
                    },
                }
            ]
        },
        "GetSavingsPlansUtilizationDetails": {
            "SavingsPlansUtilizationDetails": [
                {
                    "SavingsPlanArn": plan_arn,
                    "Attributes": {},
                    "Utilization": {
                        "TotalCommitment": "7200",
                        "UsedCommitment": "7056",
                        "UnusedCommitment": "144",
                        "UtilizationPercentage": "98",
                    },
                }
            ],
            "TimePeriod": period,
        },
        "GetSavingsPlansCoverage": {
            "SavingsPlansCoverages": [
                {
                    "Attributes": {},
                    "TimePeriod": period,
                    "Coverage": {
                        "SpendCoveredBySavingsPlans": "9456",
                        "OnDemandCost": "14184",
                        "TotalCost": "23640",
                        "CoveragePercentage": "40",
                    },
                }
            ]
        },
        "DescribeSavingsPlans": {
            "savingsPlans": [
                {
                    "savingsPlanId": plan_id,
                    "savingsPlanArn": plan_arn,
                    "start": "2026-08-01T00:00:00.000Z",
                    "end": sp_end,
                    "state": "active",
                    "savingsPlanType": "SageMaker",
                    "paymentOption": "No Upfront",
                    "currency": "USD",
                    "commitment": "10.0",
                    "termDurationInSeconds": 31536000,
                }
            ]
        },
        "GetSavingsPlansPurchaseRecommendation": {
            "SavingsPlansPurchaseRecommendation": {
                "SavingsPlansType": "SAGEMAKER_SP",
                "TermInYears": "ONE_YEAR",
                "PaymentOption": "NO_UPFRONT",
                "LookbackPeriodInDays": "SIXTY_DAYS",
                "SavingsPlansPurchaseRecommendationSummary": {
                    "HourlyCommitmentToPurchase": "8.4",
                    "EstimatedSavingsPercentage": "31.26",
                    "EstimatedMonthlySavingsAmount": "2788",
                    "CurrencyCode": "USD",
                },
            }
        },
    }


def spot_history(now: datetime) -> dict[str, Any]:
    """The region's latest spot prices per zone for the GPU and CPU types the simulated teams run."""
    prices = {
        "p3.8xlarge": ("3.60", "3.70", "3.75"),
        "g5.2xlarge": ("0.48", "0.51", "0.55"),
        "m5.4xlarge": ("0.27", "0.29", "0.31"),
    }
    return {
        "SpotPriceHistory": [
            {
                "AvailabilityZone": f"us-east-1{zone}",
                "InstanceType": t,
                "ProductDescription": "Linux/UNIX",
                "SpotPrice": p,
                "Timestamp": now - timedelta(hours=3),
            }
            for t, zone_prices in prices.items()
            for zone, p in zip("abc", zone_prices, strict=True)
        ],
        "NextToken": "",
    }


def line_items(teams: list[str], *, start: date, end: date, seed: int = 11) -> pd.DataFrame:
    """Per team and day: inference (production, on demand), training (spot or on-demand GPUs), development (CPU).

    The benchmark's many-team bill (the demo's own is ``demo.bill``); every tag value an allowed one.
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end - timedelta(days=1)).strftime("%Y-%m-%d")
    rows = []
    for team in teams:
        base = float(rng.uniform(50, 2000))
        combos = [
            ("inference", f"{team}-model-a", f"{team}-serving", "On Demand Instances", "USE1-BoxUsage:g5.2xlarge", 0.6),
            ("training", f"{team}-model-a", f"{team}-research", "On Demand Instances", "USE1-BoxUsage:p3.8xlarge", 0.2),
            ("training", f"{team}-model-b", f"{team}-research", "Spot Instances", "USE1-SpotUsage:p3.8xlarge", 0.15),
            (
                "development",
                f"{team}-model-b",
                f"{team}-research",
                "On Demand Instances",
                "USE1-BoxUsage:m5.4xlarge",
                0.05,
            ),
        ]
        for phase, model, project, purchase, usage, share in combos:
            cost = base * share * rng.uniform(0.9, 1.1, len(days))
            rows.append(
                pd.DataFrame(
                    {
                        "date": days,
                        "team": team,
                        "lifecycle_phase": phase,
                        "model_id": model,
                        "project": project,
                        "environment": "production" if phase == "inference" else "experiment",
                        "purchase_type": purchase,
                        "usage_type": usage,
                        "service": "Amazon Elastic Compute Cloud - Compute",
                        "cost": cost,
                        "hours": cost / 12.24,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


class SimulatedBilling:
    """Cost Explorer / Savings Plans / EC2 spot history answers computed from line items, in the real shapes."""

    def __init__(self, items: pd.DataFrame, *, today: date, now: datetime, page_days: int = 10) -> None:
        self.items = items
        self.today = today
        self.now = now
        self.page_days = page_days
        self.canned = commitments(today)
        self.calls: Counter[str] = Counter()

    def install(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build", self._remember)
        client.meta.events.register("before-call", self._answer)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context["api_params"]
        self.calls[model.name] += 1
        if model.name == "GetCostAndUsage":
            body = self._cost_and_usage(params)
        elif model.name == "DescribeSpotPriceHistory":
            body = spot_history(self.now)
        else:
            body = self.canned[model.name]
        return AWSResponse("simulated://billing", 200, {}, None), body  # type: ignore[arg-type]

    def _mask(self, flt: dict[str, Any] | None) -> Any:  # noqa: PLR0911 - one return per filter operator
        frame = self.items
        if not flt:
            return np.ones(len(frame), dtype=bool)
        if "And" in flt:
            return np.logical_and.reduce([self._mask(f) for f in flt["And"]])
        if "Or" in flt:
            return np.logical_or.reduce([self._mask(f) for f in flt["Or"]])
        if "Not" in flt:
            return ~self._mask(flt["Not"])
        if "Dimensions" in flt:
            key = flt["Dimensions"]["Key"]
            if key == "RECORD_TYPE":
                return np.isin(np.array(["Usage"] * len(frame)), flt["Dimensions"]["Values"])
            return frame[COLUMNS[key]].isin(flt["Dimensions"]["Values"]).to_numpy()
        tag = flt["Tags"]
        return frame[tag["Key"]].isin(tag["Values"]).to_numpy()

    def _cost_and_usage(self, params: dict[str, Any]) -> dict[str, Any]:
        start, end = params["TimePeriod"]["Start"], params["TimePeriod"]["End"]
        frame = self.items.loc[self._mask(params.get("Filter"))]
        frame = frame.loc[(frame["date"] >= start) & (frame["date"] < end)]
        columns = [COLUMNS.get(g["Key"], g["Key"]) for g in params["GroupBy"]]
        daily = params["Granularity"] == "DAILY"
        period = frame["date"] if daily else frame["date"].str.slice(0, 7)
        all_periods = (
            list(pd.date_range(start, end, inclusive="left").strftime("%Y-%m-%d"))
            if daily
            else sorted({d[:7] for d in pd.date_range(start, end, inclusive="left").strftime("%Y-%m-%d")})
        )
        offset = int(params.get("NextPageToken", "0"))
        size = self.page_days if daily else len(all_periods)
        wanted = all_periods[offset : offset + size]
        sums = frame.assign(period=period).groupby(["period", *columns])[["cost", "hours"]].sum()
        results = []
        for p in wanted:
            groups = []
            if p in sums.index.get_level_values(0):
                for keys, row in sums.loc[p].iterrows():
                    values = keys if isinstance(keys, tuple) else (keys,)
                    metrics = {params["Metrics"][0]: {"Amount": f"{row['cost']:.4f}", "Unit": "USD"}}
                    if "UsageQuantity" in params["Metrics"]:
                        metrics["UsageQuantity"] = {"Amount": f"{row['hours']:.2f}", "Unit": "Hrs"}
                    groups.append(
                        {
                            "Keys": [
                                f"{g['Key']}${v}" if g["Type"] == "TAG" else str(v)
                                for g, v in zip(params["GroupBy"], values, strict=True)
                            ],
                            "Metrics": metrics,
                        }
                    )
            first = p if daily else f"{p}-01"
            last = (
                (date.fromisoformat(p) + timedelta(days=1)).isoformat()
                if daily
                else (date.fromisoformat(first) + timedelta(days=32)).replace(day=1).isoformat()
            )
            results.append(
                {
                    "TimePeriod": {"Start": first, "End": min(last, end)},
                    "Total": {},
                    "Groups": groups,
                    "Estimated": daily and p >= (self.today - timedelta(days=2)).isoformat(),
                }
            )
        page: dict[str, Any] = {
            "GroupDefinitions": params["GroupBy"],
            "ResultsByTime": results,
            "DimensionValueAttributes": [],
        }
        if offset + size < len(all_periods):
            page["NextPageToken"] = str(offset + size)
        return page
