"""CUR 2.0 line items as unit costs need them: one row per line item with its day, team, model, token kind and
instance type, amortized cost, credits, refunds and taxes left out.

Read from a Data Export file (CSV or Parquet) or a frame the Athena path returns, with CUR 2.0's column names:
``line_item_usage_start_date``, ``line_item_product_code``, ``line_item_usage_type``, ``line_item_resource_id``,
``line_item_usage_amount``, ``line_item_line_item_type``, ``line_item_unblended_cost`` (plus
``reservation_effective_cost`` / ``savings_plan_savings_plan_effective_cost`` for covered usage), and the
``resource_tags`` map (a JSON object in a CSV export; ``user_<key>`` entries). Legacy flat tag columns
(``resource_tags_user_team``) are read too. Hostile input is an ``UnitCostError`` naming the file, row and column,
never a traceback.

Who owns a line: the team tag of its resource (an application inference profile's tags for Bedrock, the endpoint's
or training job's for SageMaker), else ``unowned`` (``core.owner.UNOWNED_TEAM``): shown as its own row, never spread
over the teams.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from costwarden.core.owner import UNOWNED_TEAM
from costwarden.unitcost.tokens import model_of, token_kind

BEDROCK = "AmazonBedrock"
SAGEMAKER = "AmazonSageMaker"
EXCLUDED_LINE_ITEM_TYPES = frozenset({"Credit", "Refund", "Tax", "SavingsPlanNegation", "BundledDiscount"})
REQUIRED = ("line_item_usage_start_date", "line_item_usage_type", "line_item_unblended_cost")
#: The normalised frame's columns.
COLUMNS = (
    "date",
    "product",
    "usage_type",
    "resource_id",
    "resource",
    "quantity",
    "cost_usd",
    "team",
    "model",
    "application",
    "kind",
    "instance_type",
)
#: Columns with few distinct values (teams, models, usage types) held as categories (the day stays text: ordered).
CATEGORIES = ("product", "usage_type", "resource_id", "resource", "team", "model", "application", "kind",
              "instance_type")  # fmt: skip
_INSTANCE = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")
_PROFILE = re.compile(r"^arn:aws[a-z-]*:bedrock:[^:]*:\d*:application-inference-profile/(?P<id>[A-Za-z0-9._-]+)$")
MAX_ROWS = 20_000_000


class UnitCostError(ValueError):
    """Input unit costs cannot read (a file, a row, a column): the message names where."""


def read_file(path: Path) -> pd.DataFrame:
    """A CUR 2.0 export file (CSV, optionally gzip, or Parquet) as it is; errors name the file."""
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise UnitCostError(f"{path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise UnitCostError(f"{path}: not a readable CSV or Parquet file ({type(error).__name__}: {error})") from None


def _where(source: str, index: int, column: str) -> str:
    return f"{source}: row {index + 2}, column {column}"


def _amounts(table: pd.DataFrame, column: str, source: str) -> pd.Series:
    """A numeric column (blank or missing: 0); a value that is not a finite number names its row."""
    if column not in table.columns:
        return pd.Series(0.0, index=table.index)
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isin([math.inf, -math.inf])
    unread = values.isna() & raw.notna()
    if bool(unread.any()):  # blank cells are zero; anything else that is not a number is an error
        bad |= unread & (raw.astype(str).str.strip() != "")
    if bool(bad.any()):
        first = int(bad.to_numpy().nonzero()[0][0])
        raise UnitCostError(f"{_where(source, first, column)}: not a number: {str(raw.iloc[first])[:40]!r}")
    return values.fillna(0.0).astype(float)


def _day_of(text: object) -> str | None:
    """``2026-11-03T00:00:00Z`` (or a date) -> ``2026-11-03``; None when it does not start with a real date."""
    head = str(text).strip()[:10]
    try:
        return date.fromisoformat(head).isoformat() if len(head) == 10 else None
    except ValueError:
        return None


def _days(table: pd.DataFrame, source: str) -> pd.Series:
    """Each line's UTC day, read once per distinct usage start (a month has 744 hours, not a million)."""
    column = "line_item_usage_start_date"
    days = _each(table[column], _day_of)
    bad = days.isna()
    if bool(bad.any()):
        first = int(bad.to_numpy().nonzero()[0][0])
        shown = str(table[column].iloc[first]).strip()[:40]
        raise UnitCostError(f"{_where(source, first, column)}: not an ISO 8601 date: {shown!r}")
    return days


def _tag_map(raw: Any, where: Callable[[], str]) -> Mapping[str, Any]:
    """One ``resource_tags`` value as a map (JSON in CSV, a mapping or list of pairs from Parquet/Athena); ``where``
    names its row when it is not one."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)) or (isinstance(raw, str) and not raw.strip()):
        return {}
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise UnitCostError(f"{where()}: not a JSON object") from None
    if isinstance(value, list | tuple):  # Parquet maps arrive as (key, value) pairs
        pairs = all(isinstance(p, list | tuple) and len(p) == 2 and isinstance(p[0], str) for p in value)
        value = dict(value) if pairs else None
    if not isinstance(value, Mapping):
        raise UnitCostError(f"{where()}: not a map of tags")
    return value


def _tags(table: pd.DataFrame, keys: Sequence[str], source: str) -> dict[str, pd.Series]:
    """Per tag key, its value per row (stripped, '' when absent): the map's ``user_<key>``, else the flat
    ``resource_tags_user_<key>`` column. Each distinct tag map is parsed once (a resource's tags repeat on every one
    of its lines)."""
    column = table["resource_tags"] if "resource_tags" in table.columns else pd.Series(None, index=table.index)
    hashable = (
        isinstance(column.dtype, pd.StringDtype) or column.map(lambda v: v is None or isinstance(v, str | float)).all()
    )
    if hashable:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    else:  # Parquet maps (dicts, lists of pairs) are not hashable: one per row
        codes, uniques = np.arange(len(column)), column.to_numpy()

    def where(position: int) -> Callable[[], str]:
        return lambda: _where(source, int(np.argmax(codes == position)), "resource_tags")

    maps = [_tag_map(raw, where(n)) for n, raw in enumerate(uniques)]
    out = {}
    for key in keys:
        lookup = np.empty(len(maps) + 1, dtype=object)  # the last: rows without tags (factorize's -1)
        for n, tags in enumerate(maps):
            value = tags.get(f"user_{key}", tags.get(key))
            lookup[n] = value.strip() if isinstance(value, str) else (None if value is None else "")
        values = pd.Series(lookup[codes], index=table.index, dtype=object)
        flat = f"resource_tags_user_{key}"
        if flat in table.columns:  # absent from the map: the legacy column (strings, or blank)
            legacy = _each(table[flat].fillna(""), lambda v: v.strip() if isinstance(v, str) else "")
            values = values.where(values.notna(), legacy)
        out[key] = values.fillna("")
    return out


def _each(values: pd.Series, function: Callable[[str], Any]) -> pd.Series:
    """``function`` of every value, computed once per distinct value."""
    return values.map({value: function(value) for value in values.unique()})


def resource_name(resource_id: str) -> str:
    """The name at the end of an ARN (``.../endpoint/fraud-v3`` -> ``fraud-v3``); the id itself otherwise."""
    return resource_id.rsplit("/", 1)[-1] if resource_id.startswith("arn:") else resource_id


def normalise(table: pd.DataFrame, *, team_key: str, model_key: str, source: str = "CUR") -> pd.DataFrame:
    """The line items unit costs read (``COLUMNS``), one row per line item that is cost (not a credit, refund, tax
    or Savings Plan negation), amortized: covered usage at its effective cost."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise UnitCostError(f"{source}: missing column(s) {', '.join(missing)} (a CUR 2.0 export is expected)")
    if len(table) > MAX_ROWS:
        raise UnitCostError(f"{source}: {len(table):,} rows; at most {MAX_ROWS:,} are read at once (split the month)")
    table = table.reset_index(drop=True)
    line_type = table.get("line_item_line_item_type", pd.Series("Usage", index=table.index)).fillna("Usage")
    unblended = _amounts(table, "line_item_unblended_cost", source)
    cost = unblended.where(line_type != "DiscountedUsage", _amounts(table, "reservation_effective_cost", source))
    cost = cost.where(
        line_type != "SavingsPlanCoveredUsage", _amounts(table, "savings_plan_savings_plan_effective_cost", source)
    )
    days = _days(table, source)
    tags = _tags(table, (team_key, model_key), source)
    teams = tags[team_key].where(tags[team_key] != "", UNOWNED_TEAM)
    models = tags[model_key]
    usage = table["line_item_usage_type"].fillna("").astype(str).str.strip()
    ids = table.get("line_item_resource_id", pd.Series("", index=table.index)).fillna("").astype(str).str.strip()
    product = table.get("line_item_product_code", pd.Series("", index=table.index)).fillna("").astype(str)
    # Per distinct value, not per row: a month holds millions of line items and a few thousand usage types and ids.
    kind = _each(usage, token_kind).where(product == BEDROCK, None)
    out = pd.DataFrame(
        {
            "date": days,
            "product": product,
            "usage_type": usage,
            "resource_id": ids,
            "resource": _each(ids, resource_name),
            "quantity": _amounts(table, "line_item_usage_amount", source),
            "cost_usd": cost,
            "team": teams,
            "model": models,
            "application": _each(ids, lambda i: m.group("id") if (m := _PROFILE.match(i)) else ""),
            "kind": kind,
            "instance_type": _each(usage, lambda u: m.group(0) if (m := _INSTANCE.search(u)) else ""),
        }
    )
    # A token line without a model tag is named by its usage type; any other line without one by its resource.
    untagged = out["model"] == ""
    token = out["kind"].notna()
    out.loc[untagged & token, "model"] = _each(out.loc[untagged & token, "usage_type"], model_of)
    out.loc[untagged & ~token, "model"] = out.loc[untagged & ~token, "resource"]
    out = out[~line_type.isin(EXCLUDED_LINE_ITEM_TYPES).to_numpy()].reset_index(drop=True)
    # Few distinct values over many rows: categories make the grouping and filtering that follow cheap.
    return out.astype(dict.fromkeys(CATEGORIES, "category"))


def hosting(lines: pd.DataFrame) -> pd.DataFrame:
    """SageMaker real-time hosting lines (``...-Host:ml.*``) of endpoints."""
    usage = lines["usage_type"]
    return lines[(lines["product"] == SAGEMAKER) & usage.str.contains("Host:", regex=False)]


def training(lines: pd.DataFrame) -> pd.DataFrame:
    """SageMaker training lines (``...-Train:ml.*``, spot included) by training job."""
    usage = lines["usage_type"]
    return lines[(lines["product"] == SAGEMAKER) & usage.str.contains("Train", regex=False)]


def bedrock(lines: pd.DataFrame) -> pd.DataFrame:
    """Every Bedrock line item (token lines and the rest: provisioned throughput, guardrails, images)."""
    return lines[lines["product"] == BEDROCK]
