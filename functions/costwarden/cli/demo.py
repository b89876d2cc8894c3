"""``costwarden demo [--out DIR] [--format table|json]``: the whole guardrail day on a simulated AWS account (see
costwarden.demo).

``--format json`` tells the story on stderr instead and prints the envelope of docs/cli.md on stdout: one result
per file written to the out folder, the alerts and Slack posts counted in ``totals``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from costwarden.cli import envelope

DEFAULT_OUT = "demo-out"


def _command(args: argparse.Namespace) -> int:
    from costwarden.demo.runner import run_demo

    if args.format != "json":
        return run_demo(args.out)
    code = run_demo(args.out, stream=sys.stderr)
    out = Path(args.out)
    files = [{"file": str(path), "bytes": path.stat().st_size} for path in sorted(out.iterdir()) if path.is_file()]
    envelope.emit(
        "demo", files, errors=[] if code == 0 else ["a demo step failed (stderr names it)"], totals=_counts(out)
    )
    return code


def _counts(out: Path) -> dict[str, int]:
    """How many alerts and Slack posts the demo wrote (0 for a file it did not write)."""
    totals = {}
    for name in ("alerts", "slack"):
        try:
            written = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            written = []
        totals[name] = len(written) if isinstance(written, list) else 0
    return totals


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the guardrail's day on a simulated AWS account (local moto server + local Slack stand-in)",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"folder for alerts.json and slack.json (default {DEFAULT_OUT}/)"
    )
    envelope.add_format(parser, help_extra=" (json: the story goes to stderr)")
    parser.set_defaults(func=_command)
