"""The Athena question of unit costs: the month's SageMaker and Bedrock line items, rendered from
``unitcost/sql/line_items.sql`` and read back as the CUR 2.0 columns ``unitcost.lines.normalise`` takes.

Partition-pruned on ``billing_period`` and the usage-start window like the cost monitor's questions (``cost/sql``),
run through the same Athena adapter, workgroup and table, so it needs no grant the Athena path does not already have.
Checked on DuckDB against the CSV reader (``tests/unit/unitcost/test_athena_sql.py``): the same line items give the
same normalised frame.

Only validated values reach the SQL: the table name is matched against a pattern, tag keys are spelled as CUR 2.0
spells them (``user_`` + ``[a-z0-9_]``), dates are formatted here. Athena returns every value as text and a
``map`` column as ``{k=v}`` text, so each tag the unit costs read is its own column (``tag_0``, ``tag_1``), renamed
here to the flat ``resource_tags_user_<key>`` columns ``normalise`` reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from importlib import resources
from string import Template
from typing import Any

from costwarden.unitcost.lines import EXCLUDED_LINE_ITEM_TYPES, UnitCostError

_TABLE = re.compile(r"^[a-z0-9_]{1,255}(\.[a-z0-9_]{1,255})?$")
#: The grouped columns before the tags (usage day, product, usage type, resource id, line item type).
_GROUPED = 5


def cur_tag_key(key: str) -> str:
    """The ``resource_tags`` map key of a user tag: CUR 2.0 lower-cases it and writes ``_`` for what is not
    ``[a-z0-9]`` (so the key is safe inside a SQL string literal)."""
    return "user_" + re.sub(r"[^a-z0-9]", "_", key.lower())


def _months(start: date, end: date) -> list[str]:
    """The ``YYYY-MM`` partitions of ``[start, end)``."""
    first, last = start.year * 12 + start.month - 1, (end.year * 12 + end.month - 1) - (end.day == 1)
    return [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(first, last + 1)]


def render(table: str, start: date, end: date, tag_keys: Sequence[str]) -> str:
    """The SQL of the SageMaker and Bedrock line items of ``[start, end)`` with one column per tag in ``tag_keys``
    (the team and model keys)."""
    if not _TABLE.match(table):
        raise UnitCostError(f"organization.athena.table {table!r} must match {_TABLE.pattern}")
    if end <= start:
        raise UnitCostError(f"empty window [{start}, {end})")
    tags = ",\n    ".join(
        f"COALESCE(TRIM(element_at(resource_tags, '{cur_tag_key(key)}')), '') AS tag_{n}"
        for n, key in enumerate(tag_keys)
    )
    return Template(_sql()).substitute(
        table=table,
        tag_columns=tags,
        billing_periods=", ".join(f"'{month}'" for month in _months(start, end)),
        start=f"{start.isoformat()} 00:00:00",
        end=f"{end.isoformat()} 00:00:00",
        excluded=", ".join(f"'{kind}'" for kind in sorted(EXCLUDED_LINE_ITEM_TYPES)),
        group_by=", ".join(str(n) for n in range(1, _GROUPED + len(tag_keys) + 1)),
    )


def _sql() -> str:
    return (resources.files("costwarden.unitcost") / "sql" / "line_items.sql").read_text(encoding="utf-8")


def rows_as_cur(rows: Iterable[Mapping[str, Any]], tag_keys: Sequence[str]) -> list[dict[str, Any]]:
    """The query's rows with CUR 2.0's column names (``tag_<n>`` -> ``resource_tags_user_<key>``)."""
    names = {f"tag_{n}": f"resource_tags_user_{key}" for n, key in enumerate(tag_keys)}
    return [{names.get(column, column): value for column, value in row.items()} for row in rows]
