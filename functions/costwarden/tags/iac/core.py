"""The shared core of the IaC tag gate: the error every reader raises, the shape checks that name where a document
is malformed, and the model every reader produces (resources with their tag variants, what was not checked).

Every format module (:mod:`.cloudformation`, :mod:`.terraform`, :mod:`.tagset`) reads its input into these types;
:mod:`.check` judges them against the policy. Nothing here knows a format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from costwarden.tags.validate import Finding, TagCheck

Format = Literal["tagset", "cloudformation", "terraform", "tagging-api"]
#: Why a resource was not checked: another provider than AWS, a type that cannot carry tags, or unknown here.
Reason = Literal["not_aws", "untaggable", "unknown"]
#: Deepest nesting accepted: real templates and plans stay under ~30 levels; the walkers below then cannot overflow.
MAX_DEPTH = 100
#: Most values (nodes) accepted in one document, counted as expanded: a YAML alias bomb stops here, not in memory.
MAX_VALUES = 3_000_000

#: ``resolve(reference, from_document)`` → (name, parsed document) of a nested template; raises IacError if absent.
Resolver = Callable[[str, str], tuple[str, Any]]


class IacError(ValueError):
    """The input cannot be read or is none of the known formats; the message says which file, where and why."""


def _fail(name: str, path: str, what: str) -> NoReturn:
    raise IacError(f"{name}: {path}: {what}" if path else f"{name}: {what}")


def _kind(value: Any) -> str:
    return {dict: "a map", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _map(value: Any, name: str, path: str, what: str = "a map") -> dict[Any, Any]:
    if not isinstance(value, dict):
        _fail(name, path, f"expected {what}, got {_kind(value)}")
    return value


def _list(value: Any, name: str, path: str, what: str = "a list") -> list[Any]:
    if not isinstance(value, list):
        _fail(name, path, f"expected {what}, got {_kind(value)}")
    return value


@dataclass(frozen=True)
class TagVariant:
    """One way the tags can turn out: the tags, the keys whose value is unknown, and the conditions assumed."""

    tags: dict[str, str | None]
    unresolved: frozenset[str] = frozenset()
    assumed: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class ResourceTags:
    """The tags one resource will carry, as far as the file tells (several variants under CloudFormation conditions).

    ``deferred`` names what may still supply absent keys at apply time (a provider's ``default_tags`` that the plan
    does not show); it is set only when such a source exists.
    """

    resource: str
    resource_type: str
    variants: tuple[TagVariant, ...]
    notes: tuple[str, ...] = ()
    deferred: str | None = None

    @property
    def tags(self) -> dict[str, str | None]:
        return self.variants[0].tags

    @property
    def unresolved(self) -> frozenset[str]:
        return self.variants[0].unresolved


def single(
    resource: str, resource_type: str, tags: dict[str, str | None], unresolved: frozenset[str] = frozenset(), **kw: Any
) -> ResourceTags:
    return ResourceTags(resource, resource_type, (TagVariant(tags, unresolved),), **kw)


@dataclass(frozen=True)
class NotChecked:
    """A resource the gate did not judge, and why (so a CI summary can count what was skipped)."""

    resource: str
    resource_type: str
    reason: Reason
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"resource": self.resource, "resource_type": self.resource_type, "reason": self.reason}


@dataclass(frozen=True)
class ResourceResult:
    resource: str
    resource_type: str
    check: TagCheck
    notes: tuple[str, ...] = ()


@dataclass
class DocumentReport:
    """Every checked resource of one file (nested stacks included) and every resource not checked, with why."""

    name: str
    format: Format
    results: list[ResourceResult] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(resource, type) of the resources that cannot carry tags or whose type is unknown here."""
        checked = {r.resource for r in self.results}
        return [
            (n.resource, n.resource_type)
            for n in self.not_checked
            if n.reason != "not_aws" and n.resource not in checked
        ]

    @property
    def violations(self) -> list[tuple[ResourceResult, Finding]]:
        return [(result, finding) for result in self.results for finding in result.check.violations]

    @property
    def ok(self) -> bool:
        return not self.violations


def check_shape(document: Any, name: str = "<input>") -> None:
    """Refuse a document nested deeper than :data:`MAX_DEPTH` or with more than :data:`MAX_VALUES` values.

    Level by level (no recursion, so it cannot overflow itself, and ``list.extend`` keeps it cheap); it counts values
    as expanded, so YAML aliases that multiply a small file into billions of values are refused here instead of
    hanging whatever walks them next.
    """
    level: list[Any] = [document]
    depth = 0
    count = 0
    while level:
        depth += 1
        count += len(level)
        if count > MAX_VALUES:
            _fail(name, "", f"too large: more than {MAX_VALUES:,} values (YAML aliases are counted as expanded)")
        if depth > MAX_DEPTH:
            _fail(name, "", f"nested deeper than {MAX_DEPTH} levels: not a template, plan or tag set")
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                below.extend(node.values())
            elif isinstance(node, list):
                below.extend(node)
        level = below


def _scalar(value: Any, name: str, path: str) -> str | None:
    """A tag value as text; ``None`` for null (an empty value). Anything else is a malformed shape."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    _fail(name, path, f"expected a tag value (text), got {_kind(value)}")
