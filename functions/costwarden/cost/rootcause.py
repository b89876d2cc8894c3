"""Root cause: what drove a team's jump, from one extra Cost Explorer request per cause dimension.

The dimensions are Cost Explorer's own (``CAUSE_DIMENSIONS``: SERVICE, USAGE_TYPE, REGION, LINKED_ACCOUNT), the
four AWS Cost Anomaly Detection names its root causes by. Each is one grouped ``GetCostAndUsage`` request over the
anomalous day and the week before it, filtered to the team. For the day, each value's cost is compared with its
median over the earlier days of the same response; the largest increases are the drivers, phrased for Slack as
``+$3,180 in Amazon SageMaker`` (money through ``core.money``).

The drivers of one dimension can add up to more than the alert's extra spend. Two reasons, both said in the alert
(``overlap_note``): other values of the dimension fell that day (offsets: spend moved, the drivers list only the
rises), and the drivers' usual is the last week's median while the alert's baseline is its own rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from costwarden.core.money import usd
from costwarden.core.owner import person_of
from costwarden.cost import launched
from costwarden.cost.launched import TeamResource
from costwarden.models.ports import Clients, error_text
from costwarden.resources import type_for_arn
from costwarden.resources.base import tags_dict
from costwarden.settings import TagPolicy

ROOT_CAUSE_LOOKBACK_DAYS = 7
MAX_DRIVERS = 3
#: Cost Explorer's cause dimensions, in the order an alert lists them, with the words it uses for each.
CAUSE_DIMENSIONS: dict[str, str] = {
    "SERVICE": "service",
    "USAGE_TYPE": "usage type",
    "REGION": "region",
    "LINKED_ACCOUNT": "account",
}
#: A driver sum within this of the extra spend is "the same amount" (rounding of two medians).
OVERLAP_TOLERANCE_USD = 1.0


@dataclass(frozen=True)
class Driver:
    service: str
    """The dimension's value (a service name for SERVICE, the field's first use; a usage type, region or account)."""
    cost_usd: float
    usual_usd: float
    dimension: str = "SERVICE"

    @property
    def value(self) -> str:
        return self.service

    @property
    def delta_usd(self) -> float:
        return self.cost_usd - self.usual_usd

    def line(self) -> str:
        sign = "+" if self.delta_usd >= 0 else "-"
        return f"{sign}{usd(abs(self.delta_usd))} in {self.service}"


@dataclass(frozen=True)
class Causes:
    """One dimension's answer: its drivers (largest rises) and what the values that fell took off the day."""

    dimension: str
    drivers: list[Driver] = field(default_factory=list)
    fallen_usd: float = 0.0
    """The sum of the decreases (a positive number) of the values that fell below their usual."""
    error: str | None = None
    """Why the dimension could not be read (the alert says so instead of listing nothing)."""

    @property
    def rise_usd(self) -> float:
        return sum(d.delta_usd for d in self.drivers)


def _by_value(
    pages: Iterable[Mapping[str, Any]], day: str, metric: str
) -> tuple[dict[str, dict[str, float]], set[str]]:
    """Each value's cost per day of the response, and the days before ``day`` it holds."""
    by_value: dict[str, dict[str, float]] = {}
    earlier_days: set[str] = set()
    for page in pages:
        for result in page.get("ResultsByTime", []):
            start = result["TimePeriod"]["Start"]
            if start < day:
                earlier_days.add(start)
            for group in result.get("Groups", []):
                value = (group.get("Keys") or ["(unknown)"])[0] or "(unknown)"
                amount = float(group.get("Metrics", {}).get(metric, {}).get("Amount", "0"))
                by_value.setdefault(value, {})[start] = by_value.get(value, {}).get(start, 0.0) + amount
    return by_value, earlier_days


def changes(pages: Iterable[Mapping[str, Any]], day: str, metric: str, *, dimension: str = "SERVICE") -> list[Driver]:
    """Every value's cost on ``day`` against its usual (median of the earlier days returned), rises and falls."""
    by_value, earlier_days = _by_value(pages, day, metric)
    found = []
    for value, costs in by_value.items():
        before = [costs.get(d, 0.0) for d in sorted(earlier_days)]
        usual = median(before) if before else 0.0
        found.append(Driver(value, round(costs.get(day, 0.0), 2), round(usual, 2), dimension))
    return found


def drivers(
    pages: Iterable[Mapping[str, Any]],
    day: str,
    metric: str,
    *,
    limit: int = MAX_DRIVERS,
    min_delta: float = 1.0,
    dimension: str = "SERVICE",
) -> list[Driver]:
    """The values whose cost on ``day`` rose most above their usual (median of the earlier days returned)."""
    found = [d for d in changes(pages, day, metric, dimension=dimension) if d.delta_usd >= min_delta]
    found.sort(key=lambda d: d.delta_usd, reverse=True)
    return found[:limit]


def causes(
    pages: Iterable[Mapping[str, Any]], day: str, metric: str, *, dimension: str, limit: int = MAX_DRIVERS
) -> Causes:
    """One dimension's drivers and offsets, from one response."""
    every = changes(list(pages), day, metric, dimension=dimension)
    rising = sorted((d for d in every if d.delta_usd >= 1.0), key=lambda d: d.delta_usd, reverse=True)
    fallen = -sum(d.delta_usd for d in every if d.delta_usd < 0)
    return Causes(dimension, rising[:limit], round(fallen, 2))


def overlap_note(service: Causes, extra_usd: float, rule: str) -> str | None:
    """Why the services listed add up to more than the alert's extra spend, or None when they do not."""
    listed = service.rise_usd
    if listed <= extra_usd + OVERLAP_TOLERANCE_USD:
        return None
    opening = f"The services listed add up to +{usd(listed)}, more than the +{usd(extra_usd)} extra: "
    if service.fallen_usd >= OVERLAP_TOLERANCE_USD:
        return opening + (
            f"other services fell by {usd(service.fallen_usd)} the same day (offsets), and each service is compared "
            f"with its own last-week median while the alert's usual is {rule}."
        )
    return opening + f"each service is compared with its own last-week median, while the alert's usual is {rule}."


def top_values(found: Sequence[Causes], dimension: str, limit: int = 2) -> list[str]:
    """The leading driver values of ``dimension`` (the regions to look for resources in, the service to link to)."""
    return [d.value for c in found if c.dimension == dimension for d in c.drivers[:limit]]


#: Cost Explorer's SERVICE names -> the tagging API's resource types that bill under them (``ResourceTypeFilters``).
#: Transform jobs bill under SageMaker too; the registry does not read them, so they are named "launch time not known".
SERVICE_TAGGING_TYPES: dict[str, tuple[str, ...]] = {
    "Amazon Elastic Compute Cloud - Compute": ("ec2:instance",),
    "EC2 - Other": ("ec2:volume",),
    "Amazon SageMaker": (
        "sagemaker:endpoint",
        "sagemaker:notebook-instance",
        "sagemaker:training-job",
        "sagemaker:processing-job",
        "sagemaker:transform-job",
    ),
    "Amazon Elastic MapReduce": ("elasticmapreduce:cluster",),
}
#: The registry types an anomaly alert reads launch times of (the cost monitor's read-only IAM, ``infra``).
LAUNCH_READ_TYPES: tuple[str, ...] = tuple(
    launched.read_types(t for types in SERVICE_TAGGING_TYPES.values() for t in types)
)
MAX_RESOURCES = 5
TAGGING_PAGE_SIZE = 100


@dataclass(frozen=True)
class Named:
    """What the tagging API named: the first resources, how many in all, and what could not be read; with
    ``launches`` when the episode's start was given (which of them were launched since, from the registry)."""

    resources: tuple[TeamResource, ...] = ()
    total: int = 0
    error: str | None = None
    launches: launched.Launches | None = None


def team_resources(
    clients: Clients,
    regions: Sequence[str],
    *,
    team_key: str,
    team: str,
    services: Sequence[str],
    limit: int = MAX_RESOURCES,
    since: str | None = None,
    policy: TagPolicy | None = None,
    read_limit: int = launched.MAX_READ,
) -> Named:
    """The team's resources of ``services`` in ``regions``: one paged tagging-API listing per region, filtered by
    the team tag and the services' resource types (requests grow with pages, never with resources). A region that
    cannot be read is named, the others are listed. The owner is the kernel's person of the resource
    (``core.owner.person_of``: the ``policy.owner_keys`` tags, a Slack id or an e-mail, else nobody).

    ``since`` (the episode's first day): the launch times are read from the registry, once for this alert
    (``cost.launched.launches``: batched per type and region, at most ``read_limit`` ARNs)."""
    types = sorted({t for service in services for t in SERVICE_TAGGING_TYPES.get(service, ())})
    if not types:
        return Named()
    owners = policy or TagPolicy()
    found: list[TeamResource] = []
    errors: list[str] = []
    for region in regions:
        try:
            pages = (
                clients("resourcegroupstaggingapi", region)
                .get_paginator("get_resources")
                .paginate(
                    TagFilters=[{"Key": team_key, "Values": [team]}],
                    ResourceTypeFilters=types,
                    ResourcesPerPage=TAGGING_PAGE_SIZE,
                )
            )
            for page in pages:
                for mapping in page.get("ResourceTagMappingList", []):
                    arn = str(mapping["ResourceARN"])
                    owner = person_of(tags_dict(mapping.get("Tags")), owners) or ""
                    found.append(TeamResource(arn.rsplit("/", 1)[-1], type_for_arn(arn), region, owner, arn=arn))
        except Exception as error:  # named in the alert; the other regions are still listed
            errors.append(f"{region}: {error_text(error)}")
    found.sort(key=lambda r: (r.region, r.type, r.id))
    read = launched.launches(clients, found, since, limit=read_limit) if since is not None and found else None
    return Named(tuple(found[:limit]), len(found), "; ".join(errors) or None, read)
