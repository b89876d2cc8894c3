"""Reading a CloudTrail record's fields with checks that name where it is malformed (pure; ``burn.events``).

CloudTrail writes EC2's, Auto Scaling's and EMR's parameters in camelCase, newer EC2 calls wrapped in
``<Call>Request`` / ``<Call>Response``, and some services in PascalCase; ``Params`` reads a key in either case and
unwraps the wrappers. Every problem is a ``BurnInputError`` naming the event (position and id) and the field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BurnInputError(ValueError):
    """An event that is not what EventBridge delivers; the message names the event and the field."""


class Where:
    """The event being read (its position and id), for error messages."""

    def __init__(self, index: int, event_id: str) -> None:
        self.index, self.event_id = index, event_id

    def fail(self, path: str, problem: str) -> BurnInputError:
        return BurnInputError(f"event {self.index} (id {self.event_id[:60]!r}): {path}: {problem}")


def _get(data: Mapping[str, Any], name: str) -> Any:
    """``data[name]``, or its PascalCase/camelCase twin (CloudTrail writes both, by service)."""
    if name in data:
        return data[name]
    twin = name[:1].upper() + name[1:] if name[:1].islower() else name[:1].lower() + name[1:]
    return data.get(twin)


def _unwrap(data: Any) -> Any:
    """``{"CreateCapacityReservationRequest": {...}}`` -> its inside (newer EC2 calls are logged wrapped)."""
    if isinstance(data, Mapping) and len(data) == 1:
        (key, inner), *_ = data.items()
        if isinstance(key, str) and key.endswith(("Request", "Response")) and isinstance(inner, Mapping):
            return inner
    return data


class Params:
    """One mapping of an event with its path, read with checks that name where it is malformed."""

    def __init__(self, data: Any, path: str, where: Where) -> None:
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.path, self.where = path, where

    def sub(self, name: str) -> Params:
        value = _unwrap(_get(self.data, name))
        if value is not None and not isinstance(value, Mapping):
            raise self.where.fail(f"{self.path}.{name}", f"expected an object, got {type(value).__name__}")
        return Params(value or {}, f"{self.path}.{name}", self.where)

    def text(self, name: str, *, required: bool = False) -> str:
        value = _get(self.data, name)
        if value is None or value == "":
            if required:
                raise self.where.fail(f"{self.path}.{name}", "missing")
            return ""
        if not isinstance(value, str) or len(value) > 2048:
            raise self.where.fail(f"{self.path}.{name}", f"expected a string, got {type(value).__name__}")
        return value

    def count(self, name: str, default: int | None = None) -> int | None:
        value = _get(self.data, name)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
            raise self.where.fail(f"{self.path}.{name}", f"expected a count 0..100000, got {value!r}"[:200])
        return value

    def flag(self, name: str) -> bool:
        """True only for JSON ``true`` (a string or a number is not a yes)."""
        return _get(self.data, name) is True

    def _listed(self, name: str) -> list[Any]:
        """The value under ``name`` as a list: a plain list, or EC2's ``{"items": [...]}``; absent is empty."""
        value = _get(self.data, name)
        if isinstance(value, Mapping):
            value = value.get("items", [])
        if isinstance(value, str):
            value = [value]
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.where.fail(f"{self.path}.{name}", f"expected a list, got {type(value).__name__}")
        return value

    def items(self, name: str) -> list[Params]:
        """A list of objects (each read with its index in the path)."""
        return [Params(item, f"{self.path}.{name}[{i}]", self.where) for i, item in enumerate(self._listed(name))]

    def texts(self, name: str) -> list[str]:
        """A list of strings (a lone string is a list of one)."""
        values = self._listed(name)
        if not all(isinstance(v, str) for v in values):
            raise self.where.fail(f"{self.path}.{name}", "expected a list of strings")
        return values


def _pairs(items: list[Params]) -> dict[str, str]:
    """``[{key, value}, ...]`` (either case) as a map; entries without a key are left out."""
    return {item.text("key"): item.text("value") for item in items if item.text("key")}


def tags_of(params: Params, *names: str) -> dict[str, str]:
    """Tags under any of ``names``: a list of ``{key, value}`` (EC2, SageMaker, EMR), EC2's tag-on-create
    ``tagSpecificationSet`` (instance specifications first, one level: never a recursion a hostile event could
    deepen), or a plain map (EKS)."""
    tags: dict[str, str] = {}
    for name in names:
        raw = _get(params.data, name)
        if isinstance(raw, Mapping) and "items" not in raw:
            tags.update({str(k): str(v) for k, v in raw.items() if isinstance(v, str | int | float)})
            continue
        items = params.items(name)
        plain = [item for item in items if not {"tags", "Tags", "resourceType", "ResourceType"} & set(item.data)]
        tags.update(_pairs(plain))
        for spec in (item for item in items if item not in plain):
            found = _pairs(spec.items("tags") or spec.items("tag"))
            instance = spec.text("resourceType") in {"", "instance"}
            tags.update(found if instance else {k: v for k, v in found.items() if k not in tags})
    return tags
