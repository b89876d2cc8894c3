"""k8s_guard: the idle finder's and the monthly report's roles read the split cost data through the cost monitor's
own Athena grants (the same statements on the same workgroup, Glue table, export prefix and results prefix), and
the export and its Glue table carry the columns the EKS questions read (derived from the rendered SQL, bound on
DuckDB against the synthesized table). One synth, seconds of CPU; the guard off has no EKS grant
(tests/infra/test_athena.py, on its own synth)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from costwarden.k8s.athena_sql import render, render_nodes
from costwarden.models.k8s import GROUP_BYS, UNUSED_POLICIES
from costwarden.settings import AthenaSettings, K8sSettings

from infra.athena import EXPORT_COLUMNS, K8S_EXPORT_COLUMNS, PARTITION_KEY, query_statement
from tests.infra.conftest import Synth, synthesize
from tests.infra.test_athena import _column_refs

#: Glue's types as DuckDB spells them (the table the EKS SQL is bound against).
DUCKDB_TYPES = {
    "timestamp": "TIMESTAMP",
    "string": "VARCHAR",
    "double": "DOUBLE",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    context = {"costwarden": {"cost_source": "athena", "k8s_guard": {"enabled": True}}}
    yield synthesize(tmp_path_factory.mktemp("cdk-k8s"), context)


def test_the_idle_finder_reads_split_cost_data_with_the_monitors_grants(guarded: Synth) -> None:
    idle = guarded.resource("IdleFinder/K8sCostRead")["Properties"]
    monitor = guarded.resource("CostMonitor/AthenaCostRead")["Properties"]
    assert idle["PolicyDocument"] == monitor["PolicyDocument"]
    idle_role = guarded.resource("IdleFinder/Function/Function")["Properties"]["Role"]["Fn::GetAtt"][0]
    assert idle["Roles"] == [{"Ref": idle_role}]


def test_the_monthly_report_reads_split_cost_data_with_the_monitors_grants_and_the_weekly_advisor_does_not(
    guarded: Synth,
) -> None:
    report = guarded.resource("Advisor/ReportK8sCostRead")["Properties"]
    monitor = guarded.resource("CostMonitor/AthenaCostRead")["Properties"]
    assert report["PolicyDocument"] == monitor["PolicyDocument"]
    report_role = guarded.resource("Advisor/ReportFunction/Function")["Properties"]["Role"]["Fn::GetAtt"][0]
    assert report["Roles"] == [{"Ref": report_role}]
    advisor_role = guarded.resource("Advisor/Function/Function")["Properties"]["Role"]["Fn::GetAtt"][0]
    assert not any(s.get("Sid") == "AthenaQuery" for s in guarded.role_statements(advisor_role))


def _eks_queries() -> list[str]:
    """Every EKS question the guardrails can ask: each grouping and unused policy, net and gross, and the nodes'."""
    start, end = dt.date(2026, 10, 30), dt.date(2026, 11, 2)
    settings = K8sSettings(namespace_teams={"web": "frontend"}, workload_label="app")
    queries = [render_nodes("t", start, end, settings, net=net) for net in (True, False)]
    for by in GROUP_BYS:
        for unused in UNUSED_POLICIES:
            queries += [render("t", start, end, settings, by=by, unused=unused, net=net) for net in (True, False)]
    return queries


def _glue_columns(synth: Synth) -> dict[str, str]:
    [table] = synth.resources("AWS::Glue::Table").values()
    columns = table["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
    return {c["Name"]: c["Type"] for c in columns}


def test_the_export_and_the_glue_table_carry_the_columns_the_eks_questions_read(guarded: Synth) -> None:
    con = duckdb.connect()
    read: set[str] = set()
    for sql in _eks_queries():
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])  # type: ignore[index]
        assert not tree["error"], tree
        read |= {c.lower() for c in _column_refs(tree["statements"])}
    glue = _glue_columns(guarded)
    added = set(glue) - set(EXPORT_COLUMNS["cur2"])
    assert set(EXPORT_COLUMNS["cur2"]) < set(glue), "the cost questions' columns stay"
    # None added that no EKS question reads; none missing is the bind below (a column the table lacks fails it).
    assert added == set(K8S_EXPORT_COLUMNS) and added <= read, added - read
    [export] = guarded.resources("AWS::BCMDataExports::Export").values()
    statement = export["Properties"]["Export"]["DataQuery"]["QueryStatement"]
    assert statement == query_statement(AthenaSettings(), k8s=True) and "split_line_item_net_split_cost" in statement


def test_every_eks_question_binds_against_the_synthesized_glue_table_on_duckdb(guarded: Synth) -> None:
    """Trino's ``element_at(map, key)`` is the one shim (DuckDB's returns a list): any column the table lacks, or a
    type the SQL cannot use, fails the bind."""
    con = duckdb.connect()
    columns: dict[str, Any] = _glue_columns(guarded)
    con.execute(
        "CREATE TABLE t ("
        + ", ".join(f'"{n}" {DUCKDB_TYPES[k]}' for n, k in columns.items())
        + f", {PARTITION_KEY} VARCHAR)"
    )
    con.execute("CREATE MACRO element_at(m, k) AS m[k]")
    for sql in _eks_queries():
        assert con.execute(sql).fetchall() == []
