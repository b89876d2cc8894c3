"""Parsing and loading settings: errors that name the key, never a secret."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import (
    ValidationError,
)

from costwarden import teams as team_document
from costwarden.redaction import redact
from costwarden.settings._base import (
    CONTEXT_KEY,
    MAX_ERRORS_SHOWN,
    MAX_SETTINGS_ENV_BYTES,
    SETTINGS_ENV_VAR,
)
from costwarden.settings.model import (
    Settings,
)


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the key and says what was expected."""


#: A key the user wrote is shown by name only when it is a plain name (tag keys, team names, field typos).
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:/@+=\- ]{1,64}")
#: Longest value repr an error shows; longer ones are summarised.
_MAX_SHOWN = 80


def _plain(text: str) -> bool:
    return _PLAIN_KEY.fullmatch(text) is not None and redact(text) == text


def _where(raw: Any, loc: tuple[int | str, ...], prefix: str) -> str:
    """``prefix.a.b[2]``; a key of the input that is not a plain name is named by position (``[key 3]``), never by
    its text: a webhook URL pasted as a key is as secret as one pasted as a value."""
    path, node = prefix, raw
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list | tuple) and 0 <= part < len(node) else None
        elif isinstance(node, Mapping) and part in node:
            path += f".{part}" if _plain(part) else f"[key {list(node).index(part)}]"
            node = node[part]
        elif part == "[key]":  # pydantic's label for an error in a mapping's key itself
            path += " (the key)"
        else:  # a field the model names (a missing key) or pydantic's own label: not the user's text
            path += f".{part}"
    return path


def _shown(value: Any) -> str:
    """What an error says it got: the value when it is plain, a description when it might be a secret."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str | Mapping | list | tuple):
        shown = repr(value)
        if redact(shown) != shown:
            return "a value holding a URL or token, not shown"
        if len(shown) <= _MAX_SHOWN and shown.isprintable():
            return shown
        return f"a {type(value).__name__} of length {len(value)}"
    return type(value).__name__


def _describe(error: ValidationError, prefix: str, raw: Any) -> str:
    """One line per problem: where (by key name, or by position for keys that are not plain names), what is
    wrong, and the value when it is safe to print. Never a webhook-looking value, key or message (issue 9)."""
    lines = []
    errors = error.errors()
    for item in errors[:MAX_ERRORS_SHOWN]:
        where = _where(raw, tuple(item["loc"]), prefix)
        lines.append(f"  {where}: {redact(item['msg'])} (got {_shown(item.get('input'))})")
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "invalid Costwarden settings:\n" + "\n".join(lines)


#: Deepest nesting a settings document may have (the real model nests 5 levels; 20,000 would exhaust the stack).
MAX_DEPTH = 32


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number settings accept")


def decode_json(text: str, source: str) -> Any:
    """JSON text of settings (``COSTWARDEN_SETTINGS``, ``cdk.json``) → data, or ``SettingsError`` naming ``source``.

    Stricter than ``json.loads`` where leniency loses a user's intent: a key given twice (the same team twice: the
    first one's budget and channel would vanish), ``NaN``/``Infinity`` literals, and nesting deep enough to exhaust
    the parser's stack are errors, not silently resolved.
    """
    problem = ""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _DuplicateKeyError as error:
        key = str(error)
        problem = (
            f"{source}: the key {key!r} is given twice in one object"
            if _plain(key)
            else (f"{source}: a key is given twice in one object")
        )
    except json.JSONDecodeError as error:  # its ``doc`` is the whole text: raise ours outside the ``except``
        problem = f"{source} is not valid JSON (line {error.lineno}, column {error.colno})"
    except RecursionError:
        problem = f"{source}: nested too deeply (settings nest at most {MAX_DEPTH} levels)"
    except ValueError as error:  # NaN / Infinity
        problem = f"{source}: {error}"
    raise SettingsError(problem)


def _check_shape(node: Any, where: str, depth: int = 0) -> None:
    """What pydantic would not say clearly: nesting beyond ``MAX_DEPTH`` and blank keys (``""`` or ``"  "``)."""
    if depth > MAX_DEPTH:
        raise SettingsError(f"{where}: nested too deeply (settings nest at most {MAX_DEPTH} levels)")
    if isinstance(node, Mapping):
        for index, (key, value) in enumerate(node.items()):
            if isinstance(key, str) and not key.strip():
                raise SettingsError(f"{where}[key {index}]: a blank key names nothing (an unset variable?)")
            _check_shape(
                value, f"{where}.{key}" if isinstance(key, str) and _plain(key) else f"{where}[key {index}]", depth + 1
            )
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            _check_shape(value, f"{where}[{index}]", depth + 1)


def parse_settings(raw: Mapping[str, Any] | None, *, source: str = CONTEXT_KEY) -> Settings:
    """Validate a raw mapping (cdk.json context or decoded env JSON) into ``Settings`` or raise ``SettingsError``."""
    data = dict(raw or {})
    _check_shape(data, source)
    problem = ""
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        problem = _describe(error, source, data)
    if problem:  # raised outside the ``except``: pydantic's error (with every input) must not ride along as context
        raise SettingsError(problem)
    size = len(settings.to_env().encode())
    if size > MAX_SETTINGS_ENV_BYTES:
        raise SettingsError(
            f"{source}: settings take {size} bytes as an environment variable; Lambda allows 4 KB in all. "
            "Shorten budgets or tag lists."
        )
    return settings


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Settings for a running function or CLI, read once per container (or process).

    ``COSTWARDEN_SETTINGS`` if set, else the defaults; plus the team directory from the document named by
    ``COSTWARDEN_TEAMS_FILE`` when that is set (a deployed function: the file in its layer). The directory has one
    source: a document and ``teams`` (or ``budgets.monthly_usd``) in the variable together are an error.
    """
    raw_text = os.environ.get(SETTINGS_ENV_VAR, "")
    raw = decode_json(raw_text, SETTINGS_ENV_VAR) if raw_text else {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{SETTINGS_ENV_VAR} must be a JSON object, got {type(raw).__name__}")
    path = os.environ.get(team_document.TEAMS_FILE_ENV_VAR, "")
    if not path:
        return parse_settings(raw, source=SETTINGS_ENV_VAR)
    budgets = raw.get("budgets")
    if "teams" in raw or (isinstance(budgets, dict) and "monthly_usd" in budgets):
        raise SettingsError(
            f"team data is given twice: in {SETTINGS_ENV_VAR} and in the document {team_document.TEAMS_FILE_ENV_VAR} "
            "names; keep one (deployed functions read the document)"
        )
    try:
        teams = team_document.read_document(path)
    except team_document.TeamDocumentError as error:
        raise SettingsError(str(error)) from None
    return parse_settings({**raw, "teams": teams}, source=path)
