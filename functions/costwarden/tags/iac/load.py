"""Reading a document: JSON or YAML (with CloudFormation's short-form intrinsics), and which format it is, from
its content (not the file name, not one marker field)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from costwarden.tags.iac.core import Format, IacError, _fail


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
