"""CUR 2.0 split cost allocation rows as AWS computes them, for tests (the bill's arithmetic, not Costwarden's).

AWS Data Exports user guide, "Example of split cost allocation data for accelerated instances"
(https://docs.aws.amazon.com/cur/latest/userguide/example-accelerated-instances.html) and, for a node without
accelerators, "Example of split cost allocation data": per hour, an instance's amortized cost is spread over its
resources by weights (GPU : (vCPU : memory) = 9 : 1, then vCPU : memory = 9 : 1 — 9, 0.9, 0.1 — on an accelerated
instance; 9 : 1 on one without); a pod is allocated, per resource, the larger of what it reserved and what it used;
its split cost is its share of the allocated total (normalised by the available amount, or by the allocated total
when the node is oversubscribed) priced at the unit rate; what nobody was allocated is the unused cost, which AWS
apportions to the pods in proportion to their allocation of that resource.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
USAGE_TYPES = {"cpu": "USE1-EKS-EC2-vCPU-Hours", "memory": "USE1-EKS-EC2-GB-Hours", "gpu": "USE1-EKS-EC2-GPU-Hours"}


@dataclass(frozen=True)
class Pod:
    """One pod for one hour: (reserved, used) per resource; a GPU request may be a fraction (MIG, time-slicing)."""

    name: str
    namespace: str
    cpu: tuple[float, float]
    memory: tuple[float, float]
    gpu: tuple[float, float] = (0.0, 0.0)
    deployment: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """One EC2 node for one hour at its amortized cost; ``team`` is its node group's team tag."""

    instance_id: str
    instance_type: str
    #: What the instance offers (an accelerated instance has ``gpus``), and its amortized cost for the hour.
    vcpus: float = field(metadata={"unit": "vCPU"})
    memory_gb: float = field(metadata={"unit": "GB"})
    gpus: float = field(metadata={"unit": "accelerators (0: not an accelerated instance)"})
    cost: float = field(metadata={"unit": "USD for the hour, amortized"})
    team: str | None = None
    """The node group's team tag (``user_team`` on the node's own line); None: untagged."""
    cluster: str = "ml-prod"
    account: str = ACCOUNT


def _available(node: Node) -> dict[str, float]:
    return {"cpu": node.vcpus, "memory": node.memory_gb, "gpu": node.gpus}


def rates(node: Node) -> dict[str, float]:
    """Cost per unit-hour of each resource (Step 1 of AWS's example)."""
    weights = {"gpu": 9.0, "cpu": 0.9, "memory": 0.1} if node.gpus else {"gpu": 0.0, "cpu": 9.0, "memory": 1.0}
    units = sum(weights[name] * amount for name, amount in _available(node).items())
    unit = node.cost / units
    return {name: weights[name] * unit for name in weights}


def split_costs(node: Node, pods: Sequence[Pod]) -> dict[str, dict[str, tuple[float, float]]]:
    """Pod -> resource -> (split cost, unused cost), Steps 2-4 of AWS's example."""
    rate = rates(node)
    result: dict[str, dict[str, tuple[float, float]]] = {pod.name: {} for pod in pods}
    for name, available in _available(node).items():
        if not available:
            continue
        allocated = {pod.name: max(getattr(pod, name)) for pod in pods}
        total = sum(allocated.values())
        unused = max(available - total, 0.0) * rate[name]
        for pod in pods:
            ratio = allocated[pod.name] / max(available, total) if total else 0.0
            share = allocated[pod.name] / total if total else 0.0
            result[pod.name][name] = (ratio * available * rate[name], share * unused)
    return result


def split_rows(node: Node, pods: Sequence[Pod], hour: str = "2026-11-03T10:00:00Z") -> list[dict[str, Any]]:
    """The node's EC2 line and its pods' split rows for one hour, in CUR 2.0 columns (``resource_tags`` a dict)."""
    rows: list[dict[str, Any]] = [
        {
            "line_item_usage_start_date": hour,
            "line_item_usage_account_id": node.account,
            "line_item_line_item_type": "Usage",
            "line_item_product_code": "AmazonEC2",
            "line_item_usage_type": f"USE1-BoxUsage:{node.instance_type}",
            "line_item_resource_id": node.instance_id,
            "line_item_unblended_cost": node.cost,
            "split_line_item_parent_resource_id": None,
            "split_line_item_split_cost": None,
            "split_line_item_unused_cost": None,
            "resource_tags": {"user_team": node.team} if node.team else {},
        }
    ]
    costs = split_costs(node, pods)
    for pod in pods:
        tags = {
            "aws_eks_cluster_name": node.cluster,
            "aws_eks_namespace": pod.namespace,
            "aws_eks_node": node.instance_id,
        }
        if pod.deployment:
            tags["aws_eks_deployment"] = pod.deployment
        tags.update({f"user_{key}": value for key, value in pod.labels.items()})
        for resource, (split, unused) in costs[pod.name].items():
            rows.append(
                {
                    "line_item_usage_start_date": hour,
                    "line_item_usage_account_id": node.account,
                    "line_item_line_item_type": "Usage",
                    "line_item_product_code": "AmazonEKS",
                    "line_item_usage_type": USAGE_TYPES[resource],
                    "line_item_resource_id": f"arn:aws:eks:us-east-1:{node.account}:pod/{node.cluster}/{pod.name}",
                    "line_item_unblended_cost": 0.0,
                    "split_line_item_parent_resource_id": node.instance_id,
                    "split_line_item_split_cost": split,
                    "split_line_item_unused_cost": unused,
                    "resource_tags": dict(tags),
                }
            )
    return rows


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """A CSV export as AWS writes one: ``resource_tags`` a JSON object per cell."""
    import pandas as pd

    frame = pd.DataFrame([{**row, "resource_tags": json.dumps(row["resource_tags"])} for row in rows])
    frame.to_csv(path, index=False)
    return path


def write_parquet(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """A Parquet export as AWS writes one: ``resource_tags`` a ``map<string, string>`` column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [name for name in rows[0] if name != "resource_tags"]
    arrays = {name: pa.array([row[name] for row in rows]) for name in columns}
    arrays["resource_tags"] = pa.array(
        [list(row["resource_tags"].items()) for row in rows], type=pa.map_(pa.string(), pa.string())
    )
    pq.write_table(pa.table(arrays), path)
    return path


def flat_frame(rows: Sequence[dict[str, Any]]) -> Any:
    """The rows as ``read_cur`` returns a file of them (tags as ``resource_tags_*`` columns), without the file."""
    import pandas as pd
    from costwarden.k8s.columns import tag_column

    flat = [
        {
            **{k: v for k, v in row.items() if k != "resource_tags"},
            **{tag_column(k): v for k, v in row["resource_tags"].items()},
        }
        for row in rows
    ]
    return pd.DataFrame(flat)
