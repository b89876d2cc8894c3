"""An in-memory ``K8sSource`` (the port the cost monitor and the idle finder read EKS split cost facts through) and
builders of the facts: tests construct ``GroupDay`` / ``NodeDay`` values directly, never a CUR file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from costwarden.demo.k8s import FactsSource
from costwarden.models.alert import AlertEvent
from costwarden.models.k8s import GroupBy, GroupDay, NodeDay

#: The in-memory ``K8sSource``: the demo's EKS chapter uses the same one (one copy).
MemoryK8sSource = FactsSource


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


#: Where a test's facts are, unless it says otherwise (``cluster=``, ``team=``, ``account=``).
WHERE = {"account": "111122223333", "cluster": "prod-gpu", "team": "nlp"}


def group_series(
    key: str, costs: Sequence[float], *, start: date, by: GroupBy = "namespace", gpu_share: float = 0.5, **where: str
) -> list[GroupDay]:
    """One group's days from ``start``: ``costs[i]`` on day i, of which ``gpu_share`` is the accelerator part."""
    w = {**WHERE, **where}
    rest = 1 - gpu_share
    return [
        GroupDay(
            day, w["account"], w["cluster"], by, key, w["team"], c, c * rest * 0.7, c * rest * 0.3, c * gpu_share, 0.0
        )
        for day, c in zip(days(start, len(costs)), costs, strict=True)
    ]


def node_series(
    node: str, day_list: Iterable[date], *, cost_usd: float, gpu_usd: float, gpu_unused_usd: float, **where: str
) -> list[NodeDay]:
    """One node's days with the same daily figures (``instance_type=`` a p4d.24xlarge unless said)."""
    w = {**WHERE, "instance_type": "p4d.24xlarge", **where}
    figures = (cost_usd, gpu_unused_usd, gpu_usd, gpu_unused_usd)
    return [NodeDay(day, w["account"], w["cluster"], node, w["instance_type"], w["team"], *figures) for day in day_list]


def context_figures(alert: AlertEvent) -> tuple[str, str, str, str]:
    """The Kubernetes figures an anomaly alert carries: cluster, namespace, workload, GPU share."""
    figures = alert.details["figures"]
    return figures["Cluster"], figures["Namespace"], figures["Workload"], figures["GPU share"]
