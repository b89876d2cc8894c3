"""The Athena cost questions: render the SQL files (``cost/sql/<format>/``) and turn their rows into pages.

Pure: no AWS here. ``services.athena_cost`` runs the rendered query through ``adapters.athena`` and hands the
rows back to ``pages_from_rows``, which answers in Cost Explorer's ``GetCostAndUsage`` page shape, so the cost
monitor, the cache and the detector run unchanged whatever the source (the ``CostSource`` port).

Only validated values reach the SQL: table and tag names are matched against a pattern (CUR tag columns only
carry ``[a-z0-9_]`` anyway), dates are formatted here, string literals are quoted with ``''`` doubling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from importlib import resources
from string import Template
from typing import Any, Literal

ExportFormat = Literal["cur2", "focus"]
QUESTIONS = ("daily_by_tags", "daily_by_service", "daily_by_account", "total_by_tag")
_TABLE_RE = re.compile(r"^[a-z0-9_]{1,255}(\.[a-z0-9_]{1,255})?$")
_RECORD_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z ]{0,63}$")
#: The column holding tags, per format: CUR 2.0 keeps user tags as ``user_<key>`` in the ``resource_tags`` map;
#: FOCUS keeps them under their own names in ``Tags``.
_TAG_MAP = {"cur2": ("resource_tags", "user_"), "focus": ("Tags", "")}


class QueryError(ValueError):
    """A question that cannot be asked (unknown metric for the format, bad name); the message says which."""


def _sql_file(fmt: str, name: str) -> str:
    try:
        return (resources.files("costwarden.cost") / "sql" / fmt / f"{name}.sql").read_text()
    except FileNotFoundError:
        raise QueryError(f"no SQL {fmt}/{name}.sql") from None


def quote(value: str) -> str:
    """A SQL string literal (Trino and DuckDB both escape a quote by doubling it)."""
    return "'" + value.replace("'", "''") + "'"


def tag_column_key(fmt: ExportFormat, key: str) -> str:
    """The map key a tag has in the export: CUR 2.0 lower-cases and replaces what is not ``[a-z0-9]`` by ``_``."""
    if fmt == "cur2":
        return "user_" + re.sub(r"[^a-z0-9]", "_", key.lower())
    return key


def tag_expression(fmt: ExportFormat, key: str) -> str:
    column, _ = _TAG_MAP[fmt]
    return f"COALESCE(TRIM(element_at({column}, {quote(tag_column_key(fmt, key))})), '')"


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
    try:
        cost = _sql_file(fmt, f"cost_{metric}").strip()
    except QueryError:
        raise QueryError(
            f"settings.anomaly.cost_metric {metric} is not available from a {fmt} export "
            "(cost_source: athena); use AmortizedCost or UnblendedCost"
        ) from None
    excluded = ", ".join(quote(t) for t in excluded_record_types) or "''"
    values = {
        "table": table,
        "cost": cost,
        "key_0": tag_expression(fmt, keys[0]),
        "key_1": tag_expression(fmt, keys[1]) if len(keys) > 1 else "''",
        "billing_periods": ", ".join(quote(p) for p in billing_periods(start, end)),
        "start": f"{start.isoformat()} 00:00:00",
        "end": f"{end.isoformat()} 00:00:00",
        "excluded": excluded,
        "team": quote(team or ""),
        "filters": "".join(
            f"\n    AND {tag_expression(fmt, key)} IN ({', '.join(quote(v) for v in values) or quote('')})"
            for key, values in (filters or {}).items()
        ),
    }
    return Template(_sql_file(fmt, question)).substitute(values)


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
