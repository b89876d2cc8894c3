"""EKS split cost allocation at scale: a month of hourly split rows for 2,000 pods on 200 nodes (issue 24).

A CUR 2.0 Parquet export as AWS writes it (``resource_tags`` a map column; one vCPU and one memory row per pod and
hour, each with its split and unused cost, plus each node's own EC2 line): 2,000 pods x 720 hours x 2 = 2.88 M split
rows and 144,000 node lines, generated once (vectorised) to ``.build/bench/k8s_month.parquet``. Measured: the best
of ``REPEATS`` timings of each step, and the peak resident memory of a fresh process doing it:

1. read: ``costwarden.k8s.read_cur`` — the Parquet file to the flat table (the tag map unpacked);
2. aggregate: ``costwarden.k8s.allocate`` on that table, by namespace, with the ``proportional`` policy (the one
   that touches every split row twice); its memory is the whole run's, read then aggregate.

Target: aggregate within 2x the read time. The tables' sums are checked against the nodes' cost (the invariant) so a
fast wrong answer cannot pass.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from costwarden.k8s import allocate, read_cur

PODS, NODES, HOURS = 2_000, 200, 720
REPEATS = 2
PATH = Path(".build/bench/k8s_month.parquet")
NAMESPACES = [f"team-{i:02d}" for i in range(40)]


def make_export(path: Path = PATH, pods: int = PODS, nodes: int = NODES, hours: int = HOURS, seed: int = 24) -> Path:
    """The month's export (written once; reused while its shape is the same)."""
    if path.exists() and pq.read_metadata(path).num_rows == pods * hours * 2 + nodes * hours:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pod_node = np.arange(pods) % nodes
    node_cost = rng.choice([0.768, 1.536, 4.352], size=nodes)
    share = rng.uniform(0.2, 1.0, size=pods) / (pods / nodes) * 0.9  # each node 10-90 % allocated
    stamps = np.datetime64("2026-11-01T00:00:00", "h") + np.arange(hours)
    start = np.repeat(np.datetime_as_string(stamps, unit="s"), pods * 2).astype(object) + "Z"
    pod_index = np.tile(np.repeat(np.arange(pods), 2), hours)
    is_cpu = np.tile(np.array([True, False]), pods * hours)
    split = node_cost[pod_node[pod_index]] * share[pod_index] * np.where(is_cpu, 0.6, 0.4)
    used = np.zeros(nodes)
    np.add.at(used, pod_node, share)
    unused = (
        node_cost[pod_node[pod_index]] * (1 - used[pod_node[pod_index]]) * share[pod_index] / used[pod_node[pod_index]]
    )
    unused *= np.where(is_cpu, 0.6, 0.4)
    node_ids = np.array([f"i-{n:017x}" for n in range(nodes)], dtype=object)
    pod_names = np.array([f"pod-{p:05d}" for p in range(pods)], dtype=object)
    namespace = np.array([NAMESPACES[p % len(NAMESPACES)] for p in range(pods)], dtype=object)
    deployment = np.array([f"{namespace[p]}-app-{p % 7}" for p in range(pods)], dtype=object)
    rows = pods * hours * 2
    node_start = np.repeat(np.datetime_as_string(stamps, unit="s"), nodes).astype(object) + "Z"
    node_index = np.tile(np.arange(nodes), hours)
    tag_keys = ["aws_eks_cluster_name", "aws_eks_namespace", "aws_eks_deployment", "aws_eks_node"]
    pod_tags = np.stack(
        [np.full(pods, "ml-prod", dtype=object), namespace, deployment, node_ids[pod_node]], axis=1
    )  # (pods, 4)
    keys = np.concatenate([np.tile(np.array(tag_keys, dtype=object), rows), np.full(nodes * hours, "user_team")])
    items = np.concatenate(
        [pod_tags[pod_index].reshape(-1), np.array([f"pool-{n % 20}" for n in node_index], dtype=object)]
    )
    offsets = np.concatenate([np.arange(rows + 1) * 4, rows * 4 + np.arange(1, nodes * hours + 1)]).astype(np.int32)
    tags = pa.MapArray.from_arrays(pa.array(offsets), pa.array(keys, pa.string()), pa.array(items, pa.string()))

    def both(pod_part: Any, node_part: Any, kind: Any = None) -> pa.Array:
        return pa.array(np.concatenate([pod_part, node_part]), type=kind)

    table = pa.table(
        {
            "line_item_usage_start_date": both(start, node_start, pa.string()),
            "line_item_usage_account_id": pa.array(np.full(rows + nodes * hours, "111122223333", dtype=object)),
            "line_item_line_item_type": pa.array(np.full(rows + nodes * hours, "Usage", dtype=object)),
            "line_item_usage_type": both(
                np.where(is_cpu, "USE1-EKS-EC2-vCPU-Hours", "USE1-EKS-EC2-GB-Hours").astype(object),
                np.full(nodes * hours, "USE1-BoxUsage:m5.4xlarge", dtype=object),
                pa.string(),
            ),
            "line_item_resource_id": both(pod_names[pod_index], node_ids[node_index], pa.string()),
            "line_item_unblended_cost": both(np.zeros(rows), node_cost[node_index]),
            "split_line_item_parent_resource_id": both(
                node_ids[pod_node[pod_index]], np.full(nodes * hours, None, dtype=object), pa.string()
            ),
            "split_line_item_split_cost": both(split, np.full(nodes * hours, np.nan)),
            "split_line_item_unused_cost": both(unused, np.full(nodes * hours, np.nan)),
            "resource_tags": tags,
        }
    )
    pq.write_table(table, path, compression="snappy")
    return path


def _best(run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def _peak_rss(path: Path, *, aggregate: bool) -> float:
    """Peak resident memory (MiB) of a fresh process that reads the file (and aggregates it): what a laptop or a
    Lambda must hold, pyarrow's own buffers included (tracemalloc sees only Python's allocations)."""
    step = "allocate(frame, by='namespace', unused='proportional')" if aggregate else "None"
    code = (
        "import resource; from costwarden.k8s import allocate, read_cur; "
        f"frame = read_cur({str(path)!r}); {step}; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> list[dict[str, Any]]:
    started = time.perf_counter()
    path = make_export()
    print(
        f"export: {path} ({pq.read_metadata(path).num_rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB, "
        f"ready in {time.perf_counter() - started:.1f} s)"
    )
    read_s, frame = _best(lambda: read_cur(path))
    aggregate_s, (groups, nodes) = _best(lambda: allocate(frame, by="namespace", unused="proportional"))
    node_cost = sum(node.cost_usd for node in nodes)
    assert abs(sum(group.cost_usd for group in groups) - node_cost) < 0.01 * len(nodes), "the invariant broke"
    read_mib = _peak_rss(path, aggregate=False)
    aggregate_mib = _peak_rss(path, aggregate=True)
    ratio = aggregate_s / read_s
    rows = [
        {"step": "read (read_cur)", "rows": len(frame), "seconds": round(read_s, 2), "peak_rss_mib": round(read_mib)},
        {
            "step": "aggregate (allocate)",
            "rows": len(frame),
            "seconds": round(aggregate_s, 2),
            "peak_rss_mib": round(aggregate_mib),
            "groups": len(groups),
            "node_days": len(nodes),
        },
    ]
    for row in rows:
        print(
            f"{row['step']:<22} {row['rows']:>10,} rows  {row['seconds']:>6.2f} s  "
            f"peak RSS {row['peak_rss_mib']:>5} MiB"
        )
    verdict = "ok" if ratio <= 2 else "OVER TARGET"
    print(
        f"aggregate / read = {ratio:.2f}x (target <= 2x): {verdict}; {len(groups):,} group-days, node cost "
        f"${node_cost:,.2f}"
    )
    return rows


if __name__ == "__main__":
    main()
