"""The team directory as a delivered document: how ``Settings.teams`` travels to the functions.

Lambda allows 4 KB of environment per function, and budgets for ~150 teams already filled it. So the directory
(budgets, owners, channel per team: ``costwarden.settings.TeamSettings``) leaves ``COSTWARDEN_SETTINGS`` and
is written at synth, already validated by the settings model, into one JSON file::

    {"schema_version": 1, "teams": {"vision": {"monthly_usd": 12000, "owners": ["S0614TZR7"], "channel": "ml-cv"}}}

Infra ships it in a Lambda layer (``/opt/costwarden/teams.json``) and names it in ``COSTWARDEN_TEAMS_FILE``;
``costwarden.settings.load_settings`` reads it on first use and validates it again (same model, so a hand-edited
or older document fails loudly, naming the team and key), once per container. docs/infra.md says why a file and
not AppConfig.

This module only encodes and decodes the file: it never imports the settings model (settings imports it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Names the team directory document of a function (set by infra; unset: no directory beyond the settings).
TEAMS_FILE_ENV_VAR = "COSTWARDEN_TEAMS_FILE"
#: The document's path inside its layer (Lambda extracts layers into ``/opt``).
LAYER_RELATIVE_PATH = "costwarden/teams.json"
LAYER_MOUNT = "/opt"
#: Where a deployed function finds the document.
DEPLOYED_PATH = f"{LAYER_MOUNT}/{LAYER_RELATIVE_PATH}"
#: Bumped when the document's shape changes incompatibly; a function refuses a version it does not know.
SCHEMA_VERSION = 1
#: A bigger document is refused before it is parsed (a 1,000-team directory is ~150 KB).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class TeamDocumentError(ValueError):
    """The team directory document is missing or has the wrong shape; the message names the file."""


def encode(teams: Mapping[str, Any]) -> bytes:
    """The document for ``teams`` (the JSON form of ``Settings.teams``), byte-for-byte stable for the same input."""
    document = {"schema_version": SCHEMA_VERSION, "teams": dict(teams)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode(data: bytes, source: str) -> dict[str, Any]:
    """The raw ``teams`` mapping of a document (validated by the caller's settings model), or ``TeamDocumentError``."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise TeamDocumentError(f"{source}: team directory of {len(data)} bytes exceeds {MAX_DOCUMENT_BYTES}")
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise TeamDocumentError(f"{source}: not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise TeamDocumentError(
            f"{source}: not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise TeamDocumentError(f"{source}: JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise TeamDocumentError(f"{source}: expected a JSON object with schema_version and teams")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TeamDocumentError(
            f"{source}: schema_version {version!r} is not {SCHEMA_VERSION}: deploy the functions and the document "
            "from the same version of Costwarden"
        )
    unknown = sorted(str(key) for key in document if key not in {"schema_version", "teams"})
    if unknown:
        raise TeamDocumentError(f"{source}: unknown keys {unknown} (expected schema_version, teams)")
    teams = document.get("teams")
    if not isinstance(teams, dict):
        raise TeamDocumentError(f"{source}: teams must be an object {{team: entry}}")
    return teams


def read_document(path: str | Path) -> dict[str, Any]:
    """The raw ``teams`` mapping of the document at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise TeamDocumentError(
            f"{path}: cannot read the team directory ({error.strerror or error}); {TEAMS_FILE_ENV_VAR} names it"
        ) from None
    return decode(data, str(path))


def write_document(teams: Mapping[str, Any], path: Path) -> Path:
    """Write the document for ``teams`` to ``path`` atomically (parallel synths may write the same file)."""
    import tempfile  # only synth, the demo and tests write: functions import this module without it

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".teams-", suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(encode(teams))
    # Lambda reads layer files as another user, and mkstemp creates them 0600.
    Path(temporary).chmod(0o644)
    Path(temporary).replace(path)
    return path
