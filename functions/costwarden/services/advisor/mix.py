"""Purchase mix run: two Cost Explorer requests (pages aside) for every team at once, and one spot price history
request per hundred instance types; with a ``TrainingJobs`` reader, one SageMaker ``Search`` request per hundred
training jobs of the window (managed-spot flag, checkpoint config, tags), see ``costwarden.advisor.training``.

The on-demand usage of any region is priced with the advisor region's spot history (a usage type's region prefix
is not mapped to a region): a team training in another region sees that region's saving approximated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from costwarden.adapters.cost_explorer import CostExplorer, combine, record_type_filter
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.sagemaker_training import TrainingJobs
from costwarden.advisor.purchase_mix import (
    ON_DEMAND_PURCHASE,
    UNOWNED,
    TeamMix,
    latest_spot_prices,
    purchase_mix,
    with_training,
)
from costwarden.advisor.training import parse_job
from costwarden.settings import Settings

#: Cost Explorer SERVICE values of the compute that spot can run.
COMPUTE_SERVICES = ("Amazon Elastic Compute Cloud - Compute", "Amazon SageMaker")


def mix_filter(settings: Settings) -> dict[str, Any]:
    """Dev/experiment/training compute: any configured tag value, on the compute services."""
    tags = {settings.tags.environment_key: settings.advisor.mix_environments, **settings.advisor.mix_tag_values}
    ors = [{"Tags": {"Key": k, "Values": list(v), "MatchOptions": ["EQUALS"]}} for k, v in tags.items() if v]
    which = ors[0] if len(ors) == 1 else {"Or": ors}
    service = {"Dimensions": {"Key": "SERVICE", "Values": list(COMPUTE_SERVICES)}}
    out = combine(which, service, record_type_filter(settings.anomaly.excluded_record_types))
    assert out is not None
    return out


@dataclass
class MixRun:
    teams: list[TeamMix] = field(default_factory=list)
    ce_requests: int = 0
    ec2_requests: int = 0
    sagemaker_requests: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "teams": [t.to_dict() for t in self.teams],
            "ce_requests": self.ce_requests,
            "ec2_requests": self.ec2_requests,
            "sagemaker_requests": self.sagemaker_requests,
            "errors": self.errors,
        }


def run_mix(
    settings: Settings,
    ce: CostExplorer,
    spot: SpotPrices,
    *,
    today: date,
    now: datetime,
    training: TrainingJobs | None = None,
) -> MixRun:
    """The purchase mix; with ``training``, SageMaker training jobs of the window are read and named too."""
    run = MixRun()
    before = ce.requests
    start = today - timedelta(days=settings.advisor.mix_days)
    metric = settings.anomaly.cost_metric
    team_group = {"Type": "TAG", "Key": settings.tags.team_key}
    base = mix_filter(settings)
    try:
        by_purchase = ce.get_cost_and_usage(
            start,
            today,
            metric=metric,
            granularity="MONTHLY",
            group_by=[team_group, {"Type": "DIMENSION", "Key": "PURCHASE_TYPE"}],
            filter_=base,
        )
        on_demand_only = {"Dimensions": {"Key": "PURCHASE_TYPE", "Values": [ON_DEMAND_PURCHASE]}}
        usage = ce.get_cost_and_usage(
            start,
            today,
            metric=metric,
            extra_metrics=("UsageQuantity",),
            granularity="MONTHLY",
            group_by=[team_group, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            filter_=combine(base, on_demand_only),
        )
    except Exception as error:  # reported; the rest of the advisor still runs
        run.errors.append(f"purchase mix: {type(error).__name__}: {error}")
        run.ce_requests = ce.requests - before
        return run
    first = purchase_mix(by_purchase, usage, metric=metric, spot_prices={}, spot_discount=None)
    ec2_types = sorted({c.instance_type for t in first for c in t.candidates if c.kind == "ec2"})
    prices: dict[str, float] = {}
    if ec2_types:
        try:
            prices = latest_spot_prices(spot.history(ec2_types, now))
        except Exception as error:  # priced by the configured discount, or null
            run.errors.append(f"spot price history: {type(error).__name__}: {error}")
    run.teams = purchase_mix(
        by_purchase, usage, metric=metric, spot_prices=prices, spot_discount=settings.advisor.spot_discount
    )
    if training is not None:
        since = datetime.combine(start, datetime.min.time(), tzinfo=now.tzinfo)
        try:
            raw, cut = training.since(since)
        except Exception as error:  # reported; the Cost Explorer mix stands without the jobs
            run.errors.append(f"training jobs: {type(error).__name__}: {error}")
        else:
            if cut:
                run.errors.append(
                    f"training jobs: stopped after {training.max_pages} pages of Search results; older jobs not read"
                )
            jobs = [j for item in raw if (j := parse_job(item, team_key=settings.tags.team_key, unowned=UNOWNED))]
            run.teams = with_training(run.teams, jobs, spot_discount=settings.advisor.spot_discount, since=since)
        run.sagemaker_requests = training.requests
    run.ce_requests = ce.requests - before
    run.ec2_requests = spot.requests
    return run
