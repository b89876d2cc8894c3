"""The Athena SQL files, run with DuckDB on the real CUR sample and the FOCUS sample, agree with the pandas path.

moto's Athena runs no SQL (canned results), so the SQL is executed here. The one dialect shim: Trino's
``element_at(map, key)`` returns the value (NULL when missing); DuckDB's returns a list, so a temporary macro gives
it Trino's meaning. Everything else in the files runs as written.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from costwarden.cost import cur
from costwarden.cost.athena_sql import QueryError, billing_periods, pages_from_rows, render, total_page_from_rows
from costwarden.cost.frame import COST, DATE, UNTAGGED, from_ce_pages, from_focus, read_table

#: ``../shared/data`` beside the repository (CI's clean clone), or one level up from a worktree; the environment
#: variable points elsewhere.
_ROOT = Path(__file__).resolve().parents[3]
DATA = Path(
    os.environ.get("COSTWARDEN_SHARED_DATA")
    or next(
        (p / "data" for p in (_ROOT.parent / "shared", _ROOT.parent.parent / "shared") if (p / "data").exists()),
        _ROOT.parent / "shared" / "data",
    )
)
CUR_DIR = DATA / "aws-cur-wa-labs"
FOCUS_CSV = DATA / "focus" / "focus_sample_1.0_1000.csv"
CUR_FILES = sorted(CUR_DIR.glob("*.parquet"))
EXCLUDED = ("Credit", "Refund", "Tax")

pytestmark = pytest.mark.skipif(not CUR_FILES or not FOCUS_CSV.exists(), reason="shared data samples not present")


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("CREATE TEMP MACRO element_at(m, k) AS m[k]")  # Trino's element_at on a map
    return con


@pytest.fixture(scope="module")
def cur_db() -> duckdb.DuckDBPyConnection:
    """The legacy CUR sample exposed as a CUR 2.0 export table: tags in a ``resource_tags`` map, ``billing_period``."""
    con = _connect()
    files = ", ".join(f"'{p}'" for p in CUR_FILES)
    columns = [
        r[0] for r in con.sql(f"DESCRIBE SELECT * FROM read_parquet([{files}], union_by_name = true)").fetchall()
    ]
    tag_columns = [c for c in columns if c.startswith("resource_tags_user_")]
    tag_map = "MAP {" + ", ".join(f"'{c.removeprefix('resource_tags_')}': {c}" for c in tag_columns) + "}"
    con.sql(
        f"CREATE VIEW cost_export AS SELECT *, strftime(bill_billing_period_start_date, '%Y-%m') AS billing_period, "
        f"{tag_map} AS resource_tags FROM read_parquet([{files}], union_by_name = true)"
    )
    return con


@pytest.fixture(scope="module")
def focus_db() -> duckdb.DuckDBPyConnection:
    con = _connect()
    con.sql(
        "CREATE VIEW cost_export AS SELECT * REPLACE ("
        "CAST(ChargePeriodStart AS TIMESTAMP) AS ChargePeriodStart, "
        "from_json(Tags, '\"MAP(VARCHAR, VARCHAR)\"') AS Tags), "
        "strftime(CAST(BillingPeriodStart AS TIMESTAMP), '%Y-%m') AS billing_period "
        f"FROM read_csv('{FOCUS_CSV}', nullstr = 'NULL', all_varchar = false)"
    )
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = con.sql(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _sql(
    question: str,
    keys: list[str],
    start: date,
    end: date,
    *,
    fmt: Any = "cur2",
    metric: str = "AmortizedCost",
    **more: Any,
) -> str:
    """``render`` on the test table with the default exclusions: each test names only what it varies."""
    return render(
        question,
        fmt,
        table="cost_export",
        start=start,
        end=end,
        keys=keys,
        metric=metric,
        excluded_record_types=EXCLUDED,
        **more,
    )


def _series(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    out = frame.groupby([DATE, key], as_index=False, observed=True)[COST].sum()
    out[DATE] = pd.to_datetime(out[DATE]).dt.strftime("%Y-%m-%d")
    out[key] = out[key].astype(str)
    out = out[out[COST].abs() > 1e-9]
    return out.sort_values([DATE, key]).reset_index(drop=True)


@pytest.mark.parametrize("metric", ["AmortizedCost", "UnblendedCost"])
def test_cur2_daily_by_team_agrees_with_cost_cur(cur_db: duckdb.DuckDBPyConnection, metric: str) -> None:
    tables = [pd.read_parquet(p) for p in CUR_FILES]
    expected = cur.daily_by_team(
        tables, team_tag="department", cost="amortized" if metric == "AmortizedCost" else "unblended"
    )
    start, end = date(2018, 10, 1), date(2019, 1, 1)
    sql = _sql("daily_by_tags", ["department"], start, end, metric=metric)
    pages = pages_from_rows(_rows(cur_db, sql), ["department"], metric, start, end)
    got = _series(from_ce_pages(pages, ["department"], metric), "department")
    want = _series(expected.rename(columns={"team": "department"}), "department")
    assert len(want) > 200  # three months of several teams: a real comparison
    assert got[[DATE, "department"]].equals(want[[DATE, "department"]])
    assert got[COST].to_numpy() == pytest.approx(want[COST].to_numpy(), abs=1e-5)


def test_a_second_key_and_a_partial_window(cur_db: duckdb.DuckDBPyConnection) -> None:
    start, end = date(2018, 11, 20), date(2018, 12, 5)
    sql = _sql("daily_by_tags", ["department", "environment"], start, end)
    pages = pages_from_rows(_rows(cur_db, sql), ["department", "environment"], "AmortizedCost", start, end)
    frame = from_ce_pages(pages, ["department", "environment"], "AmortizedCost")
    assert frame[DATE].min() == pd.Timestamp("2018-11-20") and frame[DATE].max() == pd.Timestamp("2018-12-04")
    tables = [pd.read_parquet(p) for p in CUR_FILES]
    team_only = cur.daily_by_team(tables, team_tag="department")
    window = team_only[(team_only[DATE] >= "2018-11-20") & (team_only[DATE] < "2018-12-05")]
    assert frame[COST].sum() == pytest.approx(window[COST].sum(), abs=1e-4)  # cost.cur rounds to 6 places


def test_daily_by_service_filters_one_team(cur_db: duckdb.DuckDBPyConnection) -> None:
    start, end = date(2018, 10, 1), date(2018, 11, 1)
    by_team = _rows(cur_db, _sql("daily_by_tags", ["department"], start, end))
    team = next(str(r["key_0"]) for r in by_team if r["key_0"])
    service = _rows(cur_db, _sql("daily_by_service", ["department"], start, end, team=team))
    assert service and all(r["key_0"] for r in service)  # every row names its service (product code)
    assert sum(float(r["cost"]) for r in service) == pytest.approx(
        sum(float(r["cost"]) for r in by_team if r["key_0"] == team),
        rel=1e-9,
    )


def test_daily_by_account_sums_to_the_team_series(cur_db: duckdb.DuckDBPyConnection) -> None:
    start, end = date(2018, 12, 1), date(2019, 1, 1)
    accounts = _rows(cur_db, _sql("daily_by_account", ["department"], start, end))
    teams = _rows(cur_db, _sql("daily_by_tags", ["department"], start, end))
    assert {str(r["account_id"]) for r in accounts}
    assert sum(float(r["cost"]) for r in accounts) == pytest.approx(sum(float(r["cost"]) for r in teams), rel=1e-9)


def test_focus_daily_by_tag_agrees_with_from_focus(focus_db: duckdb.DuckDBPyConnection) -> None:
    start, end = date(2024, 9, 1), date(2024, 10, 1)
    sql = _sql("daily_by_tags", ["business_unit"], start, end, fmt="focus")
    pages = pages_from_rows(_rows(focus_db, sql), ["business_unit"], "AmortizedCost", start, end)
    got = _series(from_ce_pages(pages, ["business_unit"], "AmortizedCost"), "business_unit")
    focus = from_focus(read_table(FOCUS_CSV), ["business_unit"], excluded_categories=EXCLUDED)
    assert focus.currency == "USD"
    want = _series(focus.frame, "business_unit")
    assert len(want) > 20
    assert got[[DATE, "business_unit"]].equals(want[[DATE, "business_unit"]])
    assert got[COST].to_numpy() == pytest.approx(want[COST].to_numpy(), abs=1e-9)


@pytest.mark.parametrize("fmt", ["cur2", "focus"])
@pytest.mark.parametrize("question", ["daily_by_tags", "daily_by_service", "daily_by_account"])
def test_every_query_prunes_partitions_and_bounds_the_dates(fmt: str, question: str) -> None:
    sql = _sql(question, ["team"], date(2026, 10, 20), date(2026, 12, 2), fmt=fmt, team="ml")
    where = sql[sql.index("WHERE") :]
    assert re.search(r"billing_period IN \('2026-10', '2026-11', '2026-12'\)", where)
    column = "line_item_usage_start_date" if fmt == "cur2" else "ChargePeriodStart"
    assert f"{column} >= TIMESTAMP '2026-10-20 00:00:00'" in where
    assert f"{column} < TIMESTAMP '2026-12-02 00:00:00'" in where


def test_billing_periods_cross_a_year() -> None:
    assert billing_periods(date(2026, 12, 15), date(2027, 2, 1)) == ["2026-12", "2027-01"]
    assert billing_periods(date(2026, 12, 1), date(2026, 12, 2)) == ["2026-12"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"table": "cost; DROP TABLE x"}, "table name"),
        ({"metric": "NetAmortizedCost"}, "cost_metric NetAmortizedCost is not available"),
        ({"keys": []}, "one or two tag keys"),
        ({"excluded_record_types": ["Tax'--"]}, "record types must be words"),
        ({"end": date(2026, 1, 1)}, "empty window"),
    ],
)
def test_hostile_inputs_are_refused_before_any_sql(changes: dict[str, object], message: str) -> None:
    args: dict[str, Any] = {
        "table": "cost_export",
        "start": date(2026, 1, 1),
        "end": date(2026, 2, 1),
        "keys": ["team"],
        "metric": "AmortizedCost",
        "excluded_record_types": EXCLUDED,
    }
    args.update(changes)
    with pytest.raises(QueryError, match=message):
        render("daily_by_tags", "cur2", **args)


def test_quotes_in_tag_values_are_escaped() -> None:
    sql = _sql("daily_by_service", ["team"], date(2026, 1, 1), date(2026, 1, 2), team="o'brien")
    assert "= 'o''brien'" in sql


def test_total_by_tag_agrees_with_the_daily_series_and_filters_every_key(cur_db: duckdb.DuckDBPyConnection) -> None:
    """The pool alert's "biggest spenders" question (one query) equals the daily series summed over the window, for
    the rows carrying every filter tag; a value with a quote in it is a literal, not SQL."""
    start, end = date(2018, 11, 1), date(2018, 12, 1)
    daily = _sql("daily_by_tags", ["department", "project"], start, end)
    rows = _rows(cur_db, daily)
    departments = sorted({str(r["key_0"]) for r in rows if r["key_0"]})
    assert departments, "the sample carries department tags"
    chosen = departments[0]
    want: dict[str, float] = {}
    for row in rows:
        if row["key_0"] == chosen:
            want[str(row["key_1"])] = want.get(str(row["key_1"]), 0.0) + float(row["cost"])
    sql = _sql("total_by_tag", ["project"], start, end, filters={"department": [chosen, "o'brien"]})
    assert "billing_period IN ('2018-11')" in sql and "'o''brien'" in sql
    [page] = total_page_from_rows(_rows(cur_db, sql), "project", "AmortizedCost", start, end)
    got = {
        g["Keys"][0].removeprefix("project$"): float(g["Metrics"]["AmortizedCost"]["Amount"])
        for g in page["ResultsByTime"][0]["Groups"]
    }
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(want[k], abs=1e-6) for k in want)


class _DuckAthena:
    """The ``Athena`` adapter's query port answered by DuckDB (moto's Athena runs no SQL)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.requests = 0

    def query(self, sql: str) -> list[dict[str, Any]]:
        self.requests += 1
        return _rows(self.con, sql)


def test_untagged_spend_goes_to_the_account_team_as_account_default(cur_db: duckdb.DuckDBPyConnection) -> None:
    from costwarden.services.athena_cost import AthenaCostSource
    from costwarden.settings import AthenaSettings

    start, end = date(2018, 12, 1), date(2019, 1, 1)
    per_account = _rows(cur_db, _sql("daily_by_account", ["department"], start, end))
    untagged: dict[str, float] = {}
    for row in per_account:
        if not row["key_0"]:
            untagged[str(row["account_id"])] = untagged.get(str(row["account_id"]), 0.0) + float(row["cost"])
    assert untagged, "the sample has untagged spend"
    owned, orphan = sorted(untagged)[0], sorted(untagged)[1:]  # one account with a team tag, the others without
    config = AthenaSettings.model_validate({"table": "cost_export", "export_format": "cur2"})
    source = AthenaCostSource(config, _DuckAthena(cur_db), account_teams={owned: "acct-team"})  # type: ignore[arg-type]

    pages = source.daily_by_tags(start, end, ["department"], metric="AmortizedCost", excluded_record_types=EXCLUDED)

    got = from_ce_pages(pages, ["department"], "AmortizedCost")
    by_team = got.groupby("department", observed=True)[COST].sum()
    assert by_team["acct-team"] == pytest.approx(untagged[owned], rel=1e-9)
    assert dict(source.account_default) == pytest.approx({"acct-team": untagged[owned]})
    # An account without a team tag stays untagged; nothing is lost or counted twice.
    assert by_team.get(UNTAGGED, 0.0) == pytest.approx(sum(untagged[a] for a in orphan), abs=1e-6)
    assert got[COST].sum() == pytest.approx(sum(float(r["cost"]) for r in per_account), rel=1e-9)
    assert "line_item_usage_account_id" in source.queries[0]
