"""Acceptance: AWS's accelerated-instance example, read from the bill's columns, to the cent.

AWS Data Exports user guide, "Example of split cost allocation data for accelerated instances"
(https://docs.aws.amazon.com/cur/latest/userguide/example-accelerated-instances.html): one p3.16xlarge (8 GPU,
64 vCPU, 488 GB) at $10/hr amortized, four pods in two namespaces. Table 4 of the page gives per pod the split cost,
the unused cost and the total; the fixture ``tests/fixtures/k8s/aws_accelerated_example.csv`` holds the CUR 2.0
rows of that hour (written by ``tests.support.k8s_cur`` from the page's Tables 1-2: reserved and used GPU, vCPU and
memory per pod).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from costwarden.k8s import read_cur
from costwarden.k8s.allocate import COLUMNS, allocate

from tests.support.k8s_cur import Node, Pod, rates, split_rows, write_csv, write_parquet

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "k8s" / "aws_accelerated_example.csv"
#: Table 4: pod -> (split cost, unused cost, total cost), USD for the hour.
TABLE_4 = {
    "pod-1": (1.85, 0.06, 1.91),
    "pod-2": (3.18, 0.09, 3.26),
    "pod-3": (2.35, 0.06, 2.41),
    "pod-4": (2.35, 0.06, 2.41),
}
NODE = Node("i-0example000000001", "p3.16xlarge", 64, 488, 8, 10.0, team="ml-platform")
PODS = [  # Table 2: (reserved, used)
    Pod("pod-1", "namespace-1", cpu=(16, 4), gpu=(1, 1), memory=(100, 60), deployment="pod-1"),
    Pod("pod-2", "namespace-2", cpu=(16, 18), gpu=(2, 3), memory=(100, 140), deployment="pod-2"),
    Pod("pod-3", "namespace-1", cpu=(16, 4), gpu=(2, 1), memory=(100, 60), deployment="pod-3"),
    Pod("pod-4", "namespace-2", cpu=(16, 4), gpu=(2, 2), memory=(100, 40), deployment="pod-4"),
]


def _pod(key: str) -> str:
    """The pod of a workload key (``namespace-1/pod-1``: the fixture names each pod's deployment after it)."""
    return key.partition("/")[2]


def test_the_fixture_is_the_pages_example() -> None:
    """Table 1's unit rates (the page rounds them: $0.05, $0.50 per vCPU- and GPU-hour), and the fixture's cells."""
    rate = rates(NODE)
    assert (round(rate["cpu"], 2), round(rate["gpu"], 2), round(rate["memory"], 4)) == (0.05, 0.50, 0.0056)
    assert read_cur(FIXTURE).shape[0] == 1 + 4 * 3  # the node's line and three rows (vCPU, GB, GPU) per pod


@pytest.mark.parametrize("unused", ["proportional", "owner", "unallocated"])
def test_each_pods_split_cost_is_table_4s(unused: str) -> None:
    groups, _ = allocate(read_cur(FIXTURE), by="workload", unused=unused)  # type: ignore[arg-type]
    split = {_pod(group.key): round(group.cost_usd - group.unused_usd, 2) for group in groups if "/" in group.key}
    assert split == {pod: row[0] for pod, row in TABLE_4.items()}


def test_proportional_gives_each_pod_table_4s_unused_and_total_cost() -> None:
    groups, nodes = allocate(read_cur(FIXTURE), by="workload", unused="proportional")
    got = {
        _pod(group.key): (
            round(group.cost_usd - group.unused_usd, 2),
            round(group.unused_usd, 2),
            round(group.cost_usd, 2),
        )
        for group in groups
    }
    assert got == TABLE_4
    assert [(node.instance_type, node.cost_usd, round(node.unused_usd, 2)) for node in nodes] == [
        ("p3.16xlarge", 10.0, 0.27)
    ]
    assert round(sum(group.cost_usd for group in groups), 2) == 10.00


def test_by_namespace_the_example_answers_its_own_question() -> None:
    """ "You want to understand the costs of each namespace": pods 1+3 and 2+4 (the page's rounded pods add to
    $5.67 for namespace 2; unrounded they are $3.2644 + $2.4134 = $5.68)."""
    groups, _ = allocate(read_cur(FIXTURE), by="namespace", unused="proportional")
    assert {group.key: round(group.cost_usd, 2) for group in groups} == {"namespace-1": 4.32, "namespace-2": 5.68}
    gpu = {group.key: round(group.gpu_usd, 2) for group in groups}
    assert gpu == {"namespace-1": 1.51, "namespace-2": 2.52}  # 3 and 5 of the 8 GPUs at $0.504 each


def test_owner_charges_the_48_idle_gb_to_the_node_groups_team() -> None:
    groups, _ = allocate(read_cur(FIXTURE), by="team", unused="owner")
    assert [(group.key, round(group.cost_usd, 2), round(group.unused_usd, 2)) for group in groups] == [
        ("ml-platform", 10.0, 0.27)
    ]
    groups, _ = allocate(read_cur(FIXTURE), by="namespace", unused="owner")
    assert {(group.key, group.team): round(group.cost_usd, 2) for group in groups} == {
        ("(unused)", "ml-platform"): 0.27,
        ("namespace-1", "ml-platform"): 4.2,
        ("namespace-2", "ml-platform"): 5.53,
    }


def test_parquet_and_csv_as_aws_writes_them_read_the_same(tmp_path: Path) -> None:
    rows = split_rows(NODE, PODS)
    parquet = allocate(read_cur(write_parquet(tmp_path / "cur.parquet", rows)), by="workload")
    csv = allocate(read_cur(write_csv(tmp_path / "cur.csv", rows)), by="workload")
    assert parquet == csv
    assert allocate(read_cur(FIXTURE), by="workload") == csv
    for path in (tmp_path / "cur.parquet", tmp_path / "cur.csv"):  # only what allocate reads: the same facts
        narrow = read_cur(path, COLUMNS)
        assert "line_item_product_code" not in narrow.columns and allocate(narrow, by="workload") == csv
