"""``costwarden k8s --cur FILE``: hostile files first (exit 2, one line naming the row and column, never a
traceback), then the envelope: one result per group and day whose ``cost_usd`` add up to the file's EKS nodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from costwarden.cli.main import EXIT_BAD_INPUT, EXIT_OK, main

from tests.support.k8s_cur import Node, Pod, split_rows, write_csv, write_parquet

NODES = [
    Node("i-0gpu", "p4d.24xlarge", 96, 1152, 8, 21.96, team="ml-platform"),
    Node("i-0cpu", "m5.4xlarge", 16, 64, 0, 0.768, team="platform"),
]
PODS = {
    "i-0gpu": [
        Pod("train-0", "research", cpu=(32, 30), memory=(400, 380), gpu=(4, 4), deployment="trainer"),
        Pod("serve-0", "serving", cpu=(8, 2), memory=(64, 20), gpu=(1, 1), deployment="api", labels={"team": "nlp"}),
    ],
    "i-0cpu": [Pod("web-0", "serving", cpu=(2, 1), memory=(4, 4), deployment="api", labels={"team": "nlp"})],
}


def _rows() -> list[dict[str, Any]]:
    rows = []
    for day in ("03", "04"):
        for hour in range(0, 24, 6):
            for node in NODES:
                rows += split_rows(node, PODS[node.instance_id], f"2026-11-{day}T{hour:02d}:00:00Z")
    rows.append({**rows[0], "line_item_resource_id": "vol-0abc", "line_item_usage_type": "EBS:VolumeUsage.gp3"})
    return rows


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["k8s", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_file_is_bad_input_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--cur", str(tmp_path / "none.parquet"), "--format", "json")
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.strip() == f"costwarden k8s: error: {tmp_path / 'none.parquet'}: no such file"


def test_a_malformed_cell_is_bad_input_naming_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows()
    rows[5]["split_line_item_unused_cost"] = "n/a"
    path = write_csv(tmp_path / "cur.csv", rows)
    code, out, err = _run(capsys, "--cur", str(path))
    assert code == EXIT_BAD_INPUT and "Traceback" not in out + err
    assert f"{path}: row 6, column split_line_item_unused_cost: not a finite amount: 'n/a'" in err


def test_an_unknown_grouping_is_refused_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["k8s", "--cur", str(tmp_path / "x.csv"), "--by", "pod"])
    assert stopped.value.code == EXIT_BAD_INPUT
    assert "invalid choice: 'pod'" in capsys.readouterr().err


@pytest.mark.parametrize("by", ["namespace", "workload", "team"])
@pytest.mark.parametrize("unused", ["owner", "proportional", "unallocated"])
def test_results_add_up_to_the_files_eks_nodes_to_the_cent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], by: str, unused: str
) -> None:
    path = write_parquet(tmp_path / "cur.parquet", _rows())
    code, out, err = _run(capsys, "--cur", str(path), "--by", by, "--unused", unused, "--format", "json")
    assert code == EXIT_OK, err
    body = json.loads(out)
    assert body["command"] == "k8s" and body["complete"] is True
    file = pd.read_parquet(path)
    nodes = file["line_item_usage_type"].str.contains("BoxUsage")  # the EKS nodes' own lines (not the EBS volume)
    assert round(sum(row["cost_usd"] for row in body["results"]), 2) == round(
        file.loc[nodes, "line_item_unblended_cost"].sum(), 2
    )
    assert body["totals"]["node_cost_usd"] == pytest.approx(8 * sum(node.cost for node in NODES))
    keys = [(row["date"], row["cluster"], row[by], row["team"]) for row in body["results"]]
    assert len(keys) == len(set(keys)) and {row["date"] for row in body["results"]} == {"2026-11-03", "2026-11-04"}
    assert all(
        {"cluster", by, "date", "cost_usd", "gpu_usd", "unused_usd", "team"} <= set(row) for row in body["results"]
    )


def test_by_team_with_the_owner_policy_charges_idle_to_each_pool_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "cur.csv", _rows())
    code, out, _ = _run(capsys, "--cur", str(path), "--by", "team", "--format", "json")
    day = {row["team"]: row for row in json.loads(out)["results"] if row["date"] == "2026-11-03"}
    assert code == EXIT_OK and set(day) == {"ml-platform", "platform", "nlp"}
    assert day["nlp"]["unused_usd"] == 0 and day["ml-platform"]["unused_usd"] > 0 and day["platform"]["unused_usd"] > 0
    assert day["nlp"]["gpu_usd"] > 0  # the serving pod's GPU


def test_the_table_names_the_policy_and_the_totals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "cur.csv", _rows())
    code, out, _ = _run(capsys, "--cur", str(path), "--unused", "unallocated")
    assert code == EXIT_OK
    assert "unallocated" in out and out.strip().splitlines()[-1].startswith(
        "6 groups on 2 nodes: $181.82 (nodes $181.82,"
    )
