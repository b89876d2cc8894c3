"""CloudFormation (JSON or YAML, CDK output included) and SAM templates: the tags each resource will carry, under
every combination of the template's conditions, through nested stacks and Global Tables' replicas. Which types can
carry tags, and in which property, is :mod:`costwarden.tags.cfn_types`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from costwarden.tags.cfn_types import REPLICA_TAGS, known_untaggable, taggable_types
from costwarden.tags.iac.core import (
    IacError,
    NotChecked,
    Resolver,
    ResourceTags,
    TagVariant,
    _fail,
    _kind,
    _list,
    _map,
    _scalar,
    check_shape,
)
from costwarden.tags.iac.load import detect_format

#: Nested stacks followed at most this deep (CloudFormation's own limit is 5 levels under the root... and cycles).
MAX_NESTING = 10
#: A CloudFormation condition set larger than this is checked one condition at a time, not in every combination.
MAX_CONDITION_COMBINATIONS = 6
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

NO_VALUE = {"Ref": "AWS::NoValue"}
_REMOTE = re.compile(r"^(https?|s3)://", re.IGNORECASE)


def is_intrinsic(value: Any) -> bool:
    """``{"Ref": ...}`` / ``{"Fn::Sub": ...}``: a value CloudFormation computes at deploy time."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(next(iter(value)), str)
        and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
    )


def _if_parts(value: Any, name: str, path: str) -> tuple[str, Any, Any] | None:
    """``(condition, if true, if false)`` of an ``Fn::If``, ``None`` for anything else."""
    if not (isinstance(value, dict) and len(value) == 1 and "Fn::If" in value):
        return None
    parts = value["Fn::If"]
    if not (isinstance(parts, list) and len(parts) == 3 and isinstance(parts[0], str)):
        _fail(name, f"{path}.Fn::If", "expected [condition name, value if true, value if false]")
    return parts[0], parts[1], parts[2]


def _branches(value: Any, found: dict[str, None]) -> bool:
    """Add the condition names of every ``Fn::If`` inside ``value`` to ``found`` (in order of appearance); return
    whether anything needs resolving at all (an ``Fn::If``, well-formed or not, or an ``AWS::NoValue``). Path-free
    and allocation-free: it runs on every tag property, and almost none has a condition. (Recursion is bounded:
    :func:`check_shape` refused anything deeper than :data:`MAX_DEPTH` first.)"""
    if isinstance(value, list):
        special = False
        for item in value:
            special = _branches(item, found) or special
        return special
    if not isinstance(value, dict):
        return False
    special = False
    if len(value) == 1:
        if "Fn::If" in value:
            special = True
            parts = value["Fn::If"]
            if isinstance(parts, list) and parts and isinstance(parts[0], str):
                found.setdefault(parts[0])
        elif value.get("Ref") == "AWS::NoValue":
            return True
    for item in value.values():
        special = _branches(item, found) or special
    return special


_ABSENT = object()


def _resolve_if(value: Any, assumed: Mapping[str, bool], name: str, path: str) -> Any:
    """``value`` with every ``Fn::If`` replaced by the branch ``assumed`` picks (``AWS::NoValue`` → absent)."""
    parts = _if_parts(value, name, path)
    if parts is not None:
        condition, if_true, if_false = parts
        return _resolve_if(if_true if assumed.get(condition, True) else if_false, assumed, name, path)
    if value == NO_VALUE:
        return _ABSENT
    if isinstance(value, dict) and not is_intrinsic(value):
        out = {k: _resolve_if(v, assumed, name, f"{path}.{k}") for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _ABSENT}
    if isinstance(value, list):
        items = [_resolve_if(v, assumed, name, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v in items if v is not _ABSENT]
    return value


def _assignments(conditions: list[str]) -> list[dict[str, bool]]:
    """Every combination of the conditions (all true first), or one-false-at-a-time when there are too many."""
    if not conditions:
        return [{}]
    if len(conditions) <= MAX_CONDITION_COMBINATIONS:
        return [
            dict(zip(conditions, values, strict=True))
            for values in itertools.product((True, False), repeat=len(conditions))
        ]
    all_true = dict.fromkeys(conditions, True)
    return [all_true, *({**all_true, c: False} for c in conditions)]


def _value_path(path: str, selector: str | int) -> str:
    """Where a tag's value is: ``Tags[3].Value`` in a list, ``Tags.team`` in a map (built only for an error)."""
    return f"{path}[{selector}].Value" if isinstance(selector, int) else f"{path}.{selector}"


def _cfn_tag_items(value: Any, name: str, path: str, notes: list[str]) -> list[tuple[str | int, str, Any]]:
    """(list index or map key, for :func:`_value_path`; tag key; raw value) of each tag in a list or a map."""
    if isinstance(value, dict):
        return [(str(k), str(k), v) for k, v in value.items()]
    if not isinstance(value, list):
        _fail(name, path, f"expected a list of {{Key, Value}} or a map of tags, got {_kind(value)}")
    items: list[tuple[str | int, str, Any]] = []
    for index, item in enumerate(value):
        if type(item) is dict and type(item.get("Key")) is str and len(item) <= 2:  # the common {Key, Value}
            items.append((index, item["Key"], item.get("Value")))
            continue
        where = f"{path}[{index}]"
        tag = _map(item, name, where, "a tag {Key, Value}")
        if is_intrinsic(tag):
            notes.append(f"a tag is computed ({next(iter(tag))}): unknown until deploy")
            continue
        if "Key" not in tag:
            _fail(name, f"{where}.Key", "missing: every tag needs a Key")
        key = tag["Key"]
        if is_intrinsic(key):
            notes.append("a tag key is computed (intrinsic function): unknown until deploy")
            continue
        if not isinstance(key, str | int | float) or isinstance(key, bool):
            _fail(name, f"{where}.Key", f"expected a tag key (text), got {_kind(key)}")
        items.append((index, str(key), tag.get("Value")))
    return items


def _read_cfn_tags(value: Any, name: str, path: str, *, into: TagVariant, notes: list[str]) -> TagVariant:
    """Add one (condition-resolved) tag property value to ``into``: a list of {Key, Value}, or a map."""
    if value is _ABSENT or value is None:
        return into
    if is_intrinsic(value):
        notes.append(f"the tag property is computed ({next(iter(value))}): its tags are unknown until deploy")
        return into
    tags, unresolved = dict(into.tags), set(into.unresolved)
    for selector, key, raw in _cfn_tag_items(value, name, path, notes):
        if type(raw) is str:
            tags[key] = raw
            unresolved.discard(key)
        elif is_intrinsic(raw):
            tags[key] = ""
            unresolved.add(key)
        else:
            tags[key] = _scalar(raw, name, _value_path(path, selector))
            unresolved.discard(key)
    return TagVariant(tags, frozenset(unresolved), into.assumed)


def _walk_property(properties: Any, parts: list[str], path: str) -> Iterator[tuple[Any, str]]:
    """(value, path) at ``TagSpecifications/*/Tags``-style property paths."""
    if not parts:
        yield properties, path
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(properties, list):
            for index, item in enumerate(properties):
                yield from _walk_property(item, rest, f"{path}[{index}]")
    elif isinstance(properties, dict) and head in properties:
        yield from _walk_property(properties[head], rest, f"{path}.{head}")


def _variants(
    values: list[tuple[Any, str]], name: str, inherited: TagVariant, notes: list[str]
) -> tuple[TagVariant, ...]:
    """Every way the tag property values can turn out under the template's conditions."""
    conditions: dict[str, None] = {}
    special = False
    for value, _ in values:
        special = _branches(value, conditions) or special
    out = []
    for assumed in _assignments(list(conditions)):
        variant = TagVariant(dict(inherited.tags), inherited.unresolved, tuple(assumed.items()))
        for value, path in values:
            resolved = _resolve_if(value, assumed, name, path) if special else value
            variant = _read_cfn_tags(resolved, name, path, into=variant, notes=notes)
        out.append(variant)
    return tuple(out)


def _is_sam(template: Mapping[str, Any]) -> bool:
    """Declared SAM, or a Globals section beside AWS::Serverless resources (SAM's own test inputs omit the line)."""
    transform = template.get("Transform")
    if transform == SAM_TRANSFORM or (isinstance(transform, list) and SAM_TRANSFORM in transform):
        return True
    resources = template.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::") for r in resources.values()
    )


def _sam_merge(global_value: Any, local: Any) -> Any:
    """SAM's Globals merge: maps merged key by key (local wins), anything else (intrinsics too) local wins."""
    if isinstance(global_value, dict) and isinstance(local, dict):
        if is_intrinsic(global_value) or is_intrinsic(local):
            return local
        return {**global_value, **{k: _sam_merge(global_value.get(k), v) for k, v in local.items()}}
    if isinstance(global_value, list) and isinstance(local, list):
        return global_value + local
    return local


def _sam_global_tags(template: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Resource type → the ``Tags`` of its Globals section (SAM templates only)."""
    if not _is_sam(template) or "Globals" not in template:
        return {}
    sections = _map(template["Globals"], name, "Globals")
    out: dict[str, Any] = {}
    for section, properties in sections.items():
        settings = _map(properties, name, f"Globals.{section}")
        if "Tags" in settings:
            out[f"AWS::Serverless::{section}"] = settings["Tags"]
    return out


def _ignores_global_tags(resource: Mapping[str, Any]) -> bool:
    ignore = resource.get("IgnoreGlobals")
    return ignore == "*" or (isinstance(ignore, list) and "Tags" in ignore)


#: Nested-stack types → the property naming the child template.
NESTED_STACK_PROPERTY = {"AWS::CloudFormation::Stack": "TemplateURL", "AWS::Serverless::Application": "Location"}


#: A nested template CDK published as an asset: ``resolve`` finds it through the ``*.assets.json`` beside the parent.
CDK_ASSET_PREFIX = "cdk-asset:"


def _nested_reference(resource: Mapping[str, Any], properties: Mapping[str, Any], prop: str) -> str | None:
    """The local file a nested stack points at: CDK's asset path (``aws:asset:path`` metadata, or the object key
    its ``Fn::Join`` URL ends with, looked up in the assets manifest), else a local TemplateURL/Location."""
    metadata = resource.get("Metadata")
    if (
        isinstance(metadata, dict)
        and isinstance(metadata.get("aws:asset:path"), str)
        and metadata.get("aws:asset:property", prop) == prop
    ):
        return str(metadata["aws:asset:path"])
    reference = properties.get(prop)
    if isinstance(reference, str) and reference.strip() and not _REMOTE.match(reference.strip()):
        return reference.strip()
    join = reference.get("Fn::Join") if isinstance(reference, dict) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list) and join[1]:
        last = join[1][-1]
        if isinstance(last, str) and re.fullmatch(r".*/[0-9a-f]{64}\.json", last):
            return CDK_ASSET_PREFIX + last.rsplit("/", 1)[-1]
    return None


@dataclass
class _CfnResource:
    """One entry of ``Resources``, shape-checked: where it is, what it is, its properties."""

    label: str
    where: str
    type_name: str
    resource: Mapping[str, Any]
    properties: Mapping[str, Any]
    notes: list[str]

    @classmethod
    def of(cls, name: str, label: str, logical: Any, resource: Any) -> _CfnResource:
        where = f"Resources.{logical}"
        _map(resource, name, where, "a resource (a map with Type and Properties)")
        if "Type" not in resource:
            _fail(name, f"{where}.Type", "missing: every resource needs a Type")
        type_name = resource["Type"]
        if not isinstance(type_name, str):
            _fail(name, f"{where}.Type", f"expected a resource type (text), got {_kind(type_name)}")
        properties = resource.get("Properties")
        notes: list[str] = []
        if properties is None:
            properties = {}
        elif is_intrinsic(properties):
            notes.append("the resource's properties are computed: tags unknown until deploy")
            properties = {}
        else:
            _map(properties, name, f"{where}.Properties")
        return cls(label, where, type_name, resource, properties, notes)


@dataclass
class _CfnReader:
    """One template (and, through ``resolve``, its nested stacks) read into resources and not-checked entries."""

    name: str
    resolve: Resolver | None
    chain: tuple[str, ...]
    found: list[ResourceTags] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)

    def read(self, template: Mapping[str, Any], prefix: str, inherited: TagVariant) -> None:
        global_tags = _sam_global_tags(template, self.name)
        resources = _map(template.get("Resources"), self.name, "Resources")
        for logical, resource in resources.items():
            self._resource(_CfnResource.of(self.name, f"{prefix}{logical}", logical, resource), global_tags, inherited)

    def _resource(self, res: _CfnResource, global_tags: Mapping[str, Any], inherited: TagVariant) -> None:
        properties = res.properties
        if res.type_name in global_tags and not _ignores_global_tags(res.resource):
            merged = global_tags[res.type_name]
            if "Tags" in properties:
                merged = _sam_merge(merged, properties["Tags"])
            properties = {**properties, "Tags": merged}
        prop_path = taggable_types().get(res.type_name)
        if prop_path is None:
            if res.type_name in known_untaggable():
                self.not_checked.append(
                    NotChecked(res.label, res.type_name, "untaggable", "this type cannot carry tags")
                )
                return
            if "Tags" not in properties:
                detail = "type unknown here (custom resource or newer than the type list) and no Tags property"
                self.not_checked.append(NotChecked(res.label, res.type_name, "unknown", detail))
                return
            prop_path = "Tags"
        if res.type_name in REPLICA_TAGS:
            self._replicas(res, inherited)
            return
        values = list(_walk_property(properties, prop_path.split("/"), f"{res.where}.Properties"))
        variants = _variants(values, self.name, inherited, res.notes)
        self.found.append(ResourceTags(res.label, res.type_name, variants, tuple(dict.fromkeys(res.notes))))
        if res.type_name in NESTED_STACK_PROPERTY:
            self._nested(res, variants[0])

    def _replicas(self, res: _CfnResource, inherited: TagVariant) -> None:
        items_key, name_key, prop = REPLICA_TAGS[res.type_name]
        items = res.properties.get(items_key)
        if is_intrinsic(items) or items is None:
            detail = f"{items_key} is computed or absent: the replicas' tags are unknown until deploy"
            self.not_checked.append(NotChecked(res.label, res.type_name, "unknown", detail))
            return
        for index, item in enumerate(_list(items, self.name, f"{res.where}.Properties.{items_key}")):
            at = f"{res.where}.Properties.{items_key}[{index}]"
            replica = _map(item, self.name, at, "a replica (a map)")
            which = replica.get(name_key)
            label = f"{res.label}[{which if isinstance(which, str) else index}]"
            notes = list(res.notes)
            variants = _variants([(replica.get(prop), f"{at}.{prop}")], self.name, inherited, notes)
            self.found.append(ResourceTags(label, res.type_name, variants, tuple(dict.fromkeys(notes))))

    def _nested(self, res: _CfnResource, stack_tags: TagVariant) -> None:
        label, type_name, where = res.label, res.type_name, res.where
        prop = NESTED_STACK_PROPERTY[type_name]
        reference = _nested_reference(res.resource, res.properties, prop)
        if reference is None:
            detail = f"nested template not followed: {prop} is not a local file (an S3/HTTPS URL or computed)"
            self.not_checked.append(NotChecked(label, type_name, "unknown", detail))
            return
        if self.resolve is None:
            detail = f"nested template {reference!r} not read (no file access here)"
            self.not_checked.append(NotChecked(label, type_name, "unknown", detail))
            return
        if len(self.chain) > MAX_NESTING:
            _fail(self.name, f"{where}.Properties.{prop}", f"nested stacks deeper than {MAX_NESTING} levels")
        try:
            child_name, child = self.resolve(reference, self.name)
        except IacError as error:
            _fail(self.name, f"{where}.Properties.{prop}", f"nested template {reference!r}: {error}")
        if child_name in self.chain:
            _fail(self.name, f"{where}.Properties.{prop}", f"nested template {reference!r} includes itself")
        check_shape(child, child_name)
        if detect_format(child, child_name) != "cloudformation":
            _fail(self.name, f"{where}.Properties.{prop}", f"{reference!r} is not a CloudFormation template")
        reader = _CfnReader(child_name, self.resolve, (*self.chain, child_name))
        reader.read(child, f"{label}/", stack_tags)
        self.found.extend(reader.found)
        self.not_checked.extend(reader.not_checked)


def extract_cloudformation(
    template: Mapping[str, Any], name: str = "<input>", resolve: Resolver | None = None
) -> tuple[list[ResourceTags], list[NotChecked]]:
    """Taggable resources with their tags (nested stacks included), and the resources not checked, with why."""
    reader = _CfnReader(name, resolve, (name,))
    reader.read(template, "", TagVariant({}))
    return reader.found, reader.not_checked
