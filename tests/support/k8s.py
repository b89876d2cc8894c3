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


def group_series(
    key: str,
    costs: Sequence[float],
    *,
    start: date,
    cluster: str = "prod-gpu",
    team: str = "nlp",
    by: GroupBy = "namespace",
    gpu_share: float = 0.5,
    account: str = "111122223333",
) -> list[GroupDay]:
    """One group's days from ``start``: ``costs[i]`` on day i, of which ``gpu_share`` is the accelerator part."""
    return [
        GroupDay(
            date=day,
            account=account,
            cluster=cluster,
            by=by,
            key=key,
            team=team,
            cost_usd=cost,
            cpu_usd=cost * (1 - gpu_share) * 0.7,
            memory_usd=cost * (1 - gpu_share) * 0.3,
            gpu_usd=cost * gpu_share,
            unused_usd=0.0,
        )
        for day, cost in zip(days(start, len(costs)), costs, strict=True)
    ]


def node_series(
    node: str,
    day_list: Iterable[date],
    *,
    cost_usd: float,
    gpu_usd: float,
    gpu_unused_usd: float,
    cluster: str = "prod-gpu",
    team: str = "nlp",
    instance_type: str = "p4d.24xlarge",
    account: str = "111122223333",
) -> list[NodeDay]:
    """One node's days with the same daily figures."""
    return [
        NodeDay(
            date=day,
            account=account,
            cluster=cluster,
            node=node,
            instance_type=instance_type,
            team=team,
            cost_usd=cost_usd,
            unused_usd=gpu_unused_usd,
            gpu_usd=gpu_usd,
            gpu_unused_usd=gpu_unused_usd,
        )
        for day in day_list
    ]


def context_figures(alert: AlertEvent) -> tuple[str, str, str, str]:
    """The Kubernetes figures an anomaly alert carries: cluster, namespace, workload, GPU share."""
    figures = alert.details["figures"]
    return figures["Cluster"], figures["Namespace"], figures["Workload"], figures["GPU share"]
