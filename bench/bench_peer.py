"""Costwarden beside Cloud Custodian (issue 27). ``python -m bench bench_peer`` (and ``make bench``) runs the parts
that need nothing installed: the idle judge's CPU at 350,000 points (``bench/peer/judge.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.peer import judge  # noqa: E402


def main() -> dict[str, Any]:
    return {"idle_judge": judge.main()}


if __name__ == "__main__":
    main()
