"""The Kubernetes section of the daily digest and the monthly report: one month of EKS split cost facts per
namespace, workload and team, and the unused GPU cost per node pool.

Built here, in the models layer, from ``models.k8s`` facts only, because two capabilities show it: the cost monitor's
digest (``cost.k8s_series`` → ``digest.compose``) and the monthly report (``advisor.k8s_report``), and neither may
import the other. Month to date is the ledger's rule (``cost.ledger.month_to_date``: the sum from the 1st through
the day asked; ``tests/unit/cost/test_k8s_digest.py`` holds the two to the cent). A node pool is what the bill
names of it: the cluster, the instance type and the node group's team (split cost data carries no node group name).
Pure Python, no pandas: the light bundle may load it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from costwarden.models.k8s import GroupDay, NodeDay

#: Rows kept per table (largest first); the digest and the report show fewer and count the rest.
MAX_ROWS = 25


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class K8sRow(_Model):
    """One row of a Kubernetes table: month to date, its accelerator part and its unused part."""

    cluster: str
    #: The namespace, ``<namespace>/<workload>``, the team, or the node pool's instance type.
    name: str
    team: str
    month_to_date_usd: float
    gpu_usd: float
    #: Groups: the nodes' unused cost charged to the row by the policy. Node pools: the GPU cost no pod used.
    unused_usd: float


class K8sSection(_Model):
    """One month of EKS cost, as of ``last_day``: the tables the digest and the report render."""

    month: str
    last_day: dt.date
    namespaces: tuple[K8sRow, ...] = ()
    workloads: tuple[K8sRow, ...] = ()
    teams: tuple[K8sRow, ...] = ()
    gpu_pools: tuple[K8sRow, ...] = ()
    #: Rows per table before the ``MAX_ROWS`` cap: namespaces, workloads, teams, pools.
    totals: dict[str, int] = Field(default_factory=dict)

    def for_team(self, team: str) -> K8sSection:
        """The rows of one team (a per-team digest)."""
        return self.model_copy(
            update={
                name: tuple(r for r in getattr(self, name) if r.team == team)
                for name in ("namespaces", "workloads", "teams", "gpu_pools")
            }
        )

    @property
    def empty(self) -> bool:
        return not (self.namespaces or self.workloads or self.gpu_pools)


def in_month[Fact: (GroupDay, NodeDay)](facts: Iterable[Fact], last_day: dt.date) -> list[Fact]:
    """The facts from the 1st of ``last_day``'s month through ``last_day`` (the ledger's month to date)."""
    first = last_day.replace(day=1)
    return [f for f in facts if first <= f.date <= last_day]


def _rows[Fact: (GroupDay, NodeDay)](
    facts: Sequence[Fact], key: Callable[[Fact], tuple[str, str, str]], parts: Callable[[Fact], tuple[float, ...]]
) -> list[K8sRow]:
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for fact in facts:
        total = sums[key(fact)]
        for index, amount in enumerate(parts(fact)):
            total[index] += amount
    rows = [
        K8sRow(cluster=c, name=n, team=t, month_to_date_usd=round(a, 2), gpu_usd=round(g, 2), unused_usd=round(u, 2))
        for (c, n, t), (a, g, u) in sums.items()
    ]
    return sorted(rows, key=lambda r: (-r.month_to_date_usd, r.cluster, r.name))


def section(
    groups: Iterable[GroupDay], workloads: Iterable[GroupDay], nodes: Iterable[NodeDay], last_day: dt.date
) -> K8sSection:
    """The month of ``last_day`` from namespace groups, workload groups and node days (any dates: the month's are
    kept). Teams are summed from the namespaces (each namespace's team), pools from the GPU nodes."""
    ns = in_month((g for g in groups if g.by == "namespace"), last_day)
    wl = in_month((g for g in workloads if g.by == "workload"), last_day)
    gpu_nodes = [n for n in in_month(nodes, last_day) if n.gpu_usd > 0]

    def group_parts(g: GroupDay) -> tuple[float, ...]:
        return g.cost_usd, g.gpu_usd, g.unused_usd

    tables = {
        "namespaces": _rows(ns, lambda g: (g.cluster, g.key, g.team), group_parts),
        "workloads": _rows(wl, lambda g: (g.cluster, g.key, g.team), group_parts),
        "teams": _rows(ns, lambda g: ("", g.team, g.team), group_parts),
        "gpu_pools": _rows(
            gpu_nodes,
            lambda n: (n.cluster, n.instance_type, n.team),
            lambda n: (n.cost_usd, n.gpu_usd, n.gpu_unused_usd),
        ),
    }
    tables["gpu_pools"].sort(key=lambda r: (-r.unused_usd, r.cluster, r.name))
    return K8sSection(
        month=f"{last_day:%Y-%m}",
        last_day=last_day,
        totals={name: len(rows) for name, rows in tables.items()},
        **{name: tuple(rows[:MAX_ROWS]) for name, rows in tables.items()},
    )
