"""Terraform plans (``terraform show -json``, of a plan or a state): the tags each AWS resource will carry, read in
every shape the AWS providers produce, with the provider's ``default_tags`` when ``tags_all`` is unknown."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from costwarden.tags.iac.core import NotChecked, ResourceTags, TagVariant, _fail, _kind, _list, _map, _scalar

AWS_PROVIDERS = frozenset({"aws", "awscc"})

_INDEX = re.compile(r"\[[^\]]*\]")


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
