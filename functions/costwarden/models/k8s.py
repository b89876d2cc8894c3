"""The contract between reading EKS split cost allocation data and the guardrails that use it.

``costwarden.k8s`` turns CUR 2.0 split rows (one per pod and hour, plus the node's own line) into these facts; the
cost monitor, the idle finder, the digest and the report consume them without knowing how they were allocated. The
invariant every producer keeps: per node and day, the groups' ``cost_usd`` (their split cost plus the unused cost
charged to them by the configured policy) plus any ``unallocated`` line equals the node's cost on the bill.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

#: What a group is: the pod's namespace, its workload (``aws:eks:deployment`` or a configured pod label) or its team.
GroupBy = Literal["namespace", "workload", "team"]
GROUP_BYS: tuple[GroupBy, ...] = ("namespace", "workload", "team")
#: Who pays for what no pod reserved or used on a node: the node group's owner (the default: whoever runs the pool
#: pays for its idle), the node's pods in proportion to their split cost, or a line of its own.
UnusedPolicy = Literal["owner", "proportional", "unallocated"]
UNUSED_POLICIES: tuple[UnusedPolicy, ...] = ("owner", "proportional", "unallocated")
#: The group key of the line that holds a node's unused cost under the ``unallocated`` policy.
UNALLOCATED = "unallocated"


@dataclass(frozen=True, slots=True)
class GroupDay:
    """One group's cost on one day in one cluster, amortized (net) where discounts apply."""

    date: dt.date
    account: str
    cluster: str
    by: GroupBy
    key: str
    #: The owner of the group by the one owner rule (namespace map, pod label, node group's team tag, else unowned).
    team: str
    #: Split cost of the group's pods plus the part of the nodes' unused cost charged to it.
    cost_usd: float
    cpu_usd: float
    memory_usd: float
    gpu_usd: float
    #: The part of ``cost_usd`` that is the nodes' unused cost charged to this group by the policy.
    unused_usd: float


@dataclass(frozen=True, slots=True)
class NodeDay:
    """One node's (``split_line_item_parent_resource_id``) day: what it cost and what no pod reserved or used."""

    date: dt.date
    account: str
    cluster: str
    node: str
    instance_type: str
    #: The node group / pool owner's team (its team tag), else unowned.
    team: str
    cost_usd: float
    unused_usd: float
    #: The accelerator part of the node's cost, and the part of it no pod reserved or used.
    gpu_usd: float
    gpu_unused_usd: float
