"""The idle finder's logic imports neither boto3/botocore nor ``costwarden.adapters`` (directly or through others)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MODULES = ("alerts", "iam", "judge", "marks", "model", "ports", "pricing", "recommend", "run", "service")


def test_idle_logic_never_imports_aws_sdks_or_adapters() -> None:
    code = (
        "import sys\n"
        + "".join(f"import costwarden.idle.{m}\n" for m in MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore') "
        "or m.startswith('costwarden.adapters'))\nprint(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "functions")},
    )
    assert out.stdout.strip() == "[]"
