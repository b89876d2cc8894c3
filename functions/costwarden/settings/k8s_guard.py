"""The Kubernetes guard's settings: which EKS namespace (or workload) series the cost monitor guards like a team's
spend, their budgets, and when a GPU node counts as idle (docs/k8s.md, "Guarding namespace spend").

Apart from ``settings/k8s.py`` (how split cost allocation data is read and allocated) on purpose: reading the bill
and guarding it are two jobs with their own readers.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from costwarden.settings._base import _Model, matching

#: An EKS cluster name as EKS allows it (``CreateCluster``: a letter or digit, then letters, digits, ``-``, ``_``).
_CLUSTER = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
#: A Kubernetes namespace (an RFC 1123 label), or a shell pattern of one (``ml-*``).
_NAMESPACE = re.compile(r"[a-z0-9*?]([-a-z0-9*?]{0,61}[a-z0-9*?])?")
#: ``<cluster>/<namespace>``: a guarded series' budget key.
_SERIES = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")

ClusterName = Annotated[
    str, matching(_CLUSTER, "a cluster is an EKS cluster name: a letter or digit, then letters, digits, - or _")
]
NamespacePattern = Annotated[
    str,
    StringConstraints(max_length=63),
    matching(_NAMESPACE, "a namespace is a Kubernetes namespace name (a-z, 0-9, -) or a pattern of one (ml-*)"),
]
SeriesName = Annotated[
    str, matching(_SERIES, "a budget key is <cluster>/<namespace>, for example prod-gpu/ml-training")
]


class K8sGuardSettings(_Model):
    """EKS namespace spend guarded like a team's: the same detector, episodes, budgets, digest and report."""

    enabled: bool = False
    """Guard EKS spend per namespace (or workload) from CUR 2.0 split cost allocation data (`cost_source: athena`
    with split cost allocation data turned on at the payer)."""
    series_by: Literal["namespace", "workload"] = "namespace"
    """What one guarded series is: a namespace of a cluster (`k8s:<cluster>/<namespace>`), or a workload
    (`k8s:<cluster>/<namespace>/<workload>`)."""
    clusters: tuple[ClusterName, ...] = ()
    """EKS clusters whose namespaces are guarded (empty: every cluster in the bill)."""
    namespaces: tuple[NamespacePattern, ...] = ()
    """Namespaces guarded, names or shell patterns such as `ml-*` (empty: every namespace)."""
    monthly_usd: dict[SeriesName, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    """Monthly budgets (USD) per `<cluster>/<namespace>`, judged like a team's (`budgets.at_risk_ratio`,
    `budgets.over_budget_ratio`) and alerted to the namespace's team."""
    idle_gpu_unused_share: float = Field(0.8, gt=0, le=1)
    """A GPU node is idle when at least this share of its accelerator cost was reserved and used by no pod over the
    idle finder's lookback (`idle.lookback_days`)."""
    idle_gpu_min_usd_per_day: float = Field(5.0, ge=0)
    """Unused accelerator cost per day below which a GPU node is not reported (a node that ran one hour)."""
