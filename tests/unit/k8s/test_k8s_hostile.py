"""Hostile split cost files: each is a ``K8sDataError`` naming the file, row and column at fault, never a traceback
and never a quiet zero (written before the allocation's happy paths)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from costwarden.k8s import K8sDataError, allocate, read_cur

from tests.support.k8s_cur import Node, Pod, split_rows, write_csv

NODE = Node("i-0aaa", "m5.xlarge", 4, 16, 0, 1.0, team="platform")
PODS = [Pod("web-1", "web", cpu=(1, 0.5), memory=(4, 2)), Pod("batch-1", "batch", cpu=(2, 2), memory=(4, 6))]


def _csv(tmp_path: Path, edit: dict[int, dict[str, object]] | None = None, drop: tuple[str, ...] = ()) -> Path:
    rows = split_rows(NODE, PODS)
    for index, changes in (edit or {}).items():
        rows[index].update(changes)
    path = write_csv(tmp_path / "cur.csv", rows)
    if drop:
        pd.read_csv(path, dtype=str).drop(columns=list(drop)).to_csv(path, index=False)
    return path


def _allocate(path: Path) -> None:
    allocate(read_cur(path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(K8sDataError, match=r"nope\.parquet: no such file"):
        read_cur(tmp_path / "nope.parquet")


def test_a_file_that_is_not_an_export_is_refused_by_its_suffix(tmp_path: Path) -> None:
    (tmp_path / "cur.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(K8sDataError, match=r"not a CUR export \(expected \.parquet, \.csv or \.csv\.gz\)"):
        read_cur(tmp_path / "cur.xlsx")


def test_a_corrupt_parquet_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "cur.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(K8sDataError, match=r"cur\.parquet: cannot read: "):
        read_cur(tmp_path / "cur.parquet")


def test_a_tags_cell_that_is_not_a_json_object_names_its_row(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    frame = pd.read_csv(path, dtype=str)
    frame.loc[2, "resource_tags"] = '["aws_eks_namespace", "web"]'
    frame.to_csv(path, index=False)
    with pytest.raises(K8sDataError, match=r"row 3, column resource_tags: not a JSON object"):
        read_cur(path)


@pytest.mark.parametrize("bad", ["twelve", "inf", "nan", "1e400", "2e15"])
def test_a_split_cost_that_is_not_a_finite_amount_names_its_row(tmp_path: Path, bad: str) -> None:
    path = _csv(tmp_path, {3: {"split_line_item_split_cost": bad}})
    with pytest.raises(K8sDataError, match=rf"row 4, column split_line_item_split_cost: not a finite amount: '{bad}'"):
        _allocate(path)


def test_a_split_row_without_a_split_cost_names_its_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, {2: {"split_line_item_split_cost": None}})
    with pytest.raises(K8sDataError, match=r"row 3, column split_line_item_split_cost: a split row without"):
        _allocate(path)


def test_a_node_cost_that_is_text_names_its_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, {0: {"line_item_unblended_cost": "1,00"}})
    with pytest.raises(K8sDataError, match=r"row 1, column line_item_unblended_cost: not a finite amount: '1,00'"):
        _allocate(path)


@pytest.mark.parametrize("bad", ["03/11/2026 10:00", "2026-13-03T10:00:00Z", "1970-01-01T00:00:00Z"])
def test_a_usage_start_that_is_not_an_iso_hour_names_its_row(tmp_path: Path, bad: str) -> None:
    path = _csv(tmp_path, {1: {"line_item_usage_start_date": bad}})
    with pytest.raises(K8sDataError, match=r"row 2, column line_item_usage_start_date: not an ISO 8601"):
        _allocate(path)


def test_an_export_without_split_data_says_what_to_turn_on(tmp_path: Path) -> None:
    path = _csv(tmp_path, drop=("split_line_item_parent_resource_id",))
    with pytest.raises(K8sDataError, match=r"no split cost allocation data .* turn on split cost allocation data"):
        _allocate(path)


def test_split_rows_without_the_eks_tags_say_which_tags_to_activate(tmp_path: Path) -> None:
    rows = split_rows(NODE, PODS)
    for row in rows:
        row["resource_tags"] = {}
    path = write_csv(tmp_path / "cur.csv", rows)
    with pytest.raises(K8sDataError, match=r"no aws:eks:cluster-name tag .* activate the AWS-generated EKS cost"):
        _allocate(path)


def test_a_pod_without_a_namespace_names_its_row(tmp_path: Path) -> None:
    rows = split_rows(NODE, PODS)
    rows[4]["resource_tags"] = {"aws_eks_cluster_name": "ml-prod", "aws_eks_namespace": " "}
    path = write_csv(tmp_path / "cur.csv", rows)
    with pytest.raises(K8sDataError, match=r"row 5, column resource_tags_aws_eks_namespace: an EKS pod without"):
        _allocate(path)


def test_a_parquet_tags_column_that_is_not_a_map_is_named(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "cur.parquet"
    pq.write_table(pa.table({"resource_tags": pa.array([1, 2])}), path)
    with pytest.raises(K8sDataError, match=r"column resource_tags is int64, not a map"):
        read_cur(path)
