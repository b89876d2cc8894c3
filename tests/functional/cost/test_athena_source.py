"""``cost_source: athena``: the Athena adapter's call sequence on moto (which runs no SQL: canned rows), the
failure paths with botocore's Stubber, and the source answering in Cost Explorer's page shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from costwarden.adapters.athena import Athena, AthenaQueryError
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.cost.frame import COST, from_ce_pages
from costwarden.services.athena_cost import AthenaCostSource, cost_source
from costwarden.settings import AthenaSettings, Settings
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from tests.support.athena import row, stubbed


@pytest.fixture
def athena_client() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("athena", region_name="us-east-1")
        client.create_work_group(Name="costwarden", Configuration={"BytesScannedCutoffPerQuery": 10_485_760})
        yield client


def test_one_query_per_question_in_the_workgroup(athena_client: Any) -> None:
    columns = [{"Name": n, "Type": "varchar"} for n in ("usage_date", "key_0", "key_1", "cost")]
    athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].query_results_queue.append(
        QueryResults(
            rows=[
                row("usage_date", "key_0", "key_1", "cost"),
                row("2026-11-01", "ml", "", "120.5"),
                row("2026-11-01", "", "", "3.25"),
                row("2026-11-02", "ml", "", "99"),
            ],
            column_info=columns,
        )
    )
    config = AthenaSettings()
    source = AthenaCostSource(config, Athena(config.workgroup, config.database, client=athena_client))
    pages = source.daily_by_tags(
        date(2026, 11, 1), date(2026, 11, 4), ["team"], metric="AmortizedCost", excluded_record_types=["Credit"]
    )
    # StartQueryExecution + GetQueryExecution (moto answers SUCCEEDED at once) + one GetQueryResults page.
    assert source.requests == 3
    assert "billing_period IN ('2026-11')" in source.queries[0]
    execution = athena_client.list_query_executions(WorkGroup="costwarden")["QueryExecutionIds"]
    assert len(execution) == 1
    frame = from_ce_pages(pages, ["team"], "AmortizedCost")
    assert frame.groupby("team")[COST].sum().to_dict() == {"unowned": 3.25, "ml": 219.5}
    assert len(pages[0]["ResultsByTime"]) == 3  # 2026-11-03 has no rows: still a day, with zero spend


def test_a_failed_query_names_athena_reason() -> None:
    athena, stubber = stubbed(
        [
            ("start_query_execution", {"QueryExecutionId": "q-1"}),
            (
                "get_query_execution",
                {
                    "QueryExecution": {
                        "QueryExecutionId": "q-1",
                        "Status": {"State": "FAILED", "StateChangeReason": "Bytes scanned limit was exceeded"},
                    }
                },
            ),
        ]
    )
    with pytest.raises(AthenaQueryError, match="q-1 FAILED: Bytes scanned limit was exceeded"):
        athena.query("SELECT 1")
    stubber.assert_no_pending_responses()


def test_a_query_running_too_long_is_stopped() -> None:
    running = {"QueryExecution": {"QueryExecutionId": "q-2", "Status": {"State": "RUNNING"}}}
    athena, stubber = stubbed(
        [
            ("start_query_execution", {"QueryExecutionId": "q-2"}),
            ("get_query_execution", running),
            ("get_query_execution", running),
            ("stop_query_execution", {}),
        ]
    )
    with pytest.raises(AthenaQueryError, match="q-2 still RUNNING after 2 s: stopped"):
        athena.query("SELECT 1")
    stubber.assert_no_pending_responses()


def test_result_pages_are_all_read() -> None:
    meta = {"ColumnInfo": [{"Name": "a", "Type": "varchar"}]}
    athena, stubber = stubbed(
        [
            ("start_query_execution", {"QueryExecutionId": "q-3"}),
            ("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-3", "Status": {"State": "SUCCEEDED"}}}),
            (
                "get_query_results",
                {"ResultSet": {"Rows": [row("a"), row("1")], "ResultSetMetadata": meta}, "NextToken": "t"},
            ),
            ("get_query_results", {"ResultSet": {"Rows": [row("2"), row(None)], "ResultSetMetadata": meta}}),
        ]
    )
    assert athena.query("SELECT a") == [{"a": "1"}, {"a": "2"}, {"a": None}]
    assert athena.requests == 4
    stubber.assert_no_pending_responses()


def test_the_setting_picks_the_source(athena_client: Any) -> None:
    assert isinstance(cost_source(Settings.model_validate({"cost_source": "athena"})), AthenaCostSource)
    assert isinstance(cost_source(Settings()), CostExplorer)
