"""Athena through botocore's Stubber, in the shapes the real API returns: a query is StartQueryExecution, then
GetQueryExecution (SUCCEEDED) and GetQueryResults, whose first row repeats the column names and whose every value is
text (``VarCharValue``; NULL a cell without one). moto's Athena runs no SQL; these answer what the SQL would.

``stubbed`` builds an adapter on a stubbed client of its own (the failure paths); ``answer`` queues one query's
answer on any stubbed client (the handlers' cached ``adapters.aws.client("athena")``); ``fact_rows`` turns EKS facts
(``models.k8s``) into the rows the EKS questions' SQL returns, so a test states facts, not strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import boto3
from botocore.stub import ANY, Stubber
from costwarden.adapters.athena import Athena
from costwarden.models.k8s import GroupDay, NodeDay

WORKGROUP, DATABASE = "costwarden", "costwarden_cost"  # the defaults of organization.athena
#: A fact's field -> the column the EKS SQL names it (``k8s/sql/group_day.sql``, ``node_day.sql``).
SQL_NAMES = {"date": "usage_date", "key": "group_key"}


def row(*values: str | None) -> dict[str, Any]:
    """One ``ResultSet`` row: text values, ``None`` as Athena's NULL (a cell without ``VarCharValue``)."""
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


def stubbed(responses: list[tuple[str, dict[str, Any]]]) -> tuple[Athena, Stubber]:
    """An adapter whose client answers ``responses`` in order (no sleeping; a clock that ticks a second per read)."""
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    for operation, response in responses:
        stubber.add_response(operation, response)
    stubber.activate()
    ticks = iter(range(1000))
    athena = Athena(
        WORKGROUP,
        DATABASE,
        client=client,
        sleep=lambda _s: None,
        clock=lambda: float(next(ticks)),
        max_wait_seconds=2,
    )
    return athena, stubber


def answer(stubber: Stubber, columns: Sequence[str], rows: Iterable[Sequence[str | None]], *, query_id: str) -> None:
    """Queue one query's three calls: started in the Athena path's workgroup and database, SUCCEEDED, one page."""
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": query_id},
        {"QueryString": ANY, "QueryExecutionContext": {"Database": DATABASE}, "WorkGroup": WORKGROUP},
    )
    stubber.add_response(
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": query_id,
                "Status": {"State": "SUCCEEDED"},
                "Statistics": {"DataScannedInBytes": 1_048_576},
            }
        },
        {"QueryExecutionId": query_id},
    )
    meta = {"ColumnInfo": [{"Name": c, "Type": "varchar"} for c in columns]}
    page = {"Rows": [row(*columns), *(row(*r) for r in rows)], "ResultSetMetadata": meta}
    stubber.add_response("get_query_results", {"ResultSet": page}, {"QueryExecutionId": query_id})


def fail(stubber: Stubber, reason: str, *, query_id: str) -> None:
    """Queue one query that Athena reports FAILED with ``reason``."""
    stubber.add_response("start_query_execution", {"QueryExecutionId": query_id})
    status = {"State": "FAILED", "StateChangeReason": reason}
    stubber.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": query_id, "Status": status}})


def fact_rows(facts: Sequence[GroupDay | NodeDay]) -> tuple[list[str], list[list[str | None]]]:
    """The EKS SQL's columns and text rows for ``facts`` (all of one kind), as Athena would return them."""
    names = [f.name for f in dataclasses.fields(facts[0]) if f.name != "by"] if facts else ["usage_date"]
    columns = [SQL_NAMES.get(name, name) for name in names]
    return columns, [[str(getattr(fact, name)) for name in names] for fact in facts]


def answer_facts(stubber: Stubber, facts: Sequence[GroupDay | NodeDay], *, query_id: str) -> None:
    """Queue one EKS question answered with ``facts``."""
    columns, rows = fact_rows(facts)
    answer(stubber, columns, rows, query_id=query_id)
