"""The Athena SQL of ``costwarden.k8s`` (``k8s/sql/group_day.sql``), run on DuckDB over a CUR 2.0 Parquet export with
split rows, gives the Python allocation's groups for every grouping and unused-cost policy.

moto's Athena runs no SQL, so the SQL is executed here, as the cost questions' are (tests/unit/cost/test_athena_sql.py);
the one dialect shim is Trino's ``element_at(map, key)`` (DuckDB's returns a list): a temporary macro.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from costwarden.k8s import K8sDataError, allocate, read_cur
from costwarden.k8s.athena_sql import group_days_from_rows, node_days_from_rows, render, render_nodes
from costwarden.models.k8s import GROUP_BYS, UNUSED_POLICIES
from costwarden.settings import K8sSettings

from tests.support.k8s_cur import Node, Pod, split_rows, write_parquet

NODES = [
    Node("i-0gpu", "p4d.24xlarge", 96, 1152, 8, 21.96, team="ml-platform"),
    Node("i-0cpu", "m5.4xlarge", 16, 64, 0, 0.768),
]
PODS = [
    Pod("t", "research", cpu=(32, 30), memory=(400, 380), gpu=(4, 4), deployment="trainer", labels={"team": "vision"}),
    Pod("s", "serving", cpu=(8, 2), memory=(64, 20), gpu=(1, 1), deployment="api"),
    Pod("w", "web", cpu=(2, 1), memory=(4, 4)),
]
SETTINGS = K8sSettings(namespace_teams={"web": "frontend"})


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = []
    for hour in ("2026-11-03T10:00:00Z", "2026-11-03T11:00:00Z", "2026-11-04T09:00:00Z"):
        rows += split_rows(NODES[0], PODS[:2], hour) + split_rows(NODES[1], PODS[2:], hour)
    rows += split_rows(NODES[0], [], "2026-11-04T10:00:00Z")  # the GPU node up, no pod on it
    return write_parquet(tmp_path_factory.mktemp("k8s") / "cur.parquet", rows)


@pytest.fixture(scope="module")
def con(export: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("CREATE TEMP MACRO element_at(m, k) AS m[k]")
    start = "CAST(line_item_usage_start_date AS TIMESTAMP)"
    absent = ("reservation_effective_cost", "savings_plan_savings_plan_effective_cost")  # not in this export
    con.sql(
        f"CREATE VIEW cur AS SELECT * REPLACE ({start} AS line_item_usage_start_date), "
        f"strftime({start}, '%Y-%m') AS billing_period, "
        + ", ".join(f"CAST(NULL AS DOUBLE) AS {name}" for name in absent)
        + f" FROM read_parquet('{export}')"
    )
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = con.sql(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _facts(groups: Any) -> dict[tuple[Any, ...], tuple[float, ...]]:
    return {
        (g.date, g.account, g.cluster, g.key, g.team): tuple(
            round(x, 9) for x in (g.cost_usd, g.cpu_usd, g.memory_usd, g.gpu_usd, g.unused_usd)
        )
        for g in groups
    }


@pytest.mark.parametrize("by", GROUP_BYS)
@pytest.mark.parametrize("unused", UNUSED_POLICIES)
def test_the_sql_gives_the_python_allocation(
    con: duckdb.DuckDBPyConnection, export: Path, by: str, unused: str
) -> None:
    sql = render("cur", dt.date(2026, 11, 1), dt.date(2026, 12, 1), SETTINGS, by=by, unused=unused, net=False)  # type: ignore[arg-type]
    from_sql = group_days_from_rows(_rows(con, sql), by)  # type: ignore[arg-type]
    groups, _ = allocate(read_cur(export), SETTINGS, by=by, unused=unused)  # type: ignore[arg-type]
    assert _facts(from_sql) == _facts(groups)
    assert len(from_sql) >= 4


def _node_facts(nodes: Any) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {
        (n.date, n.node): (
            n.account,
            n.cluster,
            n.instance_type,
            n.team,
            *(round(x, 9) for x in (n.cost_usd, n.unused_usd, n.gpu_usd, n.gpu_unused_usd)),
        )
        for n in nodes
    }


def test_the_node_sql_gives_the_python_nodes_pod_less_hour_included(
    con: duckdb.DuckDBPyConnection, export: Path
) -> None:
    sql = render_nodes("cur", dt.date(2026, 11, 1), dt.date(2026, 12, 1), SETTINGS, net=False)
    from_sql = node_days_from_rows(_rows(con, sql))
    _, nodes = allocate(read_cur(export), SETTINGS)
    assert _node_facts(from_sql) == _node_facts(nodes)
    gpu_day = [n for n in from_sql if n.node == "i-0gpu" and n.date == dt.date(2026, 11, 4)]
    assert gpu_day[0].gpu_unused_usd > 0 and gpu_day[0].instance_type == "p4d.24xlarge"


def test_the_window_prunes_partitions_and_days(con: duckdb.DuckDBPyConnection) -> None:
    sql = render("cur", dt.date(2026, 11, 4), dt.date(2026, 11, 5), SETTINGS, net=False)
    assert "billing_period IN ('2026-11')" in sql
    assert {row["usage_date"] for row in _rows(con, sql)} == {"2026-11-04"}


@pytest.mark.parametrize("table", ["cur; DROP TABLE x", "Cur", ""])
def test_only_a_plain_table_name_reaches_the_sql(table: str) -> None:
    with pytest.raises(K8sDataError, match="table name"):
        render(table, dt.date(2026, 11, 1), dt.date(2026, 12, 1))


def test_names_from_settings_are_quoted() -> None:
    sql = render("cur", dt.date(2026, 11, 1), dt.date(2026, 12, 1), K8sSettings(namespace_teams={"a": "o'brien"}))
    assert "WHEN 'a' THEN 'o''brien'" in sql


class DuckAthena:
    """The Athena adapter's ``query`` over DuckDB: every value as text, NULL as None, as Athena answers."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.requests = con, 0

    def query(self, sql: str) -> list[dict[str, str | None]]:
        self.requests += 3  # start, one poll, one result page
        return [{k: None if v is None else str(v) for k, v in row.items()} for row in _rows(self.con, sql)]


def test_the_athena_source_answers_the_guardrails_port(con: duckdb.DuckDBPyConnection, export: Path) -> None:
    from costwarden.services.k8s_athena import AthenaK8sSource
    from costwarden.settings import AthenaSettings

    source = AthenaK8sSource(AthenaSettings(table="cur"), SETTINGS, DuckAthena(con), net=False)  # type: ignore[arg-type]
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 1)
    groups, nodes = allocate(read_cur(export), SETTINGS, by="workload")
    assert _facts(source.group_days(start, end, "workload")) == _facts(groups)
    assert _node_facts(source.node_days(start, end)) == _node_facts(nodes)
    assert source.requests == 6 and len(source.queries) == 2


def test_the_athena_source_refuses_a_focus_export() -> None:
    from costwarden.services.k8s_athena import AthenaK8sSource
    from costwarden.settings import AthenaSettings

    with pytest.raises(ValueError, match="export_format is 'focus': EKS split cost allocation data is only in a CUR"):
        AthenaK8sSource(AthenaSettings(export_format="focus"), SETTINGS, DuckAthena(duckdb.connect()))  # type: ignore[arg-type]
