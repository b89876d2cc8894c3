"""Read a CUR 2.0 export with split cost allocation data, as AWS writes it, into one flat table.

AWS writes a Data Export as Parquet (``resource_tags`` a map column) or as CSV (``resource_tags`` a JSON object in
one cell); a legacy CUR flattens the tags into ``resource_tags_<key>`` columns. ``read_cur`` turns all three into the
flat form, with every tag key spelled as CUR 2.0 spells it (lower case, what is not ``[a-z0-9]`` replaced by ``_``:
``aws:eks:namespace`` -> ``resource_tags_aws_eks_namespace``, the pod label ``team`` -> ``resource_tags_user_team``),
so the allocation reads one shape whichever way the file was written.

Vectorised: a Parquet map column is unpacked by pyarrow (one lookup per distinct key, not per row); a CSV's JSON
cells are parsed once per distinct cell (a pod's tags repeat on each of its rows). A file that cannot be read, or
whose cell is not a JSON object, is a ``K8sDataError`` naming the file, the row and the column.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from numbers import Integral
from pathlib import Path
from typing import Any

import pandas as pd

from costwarden.k8s.columns import TAG_PREFIX, K8sDataError, tag_column

#: The column of a CUR 2.0 Data Export that holds the resource and cost allocation tags.
TAGS_COLUMN = "resource_tags"


def row_label(index: object) -> str:
    """How a message names a row: 1-based data row (a CSV's line is this plus one, for the header)."""
    return f"row {int(index) + 1}" if isinstance(index, Integral) else f"row {index}"


def read_cur(path: Path | str, columns: Collection[str] | None = None) -> pd.DataFrame:
    """The export at ``path`` (``.parquet``, ``.csv``, ``.csv.gz``) as one flat table, tags as ``resource_tags_*``.

    ``columns``: read only these (and the tags, whichever way they are written): a CUR 2.0 export has a hundred
    columns and more, ``allocate`` reads twenty (``allocate.COLUMNS``); ``None`` reads them all.

    Cells stay as written (CSV cells are text; numbers and dates are checked where they are used, naming the row);
    a Parquet file's text columns are categorical (a month of 2,000 pods repeats a few thousand values 3 M times).
    """
    where = Path(path)
    name = where.name.lower()
    try:
        if name.endswith(".parquet"):
            return _flat_parquet(where, columns)
        if name.endswith((".csv", ".csv.gz")):
            wanted = None if columns is None else lambda column: _wanted(column, columns)
            frame = pd.read_csv(where, dtype=str, keep_default_na=False, na_values=[""], usecols=wanted)
        else:
            raise K8sDataError(f"{where}: not a CUR export (expected .parquet, .csv or .csv.gz)")
    except K8sDataError:
        raise
    except FileNotFoundError:
        raise K8sDataError(f"{where}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:  # pyarrow's errors derive from these
        raise K8sDataError(f"{where}: cannot read: {str(error).splitlines()[0][:200]}") from None
    if TAGS_COLUMN in frame.columns:
        frame = _flat_json_tags(frame, where)
    return frame


def _wanted(column: str, columns: Collection[str]) -> bool:
    return column in columns or column == TAGS_COLUMN or column.startswith(TAG_PREFIX)


def _flat_parquet(path: Path, columns: Collection[str] | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = None if columns is None else [name for name in pq.read_schema(path).names if _wanted(name, columns)]
    table = pq.read_table(path, columns=names)
    if TAGS_COLUMN not in table.column_names:
        return table.to_pandas(strings_to_categorical=True)
    tags = table.column(TAGS_COLUMN)
    rest = table.drop_columns([TAGS_COLUMN])
    if pa.types.is_string(tags.type) or pa.types.is_large_string(tags.type):  # a JSON column written to Parquet
        frame = rest.to_pandas()
        frame[TAGS_COLUMN] = tags.to_pandas()
        return _flat_json_tags(frame, path)
    if not pa.types.is_map(tags.type):
        raise K8sDataError(f"{path}: column {TAGS_COLUMN} is {tags.type}, not a map of tag key to value")
    keys = pc.unique(tags.combine_chunks().keys).to_pylist()
    frame = rest.to_pandas(strings_to_categorical=True)  # a few distinct values in millions of rows
    for key in sorted(str(key) for key in keys if key is not None):
        values = pc.map_lookup(tags, pa.scalar(key, type=tags.type.key_type), "first")
        frame[tag_column(key)] = pc.dictionary_encode(values).to_pandas()
    return frame


def _flat_json_tags(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``resource_tags`` JSON cells into flat columns, parsing each distinct cell once."""
    codes, cells = pd.factorize(frame[TAGS_COLUMN], use_na_sentinel=True)
    parsed: list[dict[str, Any]] = []
    for position, cell in enumerate(cells):
        try:
            value = json.loads(cell) if isinstance(cell, str) and cell.strip() else {}
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            first = int((codes == position).argmax())
            raise K8sDataError(
                f"{path}: {row_label(frame.index[first])}, column {TAGS_COLUMN}: not a JSON object of tag key to "
                f"value: {str(cell)[:80]!r}"
            )
        parsed.append(value)
    keys = sorted({str(key) for tags in parsed for key in tags})
    flat = frame.drop(columns=[TAGS_COLUMN])
    for key in keys:
        per_cell = pd.array([_text(tags.get(key)) for tags in parsed] + [None], dtype="string")
        flat[tag_column(key)] = per_cell[codes].to_numpy()  # the sentinel -1 picks the trailing None
    return flat


def _text(value: object) -> str | None:
    return None if value is None else str(value)
