"""Plain tag sets (a map, a ``{Key, Value}`` list, ``aws ... list-tags`` output) and the tagging API's
``get-resources`` output: every resource named by its ARN, as the weekly audit sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costwarden.tags.iac.core import ResourceTags, _fail, _list, _map, _scalar, single
from costwarden.tags.iac.load import _is_tag_list


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
