"""Normalise cost data from every source into one long frame: ``date, <key columns...>, cost_usd, estimated``.

Sources: Cost Explorer ``GetCostAndUsage`` pages (amounts are decimal strings, tag group keys look like
``team$ml`` and ``team$`` when untagged), a CSV or Parquet file with ``date``, key column(s) and ``cost_usd``, or a
FOCUS 1.x export (tags in its ``Tags`` JSON column). Detection and everything after it only ever see this frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

UNTAGGED = "(untagged)"
COST = "cost_usd"
DATE = "date"
ESTIMATED = "estimated"

#: FOCUS ChargeCategory values that are not usage; left out like Cost Explorer's record-type filter does.
FOCUS_EXCLUDED_CATEGORIES = ("Credit", "Tax")
#: FOCUS columns that identify a FOCUS file (all FOCUS 1.x exports carry them).
FOCUS_MARKERS = ("ChargePeriodStart", "BilledCost", "ChargeCategory")
MAX_LISTED_COLUMNS = 40
#: Text columns with up to this many distinct values are read as dictionaries (categoricals): keys and dates.
MAX_DICTIONARY_VALUES = 200_000


class FrameError(ValueError):
    """Input that cannot become a cost frame; the message names what is missing and what was found."""


def empty_frame(keys: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            DATE: pd.Series([], dtype="datetime64[ns]"),
            **{key: pd.Series([], dtype=object) for key in keys},
            COST: pd.Series([], dtype=float),
            ESTIMATED: pd.Series([], dtype=bool),
        }
    )


def _tag_value(raw: str, key: str) -> str:
    """``team$ml`` -> ``ml``; ``team$`` (cost without the tag) -> ``(untagged)``."""
    prefix, sep, value = raw.partition("$")
    if not sep:  # a DIMENSION group (e.g. SERVICE) has no "key$" prefix
        return raw or UNTAGGED
    del prefix
    value = value.strip()
    return value if value else UNTAGGED


def from_ce_pages(pages: Iterable[Mapping[str, Any]], keys: Sequence[str], metric: str) -> pd.DataFrame:
    """Flatten ``GetCostAndUsage`` responses (DAILY, grouped by up to two keys) into the long frame.

    Days without any group still mark the date as seen (an empty day is zero spend, not missing data).
    Amounts are decimal strings; a group without the metric counts as 0.
    """
    dates: list[str] = []
    key_values: list[list[str]] = [[] for _ in keys]
    costs: list[float] = []
    estimated: list[bool] = []
    for page in pages:
        for result in page.get("ResultsByTime", []):
            start = result["TimePeriod"]["Start"]
            is_estimated = bool(result.get("Estimated", False))
            for group in result.get("Groups", []):
                group_keys = group.get("Keys", [])
                if len(group_keys) != len(keys):
                    raise FrameError(f"expected {len(keys)} group keys {list(keys)}, got {group_keys}")
                amount = group.get("Metrics", {}).get(metric, {}).get("Amount", "0")
                dates.append(start)
                for index, key in enumerate(keys):
                    key_values[index].append(_tag_value(group_keys[index], key))
                costs.append(float(amount))
                estimated.append(is_estimated)
    if not dates:
        return empty_frame(keys)
    return pd.DataFrame(
        {
            DATE: pd.to_datetime(pd.Series(dates), format="%Y-%m-%d"),
            **{key: key_values[i] for i, key in enumerate(keys)},
            COST: np.asarray(costs, dtype=float),
            ESTIMATED: np.asarray(estimated, dtype=bool),
        }
    )


def ce_dates(pages: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    """Every day a set of pages answered for, with its ``Estimated`` flag (also days with no groups)."""
    return {
        result["TimePeriod"]["Start"]: bool(result.get("Estimated", False))
        for page in pages
        for result in page.get("ResultsByTime", [])
    }


# ---------------------------------------------------------------------------------------------------- files


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame, read with pyarrow (fast) and kept as strings where text.

    ``NULL`` (FOCUS's marker for a missing value) and empty cells become missing values.
    """
    if not path.exists():
        raise FrameError(f"no such file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            text_columns = [f.name for f in schema if str(f.type) in {"string", "large_string"}]
            table = pq.read_table(path, read_dictionary=text_columns)
        else:
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    null_values=["", "NULL", "null"],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    auto_dict_encode=True,  # repeated keys (teams) arrive as categoricals: cheap to group
                    auto_dict_max_cardinality=MAX_DICTIONARY_VALUES,
                ),
            )
    except FrameError:
        raise
    except Exception as error:  # pyarrow raises its own hierarchy (ArrowInvalid, OSError, ...)
        raise FrameError(f"cannot read {path}: {error}") from None
    return table.to_pandas(date_as_object=False)


def is_focus(table: pd.DataFrame) -> bool:
    return all(column in table.columns for column in FOCUS_MARKERS)


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        names = [str(c) for c in table.columns]
        found = ", ".join(names[:MAX_LISTED_COLUMNS])
        if len(names) > MAX_LISTED_COLUMNS:
            found += f", ... ({len(names) - MAX_LISTED_COLUMNS} more)"
        hint = ""
        if any(name.startswith("line_item_") for name in names):
            hint = " (a Cost and Usage Report? derive a daily CSV first: python -m costwarden.cost.cur)"
        raise FrameError(f"{what} needs column(s) {', '.join(missing)}; the file has: {found}{hint}")


def _clean_key(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return UNTAGGED
    text = str(value).strip()
    return text if text else UNTAGGED


def _key_series(values: pd.Series) -> pd.Series:
    """Key values as clean strings (stripped; ``(untagged)`` for missing or blank), as a categorical.

    Cleaning happens once per distinct value, not once per row: 900,000 rows of 10,000 teams clean 10,000 strings.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = [_clean_key(u) for u in np.asarray(uniques, dtype=object)] + [UNTAGGED]
    clean_codes, clean_uniques = pd.factorize(np.asarray(cleaned, dtype=object))
    remapped = clean_codes[codes]  # code -1 (missing) picks the trailing UNTAGGED entry
    categorical = pd.Categorical.from_codes(remapped, categories=pd.Index(clean_uniques, dtype=object))
    return pd.Series(categorical, index=values.index)


def from_table(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """A plain cost table (``date``, key columns, ``cost_usd``, optional ``estimated``) as the long frame."""
    _require(table, [DATE, *keys, COST], "a cost file")
    dates = table[DATE]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        # Parse each distinct date once (90 days in 900,000 rows), then spread by code.
        codes, uniques = pd.factorize(dates, use_na_sentinel=True)
        if (codes < 0).any():
            raise FrameError(f"column {DATE} has empty values")
        try:
            text = pd.Series(np.asarray(uniques, dtype=object)).astype(str).str.slice(0, 10)
            parsed = pd.to_datetime(text, format="%Y-%m-%d").to_numpy()
        except ValueError as error:
            raise FrameError(f"column {DATE} must hold YYYY-MM-DD dates: {error}") from None
        dates = pd.Series(parsed[codes], index=table.index)
    elif getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    costs = pd.to_numeric(table[COST], errors="coerce")
    if costs.isna().any():
        bad = table.loc[costs.isna(), COST].head(3).tolist()
        raise FrameError(f"column {COST} must be numeric; found {bad}")
    out = pd.DataFrame({DATE: dates.dt.floor("D").astype("datetime64[ns]")})
    for key in keys:
        out[key] = _key_series(table[key]).array
    out[COST] = costs.astype(float).to_numpy()
    out[ESTIMATED] = table[ESTIMATED].astype(bool).to_numpy() if ESTIMATED in table.columns else False
    return out


def _normalised_tags(raw: object) -> dict[str, str]:
    """A FOCUS ``Tags`` cell as {key: value}: keys stripped (``' org'`` is ``org``), first non-blank value wins."""
    if not isinstance(raw, str) or not raw or raw == "NULL":
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    tags: dict[str, str] = {}
    for key, value in parsed.items():
        name = str(key).strip()
        text = "" if value is None else str(value).strip()
        if text and not tags.get(name):
            tags[name] = text
    return tags


def from_focus(
    table: pd.DataFrame, keys: Sequence[str], *, excluded_categories: Sequence[str] = FOCUS_EXCLUDED_CATEGORIES
) -> pd.DataFrame:
    """A FOCUS 1.x export as the long frame.

    Cost is ``EffectiveCost`` (amortised, like Cost Explorer's AmortizedCost; ``BilledCost`` if absent); rows whose
    ``ChargeCategory`` is a credit or tax are left out, like the Cost Explorer record-type filter. A key is a FOCUS
    column if the file has one of that name (e.g. ``SubAccountName``), otherwise a tag from ``Tags``.
    """
    cost_column = "EffectiveCost" if "EffectiveCost" in table.columns else "BilledCost"
    _require(table, ["ChargePeriodStart", cost_column, "ChargeCategory"], "a FOCUS file")
    tag_keys = [key for key in keys if key not in table.columns]
    if tag_keys:
        _require(table, ["Tags"], f"FOCUS key(s) {', '.join(tag_keys)} (read from tags)")
    rows = table.loc[~table["ChargeCategory"].isin(list(excluded_categories))]
    starts = pd.to_datetime(rows["ChargePeriodStart"].astype(str).str.slice(0, 10), format="%Y-%m-%d")
    out = pd.DataFrame({DATE: starts.to_numpy()})
    if tag_keys:
        parsed = [_normalised_tags(raw) for raw in rows["Tags"].tolist()]
    for key in keys:
        if key in table.columns:
            out[key] = _key_series(rows[key].reset_index(drop=True))
        else:
            out[key] = [tags.get(key) or UNTAGGED for tags in parsed]
    out[COST] = pd.to_numeric(rows[cost_column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    out[ESTIMATED] = False
    return out


def read_costs(path: Path, keys: Sequence[str]) -> pd.DataFrame:
    """Any supported file (CSV/Parquet cost table or FOCUS export, detected by its columns) as the long frame."""
    table = read_table(path)
    if is_focus(table):
        return from_focus(table, keys)
    return from_table(table, keys)
