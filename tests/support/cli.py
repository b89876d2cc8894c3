"""Running the ``costwarden`` CLI in-process from a test, as a user would type it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from costwarden.cli import main as cli_main


def tags_validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``costwarden tags validate ARGV...``: (exit code, stdout, stderr)."""
    code = cli_main.main(["tags", "validate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def validate_body(out: str) -> dict[str, Any]:
    """``tags validate --format json`` stdout (the envelope: one result per file), as the whole run's lists:
    ``ok``, and every file's ``violations``, ``notes`` and ``not_checked`` in file order; ``files`` the results."""
    body = json.loads(out)
    files = body["results"]
    assert body["command"] == "tags validate" and body["totals"]["files"] == len(files)
    return {
        "ok": body["totals"]["ok"],
        "files": files,
        **{part: [item for f in files for item in f[part]] for part in ("violations", "notes", "not_checked")},
    }
