"""The configuration reference, generated from the settings model so that it cannot drift from the code.

Every field of ``costwarden.settings.Settings`` (recursively: ``anomaly.warn_ratio``, ``reaper.dry_run``, ...)
becomes one row of a Markdown table: dotted key, type (with its bounds), default (as JSON, the way it is written in
``cdk.json``), and meaning (the field's description: its docstring in the ``settings`` package). A field without a
description is listed by ``missing_descriptions()`` and fails a unit test naming it. A map whose values are a model
(the team directory, ``teams``) gets a row of its own and one row per field of its entries, keyed with a
placeholder: ``teams.<team>.monthly_usd``.

The README holds the table between ``<!-- config-table:start -->`` and ``<!-- config-table:end -->``;
``costwarden config-doc --write README.md`` rewrites it, ``--check`` fails when it is stale (so does a test).
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from costwarden.settings import Settings

START_MARKER = "<!-- config-table:start -->"
END_MARKER = "<!-- config-table:end -->"
UNDOCUMENTED = "**(undocumented)**"


@dataclass(frozen=True)
class SettingDoc:
    key: str
    type: str
    default: str
    description: str | None


def iter_settings(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[SettingDoc]:
    """One entry per leaf setting, depth first, in declaration order; nested models are walked, not listed."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        nested = _nested_model(field.annotation)
        if nested is not None:
            yield from iter_settings(nested, prefix=f"{key}.")
            continue
        yield SettingDoc(key=key, type=_type_text(field), default=_default_text(field), description=_description(field))
        entry = _map_entry_model(field.annotation)
        if entry is not None:
            yield from iter_settings(entry, prefix=f"{key}.{_placeholder(name)}.")


def missing_descriptions(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Dotted keys of every field (nested models included) that has no description."""
    missing = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        if not _description(field):
            missing.append(key)
        nested = _nested_model(field.annotation)
        if nested is not None:
            missing.extend(missing_descriptions(nested, prefix=f"{key}."))
        entry = _map_entry_model(field.annotation)
        if entry is not None:
            missing.extend(missing_descriptions(entry, prefix=f"{key}.{_placeholder(name)}."))
    return missing


def config_table(model: type[BaseModel] = Settings) -> str:
    """The Markdown table of every setting (no trailing newline)."""
    lines = ["| Setting | Type | Default | Meaning |", "|---|---|---|---|"]
    for doc in iter_settings(model):
        lines.append(
            f"| `{doc.key}` | {_cell(doc.type)} | `{_cell(doc.default)}` | {_cell(doc.description or UNDOCUMENTED)} |"
        )
    return "\n".join(lines)


class MarkerError(ValueError):
    """The document does not hold exactly one start marker followed by one end marker."""


def _marker_span(text: str) -> tuple[int, int]:
    starts, ends = text.count(START_MARKER), text.count(END_MARKER)
    if starts != 1 or ends != 1:
        raise MarkerError(f"expected exactly one {START_MARKER} and one {END_MARKER}, found {starts} and {ends}")
    start = text.index(START_MARKER) + len(START_MARKER)
    end = text.index(END_MARKER)
    if end < start:
        raise MarkerError(f"{END_MARKER} comes before {START_MARKER}")
    return start, end


def current_section(text: str) -> str:
    """What a document holds between the markers, without surrounding blank lines."""
    start, end = _marker_span(text)
    return text[start:end].strip("\n")


def replace_section(text: str, table: str) -> str:
    """``text`` with everything between the markers replaced by ``table`` (markers kept, each on its own line)."""
    start, end = _marker_span(text)
    return text[:start] + "\n" + table.strip("\n") + "\n" + text[end:]


def is_stale(text: str, table: str) -> bool:
    return current_section(text) != table.strip("\n")


# --- rendering one field ------------------------------------------------------------------------------------------


def _description(field: FieldInfo) -> str | None:
    text = " ".join((field.description or "").split())
    return text or None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _map_entry_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a ``dict[str, Model]`` field's values (``teams``), else ``None``."""
    if get_origin(annotation) is dict:
        args = get_args(annotation)
        return _nested_model(args[1]) if len(args) == 2 else None
    return None


def _placeholder(name: str) -> str:
    """``<team>`` for ``teams``: how a map's keys are written in a dotted key."""
    return f"<{name.removesuffix('s')}>"


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    origin = get_origin(annotation)
    args = get_args(annotation)
    names: dict[Any, str] = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    if origin is Literal:
        text = "one of " + ", ".join(f"`{json.dumps(arg)}`" for arg in args)
    elif origin in (Union, types.UnionType):
        text = " or ".join(_type_name(arg) for arg in args)
    elif origin in (tuple, list, set, frozenset):
        items = [arg for arg in args if arg is not Ellipsis]
        text = f"list of {_type_name(items[0])}" if items else "list"
    elif origin is dict and args and _nested_model(args[1]) is not None:
        text = f"map of {_type_name(args[0])} to entry (fields below)"
    elif origin is dict:
        text = f"map of {_type_name(args[0])} to {_type_name(args[1])}" if args else "map"
    else:
        text = names.get(annotation) or str(getattr(annotation, "__name__", annotation))
    return text


def _bounds(field: FieldInfo) -> str:
    symbols = []
    for item in field.metadata:
        for attr, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None and isinstance(item, annotated_types.BaseMetadata):
                symbols.append(f"{symbol} {value}")
        if isinstance(item, annotated_types.MinLen):
            symbols.append(f"at least {item.min_length} long")
        if isinstance(item, annotated_types.MaxLen):
            symbols.append(f"at most {item.max_length} long")
    return ", ".join(symbols)


def _type_text(field: FieldInfo) -> str:
    text = _type_name(field.annotation)
    bounds = _bounds(field)
    return f"{text} ({bounds})" if bounds else text


def _default_text(field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=True)
    if default is PydanticUndefined:
        return "(required)"
    return json.dumps(to_jsonable_python(default), ensure_ascii=False, separators=(", ", ": "))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
