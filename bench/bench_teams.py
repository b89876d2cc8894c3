"""The team directory at scale: document size, the first ``load_settings()`` of a container, handler cold imports.

Acceptance (issue 9, "Team directory at scale"): 1,000 teams load from the delivered document, cached per
container, and the functions' cold import is unchanged (the directory is read on first use, not at import). Each
number is the median of fresh interpreters (dev venv, ``PYTHONPATH=functions``), so module caches do not flatter it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from costwarden.settings import parse_settings
from costwarden.teams import TEAMS_FILE_ENV_VAR, write_document

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 1_000, 5_000)
RUNS = 5
HANDLERS = ("costwarden.handlers.notifier", "costwarden.handlers.cost_monitor", "costwarden.handlers.reaper")


def directory(count: int) -> dict[str, Any]:
    """``count`` teams with a 30-character name, a budget, three owners and one of 40 shared channels."""
    return {
        f"ml-platform-team-{n:05d}-research": {
            "monthly_usd": 2_500.0 + n,
            "owners": [f"lead.{n}@example.com", f"U{n:08d}", f"S{n:08d}"],
            "channel": f"ml-alerts-{n % 40:02d}",
        }
        for n in range(count)
    }


def _fresh(code: str, env: dict[str, str]) -> float:
    """Median seconds ``code`` prints, over ``RUNS`` fresh interpreters."""
    base = {"PYTHONPATH": str(ROOT / "functions"), "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    times = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**base, **env}
        )
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    load = (
        "import time; from costwarden import settings; t = time.perf_counter(); s = settings.load_settings(); "
        "d = time.perf_counter() - t; assert len(s.teams) > 0; print(d)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for count in SIZES:
            settings = parse_settings({"teams": directory(count)})
            path = write_document(settings.teams_json(), Path(tmp) / f"teams-{count}.json")
            rows.append(
                {
                    "measure": f"first load_settings(), {count:,} teams",
                    "ms": round(1000 * _fresh(load, {TEAMS_FILE_ENV_VAR: str(path)}), 1),
                    "document_kb": round(path.stat().st_size / 1024, 1),
                    "env_bytes": len(settings.to_env().encode()),
                }
            )
    for module in HANDLERS:
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        env = {"POWERTOOLS_TRACE_DISABLED": "true", **({"HOME": os.environ["HOME"]} if "HOME" in os.environ else {})}
        rows.append({"measure": f"cold import {module}", "ms": round(1000 * _fresh(code, env), 1)})
    print(f"{'measure':55} {'ms':>8} {'document KB':>12} {'env bytes':>10}")
    for row in rows:
        print(f"{row['measure']:55} {row['ms']:>8} {row.get('document_kb', ''):>12} {row.get('env_bytes', ''):>10}")
    return rows


if __name__ == "__main__":
    main()
