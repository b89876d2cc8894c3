"""Normalise cost data from every source into one long frame: ``date, <key columns...>, cost_usd, estimated``.

Sources: Cost Explorer ``GetCostAndUsage`` pages (amounts are decimal strings, tag group keys look like
``team$ml`` and ``team$`` when untagged), a CSV or Parquet file with ``date``, key column(s) and ``cost_usd``, or a
FOCUS 1.x export (tags in its ``Tags`` JSON column). Detection and everything after it only ever see this frame.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from costwarden.core.owner import UNOWNED_TEAM, owner_label

#: Spend without a value for a key: the one owner label (``core.owner``; ``(untagged)`` before 2026-12, still read).
UNTAGGED = UNOWNED_TEAM
COST = "cost_usd"
DATE = "date"
ESTIMATED = "estimated"

#: FOCUS columns that identify a FOCUS file (all FOCUS 1.x exports carry them).
FOCUS_MARKERS = ("ChargePeriodStart", "BilledCost", "ChargeCategory")
MAX_LISTED_COLUMNS = 40
#: Text columns with up to this many distinct values are read as dictionaries (categoricals): keys and dates.
MAX_DICTIONARY_VALUES = 200_000
#: Largest amount one row may hold, in any currency (a quadrillion): beyond it sums could overflow to ``inf``.
MAX_AMOUNT = 1e15
#: The currency a file without a currency column is taken to be in (the ``cost_usd`` contract).
DEFAULT_CURRENCY = "USD"
#: Columns that carry a row's currency in a plain cost table (FOCUS: ``BillingCurrency``), first found wins.
CURRENCY_COLUMNS = ("currency", "BillingCurrency", "billing_currency", "line_item_currency_code")
#: Days the frame can hold (pandas keeps dates in nanoseconds: 1677-09-21 .. 2262-04-11); whole days inside it.
FIRST_DAY, LAST_DAY = np.datetime64("1678-01-01", "D"), np.datetime64("2261-12-31", "D")


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

#: ``table.attrs`` key saying how rows are named in messages: CSV rows by file line (header is line 1), others by
#: 1-based row number.
_ROW_NAMING = "costwarden_row_naming"


@dataclass
class CostInput:
    """A cost file as the long frame, with the currency its amounts are in and what was left out (for the user)."""

    frame: pd.DataFrame
    currency: str = DEFAULT_CURRENCY
    notes: list[str] = field(default_factory=list)


def row_name(table: pd.DataFrame, label: object) -> str:
    """Where a row is, in the words the user's editor uses: ``line 14`` of a CSV, ``row 13`` of a Parquet file."""
    position = int(label)  # type: ignore[call-overload]
    if table.attrs.get(_ROW_NAMING) == "csv":
        return f"line {position + 2}"  # the header is line 1
    return f"row {position + 1}"


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise FrameError(f"unknown text encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None


def _first_undecodable(table: Any) -> tuple[str, int, bytes] | None:
    """The first (column, row, value) of a pyarrow table that is not UTF-8 text: pyarrow reads such columns as
    binary, which pandas would turn into ``b'...'`` strings."""
    import pyarrow as pa

    for name in table.column_names:
        column = table.column(name)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
            continue
        for position, value in enumerate(column.to_pylist()):
            if value is None:
                continue
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return name, position, value
    return None


def read_table(path: Path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame, read with pyarrow (fast) and kept as strings where text.

    ``NULL`` (FOCUS's marker for a missing value) and empty cells become missing values. A CSV is UTF-8 unless
    ``encoding`` says otherwise; text that does not decode is an error naming its line, never ``b'...'`` keys.
    """
    if not path.exists():
        raise FrameError(f"no such file: {path}")
    suffix = path.suffix.lower()
    is_csv = suffix not in {".parquet", ".pq"}
    encoding = _check_encoding(encoding)
    try:
        if not is_csv:
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            text_columns = [f.name for f in schema if str(f.type) in {"string", "large_string"}]
            table = pq.read_table(path, read_dictionary=text_columns)
        else:
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding),
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
    if is_csv:
        bad = _first_undecodable(table)
        if bad is not None:
            name, position, value = bad
            shown = value.decode("utf-8", errors="replace")
            raise FrameError(
                f"{path}: line {position + 2}, column {name}: {shown!r} is not UTF-8 text; save the file as UTF-8 "
                f"or give its encoding, e.g. --encoding latin-1"
            )
    frame = table.to_pandas(date_as_object=False)
    frame.attrs[_ROW_NAMING] = "csv" if is_csv else "rows"
    return frame


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
    if isinstance(value, bytes):  # a binary Parquet column: text only if it is UTF-8
        try:
            text = value.decode("utf-8").strip()
        except UnicodeDecodeError:
            shown = value.decode("utf-8", errors="replace")
            raise FrameError(f"key value {shown!r} is not UTF-8 text") from None
    else:
        text = str(value).strip()
    return owner_label(text) if text else UNTAGGED  # a CSV derived before 2026-12 says "(untagged)"


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


def _booleans(values: pd.Series) -> np.ndarray:
    """A flag column as booleans; text ``true``/``1``/``yes`` (any case) is true, so ``"false"`` is not."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return np.asarray(values.fillna(False).astype(bool).to_numpy(), dtype=bool)
    text = values.astype("string").str.strip().str.lower()
    return np.asarray(text.isin(["true", "1", "yes", "y", "t"]).fillna(False).to_numpy(dtype=bool), dtype=bool)


def _bad_row(table: pd.DataFrame, values: pd.Series, bad: np.ndarray, column: str, problem: str) -> FrameError:
    """An error naming the first bad row, its column and value, and how many rows share the problem."""
    position = int(np.flatnonzero(bad)[0])
    label = values.index[position]
    raw = values.iloc[position]
    empty = raw is None or raw is pd.NA or raw is pd.NaT or (isinstance(raw, float) and np.isnan(raw))
    what = "is empty" if empty else f"{str(raw)!r} {problem}"
    count = int(bad.sum())
    more = f" ({count - 1} more row(s) like it)" if count > 1 else ""
    return FrameError(f"{row_name(table, label)}, column {column}: {what}{more}")


def parse_days(table: pd.DataFrame, values: pd.Series, column: str) -> np.ndarray:
    """A date or date-time column as UTC days (``datetime64[ns]`` at midnight): the one date rule of every reader.

    ISO 8601 only (``2026-01-05``, ``2026-01-05 13:00:00``, ``2026-01-05T20:00:00-05:00``, ``...Z``); a time with
    an offset counts on its UTC day, one without is UTC. Each distinct value is parsed once (90 days in 900,000
    rows), then spread by code. Empty, non-ISO and out-of-range values are errors naming the row.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        if stamps.isna().any():
            raise _bad_row(table, values, stamps.isna().to_numpy(), column, "")
        days = stamps.to_numpy().astype("datetime64[D]")
        outside = (days < FIRST_DAY) | (days > LAST_DAY)
        if outside.any():
            raise _bad_row(table, stamps.astype(str), outside, column, _range_problem())
        stored: np.ndarray = days.astype("datetime64[ns]")
        return stored
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        raise _bad_row(table, values, codes < 0, column, "")
    text = pd.Series(np.asarray(uniques, dtype=object)).astype(str).str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    not_iso = parsed.isna().to_numpy()
    if not_iso.any():
        message = "is not an ISO 8601 date or date-time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[Z|+HH:MM])"
        raise _bad_row(table, values, not_iso[codes], column, message)
    unique_days = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    outside = (unique_days < FIRST_DAY) | (unique_days > LAST_DAY)
    if outside.any():
        raise _bad_row(table, values, outside[codes], column, _range_problem())
    result: np.ndarray = unique_days.astype("datetime64[ns]")[codes]
    return result


def _range_problem() -> str:
    return f"is outside the supported date range {FIRST_DAY} .. {LAST_DAY}"


def parse_amounts(table: pd.DataFrame, values: pd.Series, column: str) -> np.ndarray:
    """A cost column as float64; empty, non-numeric and non-finite (``inf``, ``nan``, ``1e400``) are errors naming
    the row: a cost that is not a number must never become a finding (or a zero)."""
    numbers = pd.to_numeric(values, errors="coerce")
    amounts = np.asarray(numbers, dtype=float)
    bad = ~np.isfinite(amounts)
    if bad.any():
        raise _bad_row(table, values, bad, column, "is not a finite amount")
    huge = np.abs(amounts) > MAX_AMOUNT
    if huge.any():  # sums of such rows would overflow to inf: a silent wrong number
        raise _bad_row(table, values, huge, column, f"is not a plausible amount (beyond +/-{MAX_AMOUNT:.0e})")
    return amounts


def _currency_column(table: pd.DataFrame, focus: bool) -> str | None:
    if focus:
        return "BillingCurrency" if "BillingCurrency" in table.columns else None
    return next((name for name in CURRENCY_COLUMNS if name in table.columns), None)


def split_currency(
    table: pd.DataFrame, column: str | None, wanted: str | None
) -> tuple[np.ndarray | None, str, list[str]]:
    """Which rows to keep (None: all), the currency their amounts are in, and notes on rows left out.

    Amounts are never added across currencies: a file mixing them is refused unless ``wanted`` picks one; a file
    in one currency is analysed in it (the caller labels the output so). Without a currency column the amounts
    are USD, the ``cost_usd`` contract.
    """
    wanted = wanted.strip().upper() if wanted else None
    if column is None:
        if wanted and wanted != DEFAULT_CURRENCY:
            raise FrameError(
                f"--currency {wanted}: the file has no currency column ({', '.join(CURRENCY_COLUMNS)}), so its "
                f"amounts are {DEFAULT_CURRENCY}"
            )
        return None, DEFAULT_CURRENCY, []
    values = table[column]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        raise _bad_row(table, values, codes < 0, column, "")
    names = pd.Series(np.asarray(uniques, dtype=object)).astype(str).str.strip().str.upper().to_numpy()
    currency_of_row = names[codes]
    found = pd.unique(currency_of_row)
    counts = {str(code): int((currency_of_row == code).sum()) for code in found}
    firsts = {str(code): row_name(table, values.index[int(np.argmax(currency_of_row == code))]) for code in found}
    if wanted is None:
        if len(found) == 1:
            return None, str(found[0]), []
        listing = ", ".join(
            f"{code} ({count} rows)" if index == 0 else f"{code} ({count} rows, first at {firsts[code]})"
            for index, (code, count) in enumerate(counts.items())
        )
        choices = " or ".join(f"--currency {code}" for code in counts)
        raise FrameError(
            f"column {column} mixes currencies: {listing}; amounts are never added across currencies: analyse one "
            f"at a time with {choices}"
        )
    if wanted not in counts:
        listing = ", ".join(f"{code} ({count} rows)" for code, count in counts.items())
        raise FrameError(f"--currency {wanted}: no row of column {column} is in {wanted}; the file has {listing}")
    notes = [
        f"left out {count} row(s) in {code} (--currency {wanted})" for code, count in counts.items() if code != wanted
    ]
    return np.asarray(currency_of_row == wanted), wanted, notes


def from_table(table: pd.DataFrame, keys: Sequence[str], *, currency: str | None = None) -> CostInput:
    """A plain cost table (``date``, key columns, ``cost_usd``, optional ``estimated`` and currency) as the long
    frame, in one currency."""
    _require(table, [DATE, *keys, COST], "a cost file")
    keep, code, notes = split_currency(table, _currency_column(table, focus=False), currency)
    rows = table if keep is None else table.loc[keep]
    out = pd.DataFrame({DATE: parse_days(table, rows[DATE], DATE)})
    for key in keys:
        out[key] = _key_series(rows[key]).array
    out[COST] = parse_amounts(table, rows[COST], COST)
    out[ESTIMATED] = _booleans(rows[ESTIMATED]) if ESTIMATED in rows.columns else False
    return CostInput(out, code, notes)


def _normalised_tags(raw: object) -> dict[str, str]:
    """A FOCUS ``Tags`` cell as {key: value}: keys stripped (``' org'`` is ``org``), first non-blank value wins."""
    if not isinstance(raw, str) or not raw or raw == "NULL":
        return {}
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
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
    table: pd.DataFrame,
    keys: Sequence[str],
    *,
    excluded_categories: Sequence[str],
    currency: str | None = None,
) -> CostInput:
    """A FOCUS 1.x export as the long frame, in one currency.

    Cost is ``EffectiveCost`` (amortised, like Cost Explorer's AmortizedCost; ``BilledCost`` if absent). Rows whose
    ``ChargeCategory`` is in ``excluded_categories`` (``anomaly.excluded_charge_categories``: credits, adjustments,
    taxes, purchases by default) are left out, like the Cost Explorer record-type filter: a month of credits would
    otherwise hide usage, then fake a spike the day they run out. A key is a FOCUS column if the file has one of
    that name (e.g. ``SubAccountName``), otherwise a tag from ``Tags``.
    """
    cost_column = "EffectiveCost" if "EffectiveCost" in table.columns else "BilledCost"
    _require(table, ["ChargePeriodStart", cost_column, "ChargeCategory"], "a FOCUS file")
    tag_keys = [key for key in keys if key not in table.columns]
    if tag_keys:
        _require(table, ["Tags"], f"FOCUS key(s) {', '.join(tag_keys)} (read from tags)")
    keep, code, notes = split_currency(table, _currency_column(table, focus=True), currency)
    category = table["ChargeCategory"].astype("string").str.strip()
    excluded = category.isin(list(excluded_categories)).fillna(False).to_numpy(dtype=bool)
    if keep is not None:
        excluded = excluded & keep
    left_out = category[excluded].value_counts()
    if len(left_out):
        listing = ", ".join(f"{name} {count}" for name, count in sorted(left_out.items()))
        notes.append(f"left out {int(excluded.sum())} row(s) by ChargeCategory ({listing})")
    selected = ~excluded if keep is None else keep & ~excluded
    rows = table.loc[selected]
    out = pd.DataFrame({DATE: parse_days(table, rows["ChargePeriodStart"], "ChargePeriodStart")})
    if tag_keys:
        parsed = [_normalised_tags(raw) for raw in rows["Tags"].tolist()]
    for key in keys:
        if key in table.columns:
            out[key] = _key_series(rows[key].reset_index(drop=True))
        else:
            out[key] = [tags.get(key) or UNTAGGED for tags in parsed]
    out[COST] = parse_amounts(table, rows[cost_column], cost_column)
    out[ESTIMATED] = False
    return CostInput(out, code, notes)


def load_costs(
    path: Path,
    keys: Sequence[str],
    *,
    excluded_charge_categories: Sequence[str],
    currency: str | None = None,
    encoding: str = "utf-8",
) -> CostInput:
    """Any supported file (CSV/Parquet cost table or FOCUS export, detected by its columns) as the long frame.

    Every message names the file, then the row (CSV line) and column.
    """
    table = read_table(path, encoding=encoding)
    try:
        if is_focus(table):
            return from_focus(table, keys, excluded_categories=excluded_charge_categories, currency=currency)
        return from_table(table, keys, currency=currency)
    except FrameError as error:
        raise FrameError(f"{path}: {error}") from None
