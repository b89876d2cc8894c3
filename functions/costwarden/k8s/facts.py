"""Rows (a pandas group-by's, an Athena query's) as the facts of ``models.k8s``: one conversion for both sources.

A row maps field names to values as its source holds them (numpy floats, ``datetime64`` days, Athena's text); each
field is read by its declared type — a date from an ISO day, a date-time or a ``datetime64``, a ``float``, else text
(``None`` as ``""``) — so the pandas allocation and the Athena SQL cannot drift into different facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any, get_type_hints

from costwarden.models.k8s import GroupDay, NodeDay


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # an ISO day, a date-time's text, a numpy datetime64


def facts[Fact: (GroupDay, NodeDay)](kind: type[Fact], rows: Iterable[Mapping[str, Any]], **same: Any) -> list[Fact]:
    """One ``kind`` per row; ``same`` gives fields every row shares (``by``)."""
    types = get_type_hints(kind)
    readers: dict[str, Callable[[Any], Any]] = {
        field.name: _date if types[field.name] is dt.date else float if types[field.name] is float else _text
        for field in fields(kind)
        if field.name not in same
    }
    made = []
    for row in rows:
        values: dict[str, Any] = {name: read(row[name]) for name, read in readers.items()}
        made.append(kind(**same, **values))
    return made


def _text(value: Any) -> str:
    return "" if value is None else str(value)
