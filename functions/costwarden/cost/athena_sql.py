"""The Athena cost questions: render the SQL files (``cost/sql/``) and turn their rows into pages.

Pure: no AWS here. ``services.athena_cost`` runs the rendered query through ``adapters.athena`` and hands the
rows back to ``pages_from_rows``, which answers in Cost Explorer's ``GetCostAndUsage`` page shape, so the cost
monitor, the cache and the detector run unchanged whatever the source (the ``CostSource`` port).

One template per question (``cost/sql/<question>.sql``), written once for both exports: what differs between a
CUR 2.0 and a FOCUS 1.x export (column names, the cost expression per metric, where tags live) is the ``DIALECTS``
map below, filled into the template's ``${usage_start}``, ``${record_type}``, ... placeholders. The window filter
every question shares (the ``billing_period`` partitions, the usage-start range, the excluded record types) is
``cost/sql/window.sql``, so no question can forget the partition pruning.

Only validated values reach the SQL: table and tag names are matched against a pattern (CUR tag columns only
carry ``[a-z0-9_]`` anyway), dates are formatted here, string literals are quoted with ``''`` doubling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from string import Template
from typing import Any, Literal

ExportFormat = Literal["cur2", "focus"]
QUESTIONS = ("daily_by_tags", "daily_by_service", "daily_by_account", "total_by_tag")
_TABLE_RE = re.compile(r"^[a-z0-9_]{1,255}(\.[a-z0-9_]{1,255})?$")
_RECORD_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z ]{0,63}$")

#: CUR 2.0's amortized cost: a reservation's effective cost for covered usage, its unused fees on the RIFee line,
#: no upfront fee line (it is amortized into the others), everything else at its unblended cost.
_CUR2_AMORTIZED = """CASE line_item_line_item_type
    WHEN 'Usage' THEN COALESCE(line_item_unblended_cost, 0)
    WHEN 'DiscountedUsage' THEN COALESCE(reservation_effective_cost, 0)
    WHEN 'RIFee' THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0)
        + COALESCE(reservation_unused_recurring_fee, 0)
    WHEN 'Fee' THEN 0
    ELSE COALESCE(line_item_unblended_cost, 0)
END"""


@dataclass(frozen=True)
class Dialect:
    """What one export format calls the columns the questions read (trusted constants, never user text)."""

    usage_start: str  #: the timestamp a cost is dated by (the day it is charged to)
    record_type: str  #: the line item's kind, matched against ``excluded_record_types`` (Credit, Refund, Tax)
    account: str  #: the member account that used the resource
    service: str  #: the service a cost belongs to (the root-cause grouping)
    tags: str  #: the map column holding user tags (keys as ``tag_column_key`` spells them)
    costs: Mapping[str, str]  #: Cost Explorer metric name -> the SQL expression of one row's cost


#: CUR 2.0 Data Export and FOCUS 1.x Data Export: the only differences the questions see.
DIALECTS: dict[str, Dialect] = {
    "cur2": Dialect(
        usage_start="line_item_usage_start_date",
        record_type="line_item_line_item_type",
        account="line_item_usage_account_id",
        service="line_item_product_code",
        tags="resource_tags",
        costs={
            "AmortizedCost": _CUR2_AMORTIZED,
            "BlendedCost": "COALESCE(line_item_blended_cost, 0)",
            "UnblendedCost": "COALESCE(line_item_unblended_cost, 0)",
        },
    ),
    "focus": Dialect(
        usage_start="ChargePeriodStart",
        record_type="ChargeCategory",
        account="SubAccountId",
        service="ServiceName",
        tags="Tags",
        costs={"AmortizedCost": "COALESCE(EffectiveCost, 0)", "UnblendedCost": "COALESCE(BilledCost, 0)"},
    ),
}


class QueryError(ValueError):
    """A question that cannot be asked (unknown metric for the format, bad name); the message says which."""


def _sql_file(name: str) -> str:
    try:
        return (resources.files("costwarden.cost") / "sql" / f"{name}.sql").read_text()
    except FileNotFoundError:
        raise QueryError(f"no SQL {name}.sql") from None


def quote(value: str) -> str:
    """A SQL string literal (Trino and DuckDB both escape a quote by doubling it)."""
    return "'" + value.replace("'", "''") + "'"


def tag_column_key(fmt: ExportFormat, key: str) -> str:
    """The map key a tag has in the export: CUR 2.0 lower-cases and replaces what is not ``[a-z0-9]`` by ``_``."""
    if fmt == "cur2":
        return "user_" + re.sub(r"[^a-z0-9]", "_", key.lower())
    return key


def tag_expression(fmt: ExportFormat, key: str) -> str:
    """A tag's value in one row, ``''`` when the row does not carry it (the key is quoted: it is user text)."""
    return f"COALESCE(TRIM(element_at({DIALECTS[fmt].tags}, {quote(tag_column_key(fmt, key))})), '')"


def billing_periods(start: date, end: date) -> list[str]:
    """The ``YYYY-MM`` partitions a half-open window ``[start, end)`` touches (what Athena reads)."""
    last = end - timedelta(days=1)
    months = []
    year, month = start.year, start.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def render(
    question: str,
    fmt: ExportFormat,
    *,
    table: str,
    start: date,
    end: date,
    keys: Sequence[str],
    metric: str,
    excluded_record_types: Sequence[str],
    team: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The SQL for one question over ``[start, end)``; ``keys``: one or two tag keys (team first); ``filters``:
    tag key -> accepted values, every key required (``total_by_tag``: an experiment pool's biggest jobs)."""
    if question not in QUESTIONS:
        raise QueryError(f"unknown question {question!r}; known: {', '.join(QUESTIONS)}")
    if not _TABLE_RE.match(table):
        raise QueryError(f"table name {table!r} must match {_TABLE_RE.pattern}")
    if not 1 <= len(keys) <= 2:
        raise QueryError(f"one or two tag keys, got {list(keys)}")
    if end <= start:
        raise QueryError(f"empty window [{start}, {end})")
    bad = [t for t in excluded_record_types if not _RECORD_TYPE_RE.match(t)]
    if bad:
        raise QueryError(f"record types must be words, got {bad}")
    if fmt not in DIALECTS:
        raise QueryError(f"unknown export format {fmt!r}; known: {', '.join(DIALECTS)}")
    dialect = DIALECTS[fmt]
    if metric not in dialect.costs:
        raise QueryError(
            f"settings.anomaly.cost_metric {metric} is not available from a {fmt} export "
            "(cost_source: athena); use AmortizedCost or UnblendedCost"
        )
    columns = {"usage_start": dialect.usage_start, "record_type": dialect.record_type}
    window = Template(_sql_file("window")).substitute(
        columns,
        billing_periods=", ".join(quote(p) for p in billing_periods(start, end)),
        start=f"{start.isoformat()} 00:00:00",
        end=f"{end.isoformat()} 00:00:00",
        excluded=", ".join(quote(t) for t in excluded_record_types) or "''",
    )
    values = columns | {
        "account": dialect.account,
        "service": dialect.service,
        "table": table,
        "cost": dialect.costs[metric],
        "window": window.rstrip("\n"),
        "key_0": tag_expression(fmt, keys[0]),
        "key_1": tag_expression(fmt, keys[1]) if len(keys) > 1 else "''",
        "team": quote(team or ""),
        "filters": "".join(
            f"\n    AND {tag_expression(fmt, key)} IN ({', '.join(quote(v) for v in values) or quote('')})"
            for key, values in (filters or {}).items()
        ),
    }
    return Template(_sql_file(question)).substitute(values)


def pages_from_rows(
    rows: Iterable[Mapping[str, Any]], key_names: Sequence[str], metric: str, start: date, end: date
) -> list[dict[str, Any]]:
    """Rows ``usage_date, key_0[, key_1], cost`` as one ``GetCostAndUsage`` page (every day listed, even empty)."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    day = start
    while day < end:
        by_day[day.isoformat()] = []
        day += timedelta(days=1)
    for row in rows:
        usage_date = str(row["usage_date"])[:10]
        if usage_date not in by_day:
            continue
        values = [str(row.get(f"key_{i}") or "") for i in range(len(key_names))]
        by_day[usage_date].append(
            {
                # Cost Explorer's own shape: "team$ml" for a tag ("team$" untagged), the bare name for a dimension.
                "Keys": [f"{k}${v}" if k != "SERVICE" else v for k, v in zip(key_names, values, strict=True)],
                "Metrics": {metric: {"Amount": str(row["cost"]), "Unit": "USD"}},
            }
        )
    results = [
        {
            "TimePeriod": {"Start": d, "End": (date.fromisoformat(d) + timedelta(days=1)).isoformat()},
            "Total": {},
            "Groups": groups,
            "Estimated": False,
        }
        for d, groups in by_day.items()
    ]
    return [{"ResultsByTime": results, "DimensionValueAttributes": [], "GroupDefinitions": []}]


def total_page_from_rows(
    rows: Iterable[Mapping[str, Any]], group_key: str, metric: str, start: date, end: date
) -> list[dict[str, Any]]:
    """Rows ``key_0, cost`` as one monthly ``GetCostAndUsage`` page grouped by tag ``group_key`` (CE's shape)."""
    groups = [
        {
            "Keys": [f"{group_key}${row.get('key_0') or ''}"],
            "Metrics": {metric: {"Amount": str(row["cost"]), "Unit": "USD"}},
        }
        for row in rows
    ]
    result = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Total": {},
        "Groups": groups,
        "Estimated": False,
    }
    return [{"ResultsByTime": [result], "DimensionValueAttributes": [], "GroupDefinitions": []}]
