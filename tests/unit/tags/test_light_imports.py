"""The tag audit runs in a light bundle: its handler and the CLI's validate path import no analytics or CDK code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).parents[3] / "functions"
HEAVY = ("pandas", "numpy", "scipy", "pyarrow", "aws_cdk", "jsii", "moto")


@pytest.mark.parametrize("module", ["costwarden.handlers.tag_audit", "costwarden.tags.iac", "costwarden.cli.tags"])
def test_module_imports_nothing_heavy(module: str) -> None:
    code = f"import sys, json, {module}; print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(FUNCTIONS), "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY)
