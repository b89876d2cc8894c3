"""Tags in infrastructure-as-code: read a tag set, a CloudFormation template or a Terraform plan, check every
resource against the policy (the CI gate behind ``costwarden tags validate``).

Formats, detected from the content (not the file name):

* **tag set** — a JSON object of strings (``{"team": "ml"}``), a list of ``{"Key", "Value"}``, or ``{"Tags": [...]}``
  (the shape ``aws ... list-tags`` prints).
* **CloudFormation** — a template in JSON or YAML with a ``Resources`` section, including YAML short-form intrinsic
  functions (``!Ref``, ``!Sub``, ``!GetAtt``...). CDK output (``cdk.out/*.template.json``) is this format. Which
  types can carry tags, and in which property, is decided by :mod:`costwarden.tags.cfn_types`.
* **tagging API output** — ``aws resourcegroupstaggingapi get-resources`` (``ResourceTagMappingList``): every
  resource, named by its ARN, as the weekly audit sees it.
* **Terraform plan** — ``terraform show -json plan.out``: ``resource_changes`` (preferred) or ``planned_values``.
  ``tags_all`` (which includes the provider's ``default_tags``) is read when present, else ``tags``; a managed
  resource whose planned values have neither attribute cannot carry tags and is skipped. Resources the plan
  deletes and data sources are skipped.

A tag whose value is an intrinsic function (``{"Ref": "Env"}``, ``!Sub``) or "known after apply" is unknown until
deploy: it counts as present, its value is not checked, and the report says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from costwarden.settings import TagPolicy
from costwarden.tags.cfn_types import known_untaggable, taggable_types
from costwarden.tags.validate import Finding, TagCheck, validate_tags

Format = Literal["tagset", "cloudformation", "terraform", "tagging-api"]


class IacError(ValueError):
    """The input cannot be read or is none of the known formats; the message says which and why."""


@dataclass(frozen=True)
class ResourceTags:
    """The tags one resource will carry, as far as the file tells."""

    resource: str
    resource_type: str
    tags: dict[str, str]
    unresolved: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceResult:
    resource: str
    resource_type: str
    check: TagCheck
    notes: tuple[str, ...] = ()


@dataclass
class DocumentReport:
    """Every checked resource of one file, and the resources skipped because they cannot carry tags."""

    name: str
    format: Format
    results: list[ResourceResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def violations(self) -> list[tuple[ResourceResult, Finding]]:
        return [(result, finding) for result in self.results for finding in result.check.violations]

    @property
    def ok(self) -> bool:
        return not self.violations


# --- reading ---------------------------------------------------------------------------------------------------


def _cfn_yaml_loader() -> type[Any]:
    """A SafeLoader that turns CloudFormation's short-form tags into their long form (``!Ref X`` → ``{"Ref": X}``)."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
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


def load_document(text: str, name: str = "<input>") -> Any:
    """JSON if it parses as JSON, else YAML (with CloudFormation short forms)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_error:
        import yaml

        try:
            return yaml.load(text, Loader=_cfn_yaml_loader())  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as yaml_error:
            raise IacError(f"{name}: neither JSON ({json_error}) nor YAML ({yaml_error})") from None


def _is_tag_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "Key" in item for item in value)


def detect_format(document: Any, name: str = "<input>") -> Format:
    if isinstance(document, dict):
        if isinstance(document.get("Resources"), dict):
            return "cloudformation"
        if isinstance(document.get("ResourceTagMappingList"), list):
            return "tagging-api"
        if "format_version" in document and any(
            k in document for k in ("resource_changes", "planned_values", "values")
        ):
            return "terraform"
        if "format_version" in document:
            raise IacError(
                f"{name}: Terraform JSON without resource_changes/planned_values: pass the plan "
                "('terraform show -json plan.out > plan.json'), not the configuration"
            )
        if "Tags" in document and _is_tag_list(document["Tags"]):
            return "tagset"
        if document and all(isinstance(v, str) for v in document.values()):
            return "tagset"
    if _is_tag_list(document):
        return "tagset"
    raise IacError(
        f"{name}: not a tag set (JSON object of strings or list of {{Key, Value}}), a CloudFormation template "
        "(no 'Resources' section) or a Terraform plan ('terraform show -json' output)"
    )


# --- CloudFormation --------------------------------------------------------------------------------------------


def is_intrinsic(value: Any) -> bool:
    """``{"Ref": ...}`` / ``{"Fn::Sub": ...}``: a value CloudFormation computes at deploy time."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
    )


def _collect_cfn_tags(value: Any, into: dict[str, str], unresolved: set[str], notes: list[str]) -> None:
    """Read one tag property value (list of {Key, Value}, or a map) into ``into``."""
    if is_intrinsic(value):
        notes.append(f"the tag property is computed ({next(iter(value))}): its tags are unknown at synth")
        return
    if isinstance(value, dict):
        items = [{"Key": k, "Value": v} for k, v in value.items()]
    elif isinstance(value, list):
        items = value
    else:
        return
    for item in items:
        tag = item
        if (
            isinstance(item, dict)
            and "Fn::If" in item
            and isinstance(item["Fn::If"], list)
            and len(item["Fn::If"]) == 3
        ):
            # A conditional tag: present when the condition holds. Count it as present, value unknown.
            tag = item["Fn::If"][1]
            if isinstance(tag, dict) and isinstance(tag.get("Key"), str):
                into[tag["Key"]] = ""
                unresolved.add(tag["Key"])
                notes.append(f"tag '{tag['Key']}' is conditional (Fn::If): accepted as present")
            continue
        if not isinstance(tag, dict):
            continue
        key, val = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str):
            notes.append("a tag key is computed (intrinsic function): unknown at synth")
            continue
        if isinstance(val, str | int | float | bool):
            into[key] = str(val).lower() if isinstance(val, bool) else str(val)
        else:
            into[key] = ""
            unresolved.add(key)


def _walk_property(properties: Any, path: list[str]) -> Iterator[Any]:
    """Values at ``TagSpecifications/*/Tags``-style paths."""
    if not path:
        yield properties
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(properties, list):
            for item in properties:
                yield from _walk_property(item, rest)
    elif isinstance(properties, dict) and head in properties:
        yield from _walk_property(properties[head], rest)


def extract_cloudformation(template: Mapping[str, Any]) -> tuple[list[ResourceTags], list[tuple[str, str]]]:
    """Taggable resources with their tags, and the (logical id, type) pairs skipped as untaggable."""
    taggable = taggable_types()
    untaggable = known_untaggable()
    found: list[ResourceTags] = []
    skipped: list[tuple[str, str]] = []
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            continue
        type_name = str(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        prop_path = taggable.get(type_name)
        if prop_path is None:
            if type_name in untaggable or not isinstance(properties, dict) or "Tags" not in properties:
                skipped.append((logical_id, type_name))
                continue
            prop_path = "Tags"
        tags: dict[str, str] = {}
        unresolved: set[str] = set()
        notes: list[str] = []
        if is_intrinsic(properties):
            notes.append("the resource's properties are computed: tags unknown at synth")
        for value in _walk_property(properties, prop_path.split("/")):
            _collect_cfn_tags(value, tags, unresolved, notes)
        found.append(ResourceTags(logical_id, type_name, tags, frozenset(unresolved), tuple(notes)))
    return found, skipped


# --- Terraform -------------------------------------------------------------------------------------------------


def _module_resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _module_resources(child)


def _tf_candidates(plan: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    """(address, type, values after apply, which of them are unknown) for every managed resource that will exist."""
    if "resource_changes" in plan:
        for change in plan["resource_changes"]:
            body = change.get("change", {})
            if change.get("mode", "managed") != "managed" or body.get("actions") == ["delete"]:
                continue
            yield change["address"], change.get("type", ""), body.get("after") or {}, body.get("after_unknown") or {}
        return
    root = (plan.get("planned_values") or plan.get("values") or {}).get("root_module", {})
    for resource in _module_resources(root):
        if resource.get("mode", "managed") == "managed":
            yield resource["address"], resource.get("type", ""), resource.get("values") or {}, {}


def _tf_tags(after: Mapping[str, Any], unknown: Mapping[str, Any]) -> tuple[str, dict[str, str], set[str]] | None:
    """(attribute read, tags, unknown keys), or None when the resource has no tag attribute at all."""
    for attribute in ("tags_all", "tags"):
        if attribute not in after and attribute not in unknown:
            continue
        tags_unknown = unknown.get(attribute)
        if tags_unknown is True:
            return attribute, {}, {"*"}
        raw = after.get(attribute) or {}
        tags = {str(k): "" if v is None else str(v) for k, v in raw.items()}
        unresolved = {str(k) for k, v in (tags_unknown or {}).items() if v is True}
        for key in unresolved:
            tags.setdefault(key, "")
        return attribute, tags, unresolved
    if isinstance(after.get("tag"), list):  # aws_autoscaling_group's tag blocks
        return "tag", {str(t.get("key")): str(t.get("value", "")) for t in after["tag"] if isinstance(t, dict)}, set()
    return None


def extract_terraform(plan: Mapping[str, Any]) -> tuple[list[ResourceTags], list[tuple[str, str]]]:
    found: list[ResourceTags] = []
    skipped: list[tuple[str, str]] = []
    for address, type_name, after, unknown in _tf_candidates(plan):
        read = _tf_tags(after, unknown)
        if read is None:
            skipped.append((address, type_name))
            continue
        attribute, tags, unresolved = read
        if unresolved == {"*"}:
            note = f"{attribute} is known only after apply: tags cannot be checked before apply"
            found.append(ResourceTags(address, type_name, {}, frozenset({"*"}), (note,)))
            continue
        found.append(ResourceTags(address, type_name, tags, frozenset(unresolved)))
    return found, skipped


# --- tag sets --------------------------------------------------------------------------------------------------


def extract_tagset(document: Any) -> dict[str, str]:
    items = document.get("Tags", document) if isinstance(document, dict) else document
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    return {str(item["Key"]): str(item.get("Value", "")) for item in items}


# --- checking --------------------------------------------------------------------------------------------------


def check_resource(resource: ResourceTags, policy: TagPolicy, stack_tags: Mapping[str, str]) -> ResourceResult:
    if "*" in resource.unresolved:
        return ResourceResult(resource.resource, resource.resource_type, TagCheck(), resource.notes)
    tags = {**stack_tags, **resource.tags}
    check = validate_tags(tags, policy, unresolved=resource.unresolved)
    return ResourceResult(resource.resource, resource.resource_type, check, resource.notes)


def check_document(
    document: Any,
    policy: TagPolicy,
    *,
    name: str = "<input>",
    stack_tags: Mapping[str, str] | None = None,
) -> DocumentReport:
    """Check every taggable resource of one parsed document. ``stack_tags`` are tags applied at deploy time to
    every resource (``aws cloudformation deploy --tags``); resource tags win over them."""
    fmt = detect_format(document, name)
    report = DocumentReport(name, fmt)
    extra = dict(stack_tags or {})
    if fmt == "tagset":
        report.results.append(check_resource(ResourceTags("(tag set)", "", extract_tagset(document)), policy, extra))
        return report
    if fmt == "tagging-api":
        resources = [
            ResourceTags(str(m["ResourceARN"]), "", {t["Key"]: t.get("Value", "") for t in m.get("Tags", [])})
            for m in document["ResourceTagMappingList"]
        ]
    else:
        resources, report.skipped = (
            extract_cloudformation(document) if fmt == "cloudformation" else extract_terraform(document)
        )
    report.results.extend(check_resource(resource, policy, extra) for resource in resources)
    return report
