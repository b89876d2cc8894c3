"""Tags in infrastructure-as-code: read a tag set, a CloudFormation/SAM template or a Terraform plan, check every
resource against the policy (the CI gate behind ``costwarden tags validate``).

Formats, detected from the content (not the file name, not one marker field):

* **tag set** — a JSON object of strings (``{"team": "ml"}``), a list of ``{"Key", "Value"}``, or ``{"Tags": [...]}``
  (the shape ``aws ... list-tags`` prints).
* **CloudFormation** — a template in JSON or YAML with a ``Resources`` section, including YAML short-form intrinsic
  functions (``!Ref``, ``!Sub``, ``!GetAtt``...). CDK output (``cdk.out/*.template.json``) is this format. Which
  types can carry tags, and in which property, is decided by :mod:`costwarden.tags.cfn_types`. Read as the service
  would deploy it:

  - SAM (``Transform: AWS::Serverless-2016-10-31``): ``Globals.<Section>.Tags`` reach every ``AWS::Serverless::
    <Section>`` resource the way SAM's transform merges them (maps merged key by key, the resource's own value wins,
    ``IgnoreGlobals`` honoured). SAM's transform takes ``Tags`` in ``Globals.Function`` and ``Globals.HttpApi``
    (and the newer ``WebSocketApi`` and ``CapacityProvider``); ``Api``, ``SimpleTable`` and ``StateMachine`` globals
    take no ``Tags`` (only ``PropagateTags``) and SAM refuses a template that puts them there, so whatever section
    carries ``Tags`` is applied to the resources of its type. A template is SAM when it declares the transform, or
    has ``AWS::Serverless::*`` resources (SAM's own test inputs omit the line).
  - ``Fn::If`` in a tag property (a conditional tag, a conditional value, a conditional list) is checked on both
    branches: what holds on every branch is a plain finding; what holds only on some carries ``when`` ("condition
    IsProd is false").
  - Nested stacks (``AWS::CloudFormation::Stack`` with a local ``TemplateURL``, ``AWS::Serverless::Application``
    with a local ``Location``, and CDK's nested-stack assets named by ``aws:asset:path`` metadata) are read through
    the ``resolve`` callback; the stack's ``Tags``, which CloudFormation propagates, apply to every resource inside.
  - ``AWS::DynamoDB::GlobalTable``: each replica's ``Tags`` are checked as a resource of its own.
* **tagging API output** — ``aws resourcegroupstaggingapi get-resources`` (``ResourceTagMappingList``): every
  resource, named by its ARN, as the weekly audit sees it.
* **Terraform plan** — ``terraform show -json plan.out``: ``resource_changes`` (preferred) or ``planned_values``
  (``values`` for ``terraform show -json`` of a state). Only resources of the AWS providers (``hashicorp/aws``,
  ``hashicorp/awscc``) are judged; the others are listed as "not AWS: not checked". Tags are read in every shape the
  AWS provider has produced: the ``tags`` map, ``tags_all`` (tags plus the provider's ``default_tags``), the
  ``tag`` blocks and the legacy ``tags`` list of ``{key, value, propagate_at_launch}`` of Auto Scaling groups,
  and awscc's list of ``{key, value}``. When ``tags_all`` is unknown until apply (one unknown tag value is
  enough), the known values are still checked and a key counts as "missing" unless the resource's provider has a
  ``default_tags`` block (``configuration.provider_config``) that supplies it; only when that block's value is not
  in the plan are absent keys deferred (``missing_deferred``), and the report says so.

A tag whose value is an intrinsic function (``{"Ref": "Env"}``, ``!Sub``) or "known after apply" is unknown until
deploy: it counts as present, its value is not checked, and the report says so. An empty or null value is empty.

Input is untrusted: every shape this module does not expect is an :class:`IacError` naming the file and the path
inside it (``resource_changes[3].change.after.tags``), nesting deeper than :data:`MAX_DEPTH` or larger than
:data:`MAX_VALUES` is refused before anything walks it, and nothing here raises anything else on any input.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal, NamedTuple, NoReturn

from costwarden.settings import TagPolicy
from costwarden.tags.cfn_types import REPLICA_TAGS, known_untaggable, taggable_types
from costwarden.tags.validate import Finding, TagCheck, validate_tags

Format = Literal["tagset", "cloudformation", "terraform", "tagging-api"]
#: Why a resource was not checked: another provider than AWS, a type that cannot carry tags, or unknown here.
Reason = Literal["not_aws", "untaggable", "unknown"]
#: Deepest nesting accepted: real templates and plans stay under ~30 levels; the walkers below then cannot overflow.
MAX_DEPTH = 100
#: Most values (nodes) accepted in one document, counted as expanded: a YAML alias bomb stops here, not in memory.
MAX_VALUES = 3_000_000
#: Nested stacks followed at most this deep (CloudFormation's own limit is 5 levels under the root... and cycles).
MAX_NESTING = 10
#: A CloudFormation condition set larger than this is checked one condition at a time, not in every combination.
MAX_CONDITION_COMBINATIONS = 6
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
AWS_PROVIDERS = frozenset({"aws", "awscc"})
NO_VALUE = {"Ref": "AWS::NoValue"}
_REMOTE = re.compile(r"^(https?|s3)://", re.IGNORECASE)
_INDEX = re.compile(r"\[[^\]]*\]")

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


# --- reading ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _cfn_yaml_loader() -> type[Any]:
    """A SafeLoader that turns CloudFormation's short-form tags into their long form (``!Ref X`` → ``{"Ref": X}``).

    libyaml's (``CSafeLoader``) when PyYAML has it: several times faster on large templates, and it refuses nesting
    deeper than 1,000 levels itself; the pure-Python loader otherwise (a RecursionError there is caught).
    """
    import yaml

    try:
        from yaml import CSafeLoader as Base
    except ImportError:  # PyYAML built without libyaml
        from yaml import SafeLoader as Base  # type: ignore[assignment]

    class CfnLoader(Base):
        pass

    # Dates stay text: an unquoted ``expires_at: 2026-12-01`` is the string CloudFormation will see, not a date.
    CfnLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "Condition":
            return {"Condition": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", construct)
    return CfnLoader


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


def load_document(text: str, name: str = "<input>") -> Any:
    """JSON if it parses as JSON, else YAML (with CloudFormation short forms). :func:`check_document` shape-checks
    it (:func:`check_shape`) before anything walks it."""
    try:
        document = json.loads(text)
    except RecursionError:
        _fail(name, "", "nested deeper than the JSON reader allows: not a template, plan or tag set")
    except json.JSONDecodeError as json_error:
        import yaml

        try:
            document = yaml.load(text, Loader=_cfn_yaml_loader())  # noqa: S506 - a SafeLoader subclass
        except RecursionError:
            _fail(name, "", "nested deeper than the YAML reader allows: not a template, plan or tag set")
        except yaml.YAMLError as yaml_error:
            if "maximum nesting depth" in str(yaml_error):  # libyaml's own limit (1,000 levels)
                _fail(name, "", "nested deeper than the YAML reader allows: not a template, plan or tag set")
            raise IacError(f"{name}: neither JSON ({json_error}) nor YAML ({yaml_error})") from None
        except (ValueError, TypeError) as error:  # e.g. an unhashable YAML key PyYAML does not wrap
            raise IacError(f"{name}: not valid YAML ({error})") from None
    return document


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "Key" in item for item in value)


def _is_terraform(document: Mapping[str, Any]) -> bool:
    """A plan (or ``terraform show -json`` state) by content: resource changes, or planned/state values."""
    if isinstance(document.get("resource_changes"), list):
        return True
    return any(
        isinstance(document.get(section), dict) and "root_module" in document[section]
        for section in ("planned_values", "values")
    )


def detect_format(document: Any, name: str = "<input>") -> Format:
    if isinstance(document, dict):
        if isinstance(document.get("Resources"), dict):
            return "cloudformation"
        if isinstance(document.get("ResourceTagMappingList"), list):
            return "tagging-api"
        if _is_terraform(document) or (
            "format_version" in document
            and any(k in document for k in ("resource_changes", "planned_values", "values"))
        ):
            return "terraform"
        if "format_version" in document:
            raise IacError(
                f"{name}: Terraform JSON without resource_changes/planned_values: pass the plan "
                "('terraform show -json plan.out > plan.json'), not the configuration"
            )
        if "Tags" in document and _is_tag_list(document["Tags"]):
            return "tagset"
        if document and all(isinstance(v, str) or v is None for v in document.values()):
            return "tagset"
    if _is_tag_list(document):
        return "tagset"
    raise IacError(
        f"{name}: not a tag set (JSON object of strings or list of {{Key, Value}}), a CloudFormation template "
        "(no 'Resources' section) or a Terraform plan ('terraform show -json' output)"
    )


def _scalar(value: Any, name: str, path: str) -> str | None:
    """A tag value as text; ``None`` for null (an empty value). Anything else is a malformed shape."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    _fail(name, path, f"expected a tag value (text), got {_kind(value)}")


# --- CloudFormation --------------------------------------------------------------------------------------------


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


# --- Terraform -------------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@lru_cache(maxsize=256)
def _provider(provider_name: str | None, type_name: str) -> str:
    """``registry.terraform.io/hashicorp/aws`` / ``provider["..."]`` / ``aws`` → ``aws``; else the type's prefix."""
    if isinstance(provider_name, str) and provider_name:
        text = provider_name.removeprefix("provider").strip('[]"')
        return text.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    return type_name.split("_", 1)[0].lower()


def _or_empty(value: Any) -> Any:
    """Absent and null mean "nothing"; any other value (an empty list included) is kept, to be shape-checked."""
    return {} if value is None else value


def _module_resources(module: Any, name: str, path: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    module = _map(module, name, path)
    for index, resource in enumerate(_list(module.get("resources", []), name, f"{path}.resources")):
        yield _map(resource, name, f"{path}.resources[{index}]"), f"{path}.resources[{index}]"
    for index, child in enumerate(_list(module.get("child_modules", []), name, f"{path}.child_modules")):
        yield from _module_resources(child, name, f"{path}.child_modules[{index}]")


class _TfResource(NamedTuple):
    address: str
    type_name: str
    provider: str
    after: Mapping[str, Any]
    unknown: Mapping[str, Any]
    path: str


def _tf_candidates(plan: Mapping[str, Any], name: str) -> Iterator[_TfResource]:
    """Every managed resource that will exist, with its values after apply and which of them are unknown."""
    if "resource_changes" in plan:
        changes = _list(plan["resource_changes"], name, "resource_changes")
        for index, item in enumerate(changes):
            at = f"resource_changes[{index}]"
            change = _map(item, name, at, "a resource change (a map)")
            body = _map(_or_empty(change.get("change")), name, f"{at}.change")
            if change.get("mode", "managed") != "managed" or body.get("actions") == ["delete"]:
                continue
            address, type_name = change.get("address"), change.get("type", "")
            if not isinstance(address, str) or not isinstance(type_name, str):
                _fail(name, f"{at}.address", "expected the resource address and type as text")
            after = _map(_or_empty(body.get("after")), name, f"{at}.change.after")
            unknown = _or_empty(body.get("after_unknown"))
            unknown = _map(unknown, name, f"{at}.change.after_unknown") if unknown is not True else {}
            provider = _provider(_text(change.get("provider_name")), type_name)
            yield _TfResource(address, type_name, provider, after, unknown, f"{at}.change.after")
        return
    section = "planned_values" if "planned_values" in plan else "values"
    root = _map(plan.get(section), name, section).get("root_module", {})
    for resource, at in _module_resources(root, name, f"{section}.root_module"):
        if resource.get("mode", "managed") != "managed":
            continue
        address, type_name = resource.get("address"), resource.get("type", "")
        if not isinstance(address, str) or not isinstance(type_name, str):
            _fail(name, f"{at}.address", "expected the resource address and type as text")
        values = _map(_or_empty(resource.get("values")), name, f"{at}.values")
        yield _TfResource(
            address, type_name, _provider(_text(resource.get("provider_name")), type_name), values, {}, f"{at}.values"
        )


#: Default tags of one provider configuration: absent (None), known (a tag variant), or unknown in the plan (True).
DefaultTags = TagVariant | Literal[True] | None


def _expression_tags(expression: Any, plan: Mapping[str, Any], name: str, path: str) -> TagVariant | Literal[True]:
    """A ``default_tags.tags`` expression from the plan's configuration: a constant, a root variable, or unknown."""
    expression = _map(expression, name, path)
    if "constant_value" in expression:
        constant = expression["constant_value"]
        if constant is None:
            return TagVariant({})
        tags = _map(constant, name, f"{path}.constant_value", "a map of tags")
        return TagVariant({str(k): _scalar(v, name, f"{path}.constant_value.{k}") for k, v in tags.items()})
    references = expression.get("references")
    if isinstance(references, list) and len(references) in (1, 2) and isinstance(references[0], str):
        variable = references[0]
        variables = plan.get("variables")
        if variable.startswith("var.") and isinstance(variables, dict):
            entry = variables.get(variable.removeprefix("var."))
            if isinstance(entry, dict) and isinstance(entry.get("value"), dict):
                value = entry["value"]
                if all(isinstance(v, str) or v is None for v in value.values()):
                    return TagVariant({str(k): v for k, v in value.items()})
    return True


class _DefaultTags:
    """``default_tags`` per AWS provider configuration (``configuration.provider_config``), and which resource
    uses which configuration (``provider_config_key`` in the configuration's modules)."""

    def __init__(self, plan: Mapping[str, Any], name: str) -> None:
        self.by_config: dict[str, DefaultTags] = {}
        self.config_of: dict[str, str] = {}
        configuration = plan.get("configuration")
        if configuration is None:
            return
        configuration = _map(configuration, name, "configuration")
        providers = _map(configuration.get("provider_config") or {}, name, "configuration.provider_config")
        for key, raw_config in providers.items():
            at = f"configuration.provider_config.{key}"
            config = _map(raw_config, name, at)
            provider = str(config.get("name") or str(key).rsplit(":", 1)[-1].split(".", 1)[0])
            if provider != "aws":
                continue
            expressions = _map(config.get("expressions") or {}, name, f"{at}.expressions")
            blocks = expressions.get("default_tags")
            if blocks is None:
                self.by_config[str(key)] = None
                continue
            blocks = _list(blocks, name, f"{at}.expressions.default_tags")
            supplied: DefaultTags = None
            for index, raw_block in enumerate(blocks):
                block = _map(raw_block, name, f"{at}.expressions.default_tags[{index}]")
                if "tags" in block:
                    supplied = _expression_tags(
                        block["tags"], plan, name, f"{at}.expressions.default_tags[{index}].tags"
                    )
            self.by_config[str(key)] = supplied
        if "root_module" in configuration:
            self._map_module(configuration["root_module"], "", name, "configuration.root_module", 0)

    def _map_module(self, module: Any, prefix: str, name: str, path: str, depth: int) -> None:
        module = _map(module, name, path)
        for index, item in enumerate(_list(module.get("resources") or [], name, f"{path}.resources")):
            resource = _map(item, name, f"{path}.resources[{index}]")
            key, address = resource.get("provider_config_key"), resource.get("address")
            if isinstance(key, str) and isinstance(address, str):
                self.config_of[prefix + address] = key
        calls = _map(module.get("module_calls") or {}, name, f"{path}.module_calls")
        for call, raw_body in calls.items():
            body = _map(raw_body, name, f"{path}.module_calls.{call}")
            if "module" in body:
                at = f"{path}.module_calls.{call}.module"
                self._map_module(body["module"], f"{prefix}module.{call}.", name, at, depth + 1)

    def for_address(self, address: str) -> DefaultTags:
        """The default tags that apply to ``address`` (``True`` when some may apply but are unknown)."""
        key = self.config_of.get(_INDEX.sub("", address))
        if key is not None:
            for candidate in (key, key.rsplit(":", 1)[-1]):
                if candidate in self.by_config:
                    return self.by_config[candidate]
        configured = list(self.by_config.values())
        if not configured or all(value is None for value in configured):
            return None
        if len(configured) == 1:
            return configured[0]
        return True  # several AWS provider configurations, and this resource's is not named: any could apply


def _tf_tag_map(value: Any, name: str, path: str, unknown: Any) -> TagVariant:
    """The ``tags``/``tags_all`` map (or awscc's / legacy ASG's list of ``{key, value}``)."""
    tags: dict[str, str | None] = {}
    unresolved: set[str] = set()
    if value is None:
        pass
    elif isinstance(value, dict):
        for key, raw in value.items():
            tags[str(key)] = raw if type(raw) is str else _scalar(raw, name, f"{path}.{key}")
    elif isinstance(value, list):
        return _tf_tag_blocks(value, name, path, unknown)
    else:
        _fail(name, path, f"expected a map of tags, got {_kind(value)}")
    if isinstance(unknown, dict):
        for key, flag in unknown.items():
            if flag is True:
                tags[str(key)] = ""
                unresolved.add(str(key))
    return TagVariant(tags, frozenset(unresolved))


def _tf_tag_blocks(value: Any, name: str, path: str, unknown: Any) -> TagVariant:
    """A list of ``{key, value[, propagate_at_launch]}`` (ASG ``tag`` blocks, legacy ASG ``tags``, awscc ``tags``)."""
    tags: dict[str, str | None] = {}
    unresolved: set[str] = set()
    flags = unknown if isinstance(unknown, list) else []
    for index, item in enumerate(_list(value, name, path)):
        at = f"{path}[{index}]"
        block = _map(item, name, at, "a tag {key, value} (this attribute is a list)")
        flag = flags[index] if index < len(flags) and isinstance(flags[index], dict) else {}
        if flag.get("key") is True:
            continue  # the key itself is known only after apply
        if "key" not in block:
            _fail(name, f"{at}.key", "missing: every tag needs a key")
        key = _scalar(block["key"], name, f"{at}.key")
        if key is None:
            _fail(name, f"{at}.key", "a tag key cannot be null")
        if flag.get("value") is True:
            tags[key] = ""
            unresolved.add(key)
        else:
            tags[key] = _scalar(block.get("value"), name, f"{at}.value")
    return TagVariant(tags, frozenset(unresolved))


_DEFAULT_TAGS_UNKNOWN = "the AWS provider's default_tags (their value is not in the plan)"


def _tf_resource(resource: _TfResource, defaults: _DefaultTags, name: str) -> ResourceTags | NotChecked:
    after, unknown, path = resource.after, resource.unknown, resource.path
    attributes = [a for a in ("tags_all", "tags", "tag") if a in after or a in unknown]
    if not after and not unknown:
        detail = "the plan holds no planned values for this resource: its tags cannot be read"
        return NotChecked(resource.address, resource.type_name, "unknown", detail)
    if not attributes:
        return NotChecked(resource.address, resource.type_name, "untaggable", "no tag attribute: cannot carry tags")
    # What the resource's own configuration gives: `tags` (map or list) and ASG `tag` blocks.
    own = TagVariant({})
    for attribute in ("tag", "tags"):
        if unknown.get(attribute) is True:
            detail = f"{attribute} is known only after apply: nothing to check before apply"
            return NotChecked(resource.address, resource.type_name, "unknown", detail)
        if attribute in after:
            part = _tf_tag_map(after[attribute], name, f"{path}.{attribute}", unknown.get(attribute))
            own = TagVariant({**own.tags, **part.tags}, own.unresolved | part.unresolved)
    if "tags_all" not in after and "tags_all" not in unknown:
        return ResourceTags(resource.address, resource.type_name, (own,))  # no default_tags for this resource type
    if unknown.get("tags_all") is not True:
        # Known tags_all: the provider's own merge of tags and default_tags. Read it, plus anything only in tags.
        merged = _tf_tag_map(after.get("tags_all"), name, f"{path}.tags_all", unknown.get("tags_all"))
        tags = {**own.tags, **merged.tags}
        return ResourceTags(
            resource.address, resource.type_name, (TagVariant(tags, own.unresolved | merged.unresolved),)
        )
    return _with_default_tags(resource, own, defaults.for_address(resource.address))


def _with_default_tags(resource: _TfResource, own: TagVariant, supplied: DefaultTags) -> ResourceTags:
    """``tags_all`` is unknown until apply: check what is known, and let the provider configuration say the rest.

    Absent keys are deferred only when a ``default_tags`` block applies whose value the plan does not show.
    """
    if supplied is True:
        return ResourceTags(resource.address, resource.type_name, (own,), deferred=_DEFAULT_TAGS_UNKNOWN)
    if supplied is None:
        note = "tags_all is known only after apply and no provider default_tags apply: checked from tags alone"
        return ResourceTags(resource.address, resource.type_name, (own,), (note,))
    tags = {**supplied.tags, **own.tags}
    unresolved = (supplied.unresolved - set(own.tags)) | own.unresolved
    note = "tags_all is known only after apply: checked from tags and the provider's default_tags"
    return ResourceTags(resource.address, resource.type_name, (TagVariant(tags, unresolved),), (note,))


def extract_terraform(plan: Mapping[str, Any], name: str = "<input>") -> tuple[list[ResourceTags], list[NotChecked]]:
    """AWS resources with the tags they will carry; every other resource listed as not checked, with why."""
    defaults = _DefaultTags(plan, name)
    found: list[ResourceTags] = []
    not_checked: list[NotChecked] = []
    for resource in _tf_candidates(plan, name):
        if resource.provider not in AWS_PROVIDERS:
            detail = f"provider {resource.provider!r} is not AWS: not checked"
            not_checked.append(NotChecked(resource.address, resource.type_name, "not_aws", detail))
            continue
        read = _tf_resource(resource, defaults, name)
        (found if isinstance(read, ResourceTags) else not_checked).append(read)  # type: ignore[arg-type]
    return found, not_checked


# --- tag sets and the tagging API ------------------------------------------------------------------------------


def _key_value_list(items: Any, name: str, path: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for index, item in enumerate(_list(items, name, path, "a list of {Key, Value}")):
        tag = _map(item, name, f"{path}[{index}]", "a tag {Key, Value}")
        if "Key" not in tag:
            _fail(name, f"{path}[{index}].Key", "missing: every tag needs a Key")
        key = _scalar(tag["Key"], name, f"{path}[{index}].Key")
        if key is None:
            _fail(name, f"{path}[{index}].Key", "a tag key cannot be null")
        out[key] = _scalar(tag.get("Value"), name, f"{path}[{index}].Value")
    return out


def extract_tagset(document: Any, name: str = "<input>") -> dict[str, str | None]:
    if isinstance(document, dict) and "Tags" in document and _is_tag_list(document["Tags"]):
        return _key_value_list(document["Tags"], name, "Tags")
    if isinstance(document, dict):
        return {str(k): _scalar(v, name, str(k)) for k, v in document.items()}
    return _key_value_list(document, name, "")


def extract_tagging_api(document: Mapping[str, Any], name: str = "<input>") -> list[ResourceTags]:
    found = []
    for index, item in enumerate(_list(document["ResourceTagMappingList"], name, "ResourceTagMappingList")):
        at = f"ResourceTagMappingList[{index}]"
        mapping = _map(item, name, at, "a resource {ResourceARN, Tags}")
        arn = mapping.get("ResourceARN")
        if not isinstance(arn, str) or not arn:
            _fail(name, f"{at}.ResourceARN", "missing: every resource needs its ResourceARN")
        found.append(single(arn, "", _key_value_list(mapping.get("Tags") or [], name, f"{at}.Tags")))
    return found


# --- checking --------------------------------------------------------------------------------------------------


def _describe(assumed: tuple[tuple[str, bool], ...]) -> str:
    return " and ".join(f"condition {c} is {str(v).lower()}" for c, v in assumed)


def _when(indices: set[int], variants: tuple[TagVariant, ...]) -> str:
    """The simplest true description of the variants (by index) in which a finding holds."""
    conditions = dict.fromkeys(c for c, _ in variants[0].assumed)
    for condition in conditions:
        for value in (False, True):
            matching = {i for i, v in enumerate(variants) if dict(v.assumed).get(condition) == value}
            if matching == indices:
                return _describe(((condition, value),))
    return _describe(variants[min(indices)].assumed)


def check_resource(resource: ResourceTags, policy: TagPolicy, stack_tags: Mapping[str, str]) -> ResourceResult:
    """Validate every variant; findings common to all are plain, the others say under which condition."""
    checks = [
        validate_tags({**stack_tags, **variant.tags}, policy, unresolved=variant.unresolved, deferred=resource.deferred)
        for variant in resource.variants
    ]
    if len(checks) == 1:
        return ResourceResult(resource.resource, resource.resource_type, checks[0], resource.notes)
    seen: dict[Finding, set[int]] = {}
    for index, check in enumerate(checks):
        for finding in check.findings:
            seen.setdefault(finding, set()).add(index)
    everywhere = set(range(len(checks)))
    findings = []
    for finding, indices in seen.items():
        if indices == everywhere:
            findings.append(finding)
            continue
        when = _when(indices, resource.variants)
        findings.append(replace(finding, when=when, message=f"{finding.message} (when {when})"))
    return ResourceResult(resource.resource, resource.resource_type, TagCheck(tuple(findings)), resource.notes)


def check_document(
    document: Any,
    policy: TagPolicy,
    *,
    name: str = "<input>",
    stack_tags: Mapping[str, str] | None = None,
    resolve: Resolver | None = None,
) -> DocumentReport:
    """Check every taggable resource of one parsed document. ``stack_tags`` are tags applied at deploy time to
    every resource (``aws cloudformation deploy --tags``); resource tags win over them. ``resolve`` reads a nested
    stack's local template (without it, nested stacks are listed as not checked)."""
    check_shape(document, name)
    fmt = detect_format(document, name)
    report = DocumentReport(name, fmt)
    extra = dict(stack_tags or {})
    resources: list[ResourceTags]
    if fmt == "tagset":
        resources = [single("(tag set)", "", extract_tagset(document, name))]
    elif fmt == "tagging-api":
        resources = extract_tagging_api(document, name)
    elif fmt == "cloudformation":
        resources, report.not_checked = extract_cloudformation(document, name, resolve)
    else:
        resources, report.not_checked = extract_terraform(document, name)
    report.results.extend(check_resource(resource, policy, extra) for resource in resources)
    return report
