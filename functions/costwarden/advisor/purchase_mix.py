"""Purchase mix per team: how much development, experiment and training compute ran on spot, and what the
on-demand part would have cost on spot.

The recovery found 120,000 USD of experiment training on on-demand GPUs that should have run on spot. Inputs are two
Cost Explorer answers over the same window and filter (the team's dev/experiment/training compute):

* grouped by team tag and ``PURCHASE_TYPE``: the spot share of the spend;
* grouped by team tag and ``USAGE_TYPE``, only ``On Demand Instances``: ``BoxUsage:<type>`` hours and cost per
  instance type (and SageMaker ``Train:ml.<type>`` usage), which spot could have run.

On-demand hours are priced on spot with the region's spot price history (median of the latest price per zone),
plus the fleet calculator's 10 % interruption allowance; where there is no history (SageMaker's ``ml.*`` types, or
an instance type the region does not sell as spot) a configured discount is used when there is one, otherwise the
figure is ``None`` with the reason.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from costwarden.advisor.spot_terms import ALLOWANCE, family_of
from costwarden.advisor.training import TeamTraining, TrainingJob, training_mix
from costwarden.core.owner import UNOWNED_TEAM

SPOT_PURCHASE = "Spot Instances"
ON_DEMAND_PURCHASE = "On Demand Instances"
#: Team name for spend and jobs without a team tag: the one owner label.
UNOWNED = UNOWNED_TEAM
_BOX = re.compile(r"(?:^|-)BoxUsage:(?P<type>[a-z0-9]+\.[a-z0-9]+)$")
_TRAIN = re.compile(r"(?:^|-)Train:(?P<type>ml\.[a-z0-9]+\.[a-z0-9]+)$")


def tag_value(key: str) -> str:
    """The value of a Cost Explorer tag group key (``team$vision`` → ``vision``; empty for untagged)."""
    return key.split("$", 1)[1] if "$" in key else key


def instance_type_of(usage_type: str) -> tuple[str, str] | None:
    """(kind, instance type) of a spot-eligible on-demand usage type: ``ec2`` for BoxUsage, ``sagemaker`` for
    training; None for anything else (storage, data transfer, spot usage itself)."""
    if match := _BOX.search(usage_type):
        return "ec2", match["type"]
    if match := _TRAIN.search(usage_type):
        return "sagemaker", match["type"]
    return None


def latest_spot_prices(history: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Instance type → median over zones of each zone's latest spot price (``DescribeSpotPriceHistory`` items)."""
    latest: dict[tuple[str, str], tuple[Any, float]] = {}
    for item in history:
        key = (str(item["InstanceType"]), str(item.get("AvailabilityZone", "")))
        when = item.get("Timestamp")
        price = float(Decimal(str(item["SpotPrice"])))
        if key not in latest or (when is not None and when > latest[key][0]):
            latest[key] = (when, price)
    by_type: dict[str, list[float]] = defaultdict(list)
    for (instance_type, _), (_, price) in latest.items():
        by_type[instance_type].append(price)
    return {t: statistics.median(prices) for t, prices in by_type.items()}


@dataclass
class SpotCandidate:
    team: str
    kind: str
    instance_type: str
    hours: float
    on_demand_usd: float
    spot_usd: float | None
    priced_by: str

    @property
    def savings_usd(self) -> float | None:
        """Never negative: spot that would cost more saves nothing (and is shown as not worth it)."""
        return None if self.spot_usd is None else max(self.on_demand_usd - self.spot_usd, 0.0)

    @property
    def worth_it(self) -> bool | None:
        """Spot costs less than on-demand; None when spot could not be priced."""
        return None if self.spot_usd is None else self.spot_usd < self.on_demand_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "kind": self.kind,
            "instance_type": self.instance_type,
            "instance_family": family_of(self.instance_type),
            "hours": round(self.hours, 1),
            "on_demand_usd": round(self.on_demand_usd, 2),
            "spot_usd": None if self.spot_usd is None else round(self.spot_usd, 2),
            "savings_usd": None if self.savings_usd is None else round(self.savings_usd, 2),
            "worth_it": self.worth_it,
            "extra_cost_usd": None if self.spot_usd is None else round(max(self.spot_usd - self.on_demand_usd, 0.0), 2),
            "priced_by": self.priced_by,
        }


@dataclass
class TeamMix:
    team: str
    by_purchase_type: dict[str, float] = field(default_factory=dict)
    candidates: list[SpotCandidate] = field(default_factory=list)
    #: SageMaker training jobs of the window (None: the jobs were not read).
    training: TeamTraining | None = None

    @property
    def total_usd(self) -> float:
        return sum(self.by_purchase_type.values())

    @property
    def spot_share(self) -> float | None:
        total = self.total_usd
        return None if total <= 0 else self.by_purchase_type.get(SPOT_PURCHASE, 0.0) / total

    @property
    def could_save_usd(self) -> float:
        jobs = 0.0 if self.training is None else self.training.could_save_usd
        return sum(c.savings_usd or 0.0 for c in self.candidates) + jobs

    def to_dict(self) -> dict[str, Any]:
        share = self.spot_share
        return {
            "team": self.team,
            "compute_usd": round(self.total_usd, 2),
            "by_purchase_type": {k: round(v, 2) for k, v in sorted(self.by_purchase_type.items())},
            "spot_share_pct": None if share is None else round(share * 100, 1),
            "could_save_usd": round(self.could_save_usd, 2),
            "on_demand_that_could_be_spot": [c.to_dict() for c in self.candidates],
            "training_jobs": None if self.training is None else self.training.to_dict(),
        }


def _amount(metrics: Mapping[str, Any], name: str) -> float:
    return float(metrics.get(name, {}).get("Amount", 0) or 0)


def _spot_cost(
    kind: str,
    instance_type: str,
    hours: float,
    cost: float,
    *,
    spot_prices: Mapping[str, float],
    spot_discount: float | None,
) -> tuple[float | None, str]:
    """What on-demand usage would have cost on spot, and how that was priced (measured, configured, or unknown)."""
    if kind == "ec2" and instance_type in spot_prices:
        price = spot_prices[instance_type]
        return hours * ALLOWANCE * price, f"spot history {price:.4f} USD/h + 10 % interruption allowance"
    if spot_discount is not None:
        return (
            cost * (1 - spot_discount) * ALLOWANCE,
            f"configured spot discount {spot_discount:.0%} + 10 % interruption allowance",
        )
    return None, "no spot price history for this type and no configured discount (advisor.spot_discount)"


def purchase_mix(
    by_purchase_pages: Iterable[Mapping[str, Any]],
    on_demand_usage_pages: Iterable[Mapping[str, Any]],
    *,
    metric: str,
    spot_prices: Mapping[str, float],
    spot_discount: float | None,
    unowned: str = UNOWNED,
) -> list[TeamMix]:
    """Teams' purchase mix and spot candidates, largest possible saving first."""
    teams: dict[str, TeamMix] = {}

    def team(raw: str) -> TeamMix:
        name = tag_value(raw) or unowned
        return teams.setdefault(name, TeamMix(name))

    for page in by_purchase_pages:
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                team_key, purchase = group["Keys"]
                mix = team(team_key)
                amount = _amount(group.get("Metrics", {}), metric)
                mix.by_purchase_type[purchase] = mix.by_purchase_type.get(purchase, 0.0) + amount
    usage: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for page in on_demand_usage_pages:
        for period in page.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                team_key, usage_type = group["Keys"]
                kind_type = instance_type_of(usage_type)
                if kind_type is None:
                    continue
                metrics = group.get("Metrics", {})
                cell = usage[(tag_value(team_key) or unowned, *kind_type)]
                cell[0] += _amount(metrics, "UsageQuantity")
                cell[1] += _amount(metrics, metric)
    for (team_name, kind, instance_type), (hours, cost) in sorted(usage.items()):
        if cost <= 0:
            continue
        spot, priced_by = _spot_cost(
            kind, instance_type, hours, cost, spot_prices=spot_prices, spot_discount=spot_discount
        )
        teams.setdefault(team_name, TeamMix(team_name)).candidates.append(
            SpotCandidate(team_name, kind, instance_type, hours, cost, spot, priced_by)
        )
    for mix in teams.values():
        mix.candidates.sort(key=lambda c: -(c.savings_usd or 0.0))
    return sorted(teams.values(), key=lambda m: (-m.could_save_usd, m.team))


def with_training(
    teams: list[TeamMix],
    jobs: Iterable[TrainingJob],
    *,
    spot_discount: float | None,
    since: datetime,
) -> list[TeamMix]:
    """The purchase mix with each team's training jobs attached.

    Jobs are rated with the team's Cost Explorer ``Train:<type>`` on-demand rate; where jobs of a (team, type) were
    read, they replace Cost Explorer's aggregate candidate for it (that aggregate cannot tell checkpointed jobs from
    the rest, and counting both would count the saving twice).
    """
    by_team = {t.team: t for t in teams}
    rates = {
        (t.team, c.instance_type): c.on_demand_usd / c.hours
        for t in teams
        for c in t.candidates
        if c.kind == "sagemaker" and c.hours > 0
    }
    training = training_mix(jobs, rates=rates, spot_discount=spot_discount, since=since)
    for name, team_training in training.items():
        mix = by_team.setdefault(name, TeamMix(name))
        seen = team_training.instance_types
        mix.candidates = [c for c in mix.candidates if not (c.kind == "sagemaker" and c.instance_type in seen)]
        mix.training = team_training
    for mix in by_team.values():
        if mix.training is None:
            mix.training = TeamTraining(mix.team)
    return sorted(by_team.values(), key=lambda m: (-m.could_save_usd, m.team))
