"""Root cause: which services drove a team's jump, from one extra Cost Explorer request grouped by SERVICE.

For the anomalous day, each service's cost is compared with its median over the days before it in the same
response (the request asks for the week before the day as well); the largest increases are the drivers, phrased
for Slack as ``+3,180 USD in Amazon SageMaker``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

ROOT_CAUSE_LOOKBACK_DAYS = 7
MAX_DRIVERS = 3


@dataclass(frozen=True)
class Driver:
    service: str
    cost_usd: float
    usual_usd: float

    @property
    def delta_usd(self) -> float:
        return self.cost_usd - self.usual_usd

    def line(self) -> str:
        sign = "+" if self.delta_usd >= 0 else "-"
        return f"{sign}{abs(self.delta_usd):,.0f} USD in {self.service}"


def drivers(
    pages: Iterable[Mapping[str, Any]], day: str, metric: str, *, limit: int = MAX_DRIVERS, min_delta: float = 1.0
) -> list[Driver]:
    """The services whose cost on ``day`` rose most above their usual (median of the earlier days returned)."""
    by_service: dict[str, dict[str, float]] = {}
    earlier_days: set[str] = set()
    for page in pages:
        for result in page.get("ResultsByTime", []):
            start = result["TimePeriod"]["Start"]
            if start < day:
                earlier_days.add(start)
            for group in result.get("Groups", []):
                service = (group.get("Keys") or ["(unknown)"])[0] or "(unknown)"
                amount = float(group.get("Metrics", {}).get(metric, {}).get("Amount", "0"))
                by_service.setdefault(service, {})[start] = by_service.get(service, {}).get(start, 0.0) + amount
    found: list[Driver] = []
    for service, costs in by_service.items():
        today = costs.get(day, 0.0)
        before = [costs.get(d, 0.0) for d in sorted(earlier_days)]
        usual = median(before) if before else 0.0
        if today - usual >= min_delta:
            found.append(Driver(service, round(today, 2), round(usual, 2)))
    found.sort(key=lambda d: d.delta_usd, reverse=True)
    return found[:limit]
