"""The unit costs' Athena question (``unitcost/sql/line_items.sql``), run on DuckDB over the CUR 2.0 fixtures, gives
the same unit costs and the same Bedrock reconciliation as the CSV reader of the same files.

moto's Athena runs no SQL, so the SQL is executed here, as the cost and EKS questions' are; the one dialect shim is
Trino's ``element_at(map, key)`` (DuckDB's returns a list): a temporary macro. Athena answers every value as text,
so the rows are handed over as text too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from costwarden.services import unitcost as service
from costwarden.settings import Settings
from costwarden.unitcost import lines as cur
from costwarden.unitcost.athena_sql import render, rows_as_cur
from costwarden.unitcost.usage import COLUMNS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "unitcost"
FILES = ("bedrock_cur2.csv", "sagemaker_cur2.csv")
SETTINGS = Settings()
KEYS = ("team", "model_id")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("CREATE TEMP MACRO element_at(m, k) AS m[k]")
    selects = [
        f"""SELECT CAST(line_item_usage_start_date AS TIMESTAMP) AS line_item_usage_start_date,
            strftime(CAST(line_item_usage_start_date AS TIMESTAMP), '%Y-%m') AS billing_period,
            line_item_line_item_type, line_item_product_code, line_item_usage_type, line_item_resource_id,
            CAST(line_item_usage_amount AS DOUBLE) AS line_item_usage_amount,
            CAST(line_item_unblended_cost AS DOUBLE) AS line_item_unblended_cost,
            CAST(NULL AS DOUBLE) AS reservation_effective_cost,
            CAST(NULL AS DOUBLE) AS savings_plan_savings_plan_effective_cost,
            CAST(CAST(resource_tags AS JSON) AS MAP(VARCHAR, VARCHAR)) AS resource_tags
        FROM read_csv('{FIXTURES / name}', all_varchar = true)"""
        for name in FILES
    ]
    con.sql("CREATE TABLE cur AS " + " UNION ALL ".join(selects))
    return con


def _athena_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The rows as Athena's adapter returns them: every value text, NULL as None."""
    result = con.sql(sql)
    names = [column[0] for column in result.description]
    return [{n: None if v is None else str(v) for n, v in zip(names, row, strict=True)} for row in result.fetchall()]


def _lines(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return service.lines_of(SETTINGS, pd.DataFrame(rows_as_cur(rows, KEYS)), "athena")


def _from_csv() -> pd.DataFrame:
    tables = [cur.read_file(FIXTURES / name) for name in FILES]
    return service.lines_of(SETTINGS, pd.concat(tables, ignore_index=True), "csv")


def _results(lines: pd.DataFrame) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    report = service.unit_costs(SETTINGS, lines, pd.DataFrame(columns=list(COLUMNS)), period="2026-11")
    rows = sorted((r.to_dict() for r in report.results), key=lambda r: (r["model"], r["unit"], r["application"]))
    return rows, report.totals()


def test_the_sql_gives_the_csv_readers_unit_costs_and_reconciliation(con: duckdb.DuckDBPyConnection) -> None:
    sql = render("cur", date(2026, 11, 1), date(2026, 12, 1), KEYS)
    from_sql, from_csv = _results(_lines(_athena_rows(con, sql))), _results(_from_csv())
    assert from_sql == from_csv
    results, totals = from_sql
    assert totals["bedrock"]["reconciled"] is True and totals["bedrock"]["bill_usd"] > 0
    assert {r["unit"] for r in results} == {"1m_tokens", "1k_inferences", "training_run"}
    assert totals["unowned_cost_usd"] == from_csv[1]["unowned_cost_usd"] > 0  # the untagged call stays unowned


def test_credits_refunds_and_taxes_never_reach_the_rows(con: duckdb.DuckDBPyConnection) -> None:
    rows = _athena_rows(con, render("cur", date(2026, 11, 1), date(2026, 12, 1), KEYS))
    assert {r["line_item_line_item_type"] for r in rows} == {"Usage"}
    assert {r["line_item_product_code"] for r in rows} == {"AmazonBedrock", "AmazonSageMaker"}


def test_the_window_prunes_partitions_and_days(con: duckdb.DuckDBPyConnection) -> None:
    sql = render("cur", date(2026, 11, 3), date(2026, 11, 4), KEYS)
    assert "billing_period IN ('2026-11')" in sql
    assert {r["line_item_usage_start_date"] for r in _athena_rows(con, sql)} == {"2026-11-03"}
    across = render("cur", date(2026, 10, 20), date(2026, 12, 1), KEYS)
    assert "billing_period IN ('2026-10', '2026-11')" in across


def test_a_tag_key_reaches_the_sql_only_as_cur_spells_it() -> None:
    sql = render("cur", date(2026, 11, 1), date(2026, 12, 1), ["Team'; DROP TABLE x --", "model_id"])
    assert "'user_team___drop_table_x___'" in sql and "DROP TABLE" not in sql


@pytest.mark.parametrize("table", ["cur; DROP TABLE x", "Cur", ""])
def test_only_a_plain_table_name_reaches_the_sql(table: str) -> None:
    with pytest.raises(cur.UnitCostError, match=r"organization\.athena\.table"):
        render(table, date(2026, 11, 1), date(2026, 12, 1), KEYS)


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(cur.UnitCostError, match="empty window"):
        render("cur", date(2026, 11, 2), date(2026, 11, 2), KEYS)
