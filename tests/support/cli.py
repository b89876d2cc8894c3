"""Running the ``costwarden`` CLI in-process from a test, as a user would type it."""

from __future__ import annotations

import pytest
from costwarden.cli import main as cli_main


def tags_validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``costwarden tags validate ARGV...``: (exit code, stdout, stderr)."""
    code = cli_main.main(["tags", "validate", *argv])
    out, err = capsys.readouterr()
    return code, out, err
