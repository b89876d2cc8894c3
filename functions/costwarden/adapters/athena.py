"""Athena: run one query in the Costwarden workgroup and read its rows (every page), counting requests.

The workgroup carries the bytes-scanned limit (infra), so a query that would read too much is cancelled by Athena
itself. A query still running after ``max_wait_seconds`` is stopped here and reported: the Lambda never runs into
its own timeout with a query left running.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from costwarden.adapters import aws

DONE_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaQueryError(RuntimeError):
    """The query failed, was cancelled or timed out; the message carries Athena's reason and the query id."""


@dataclass
class Athena:
    workgroup: str
    database: str
    client: Any = None
    poll_seconds: float = 1.0
    max_wait_seconds: float = 240.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    throttled: int = 0
    bytes_scanned: int = 0

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = aws.client("athena")

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.requests += 1
        response: dict[str, Any] = getattr(self.client, operation)(**params)
        return response

    def query(self, sql: str) -> list[dict[str, str | None]]:
        """Rows as ``{column: text}`` (Athena returns every value as text; NULL as a missing ``VarCharValue``)."""
        started = self._call(
            "start_query_execution",
            QueryString=sql,
            QueryExecutionContext={"Database": self.database},
            WorkGroup=self.workgroup,
        )
        query_id = started["QueryExecutionId"]
        deadline = self.clock() + self.max_wait_seconds
        while True:
            execution = self._call("get_query_execution", QueryExecutionId=query_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State", "")
            if state in DONE_STATES:
                break
            if self.clock() >= deadline:
                self._call("stop_query_execution", QueryExecutionId=query_id)
                raise AthenaQueryError(f"query {query_id} still {state} after {self.max_wait_seconds:.0f} s: stopped")
            self.sleep(self.poll_seconds)
        if state != "SUCCEEDED":
            reason = status.get("StateChangeReason", "no reason given")
            raise AthenaQueryError(f"query {query_id} {state}: {reason}")
        self.bytes_scanned += int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
        return self._rows(query_id)

    def _rows(self, query_id: str) -> list[dict[str, str | None]]:
        rows: list[dict[str, str | None]] = []
        columns: list[str] = []
        params: dict[str, Any] = {"QueryExecutionId": query_id}
        first = True
        while True:
            page = self._call("get_query_results", **params)
            result_set = page.get("ResultSet", {})
            if not columns:
                columns = [c["Name"] for c in result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
            raw_rows = result_set.get("Rows", [])
            if first and raw_rows:  # the first row of the first page repeats the column names
                raw_rows = raw_rows[1:]
            first = False
            for raw in raw_rows:
                values = [d.get("VarCharValue") for d in raw.get("Data", [])]
                rows.append(dict(zip(columns, values, strict=False)))
            token = page.get("NextToken")
            if not token:
                return rows
            params = {"QueryExecutionId": query_id, "NextToken": token}
