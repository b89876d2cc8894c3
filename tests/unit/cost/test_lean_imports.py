"""The Lambda bundle has no pyarrow, and nothing on the cost path needs scipy: check both in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import sys
    for name in ("pyarrow", "scipy"):
        sys.modules[name] = None  # importing either now fails, as in a bundle without them
    from datetime import date
    import costwarden.handlers.cost_monitor  # the Lambda's import
    from costwarden.cost.detect import detect
    from costwarden.cost.forecast import forecast
    from costwarden.demo.synthetic import generate
    data = generate(n_teams=14, seed=3)
    findings = detect(data.frame, ["team"])
    assert len(forecast(data.frame, date(2026, 4, 4))) >= 10
    print(len(findings))
    """
)


def test_cost_path_runs_without_pyarrow_and_scipy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "functions"), "PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"},
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 0
