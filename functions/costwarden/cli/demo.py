"""``costwarden demo [--out DIR]``: the whole guardrail day on a simulated AWS account (see costwarden.demo)."""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_OUT = "demo-out"


def _command(args: argparse.Namespace) -> int:
    from costwarden.demo.runner import run_demo

    return run_demo(args.out)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the guardrail's day on a simulated AWS account (local moto server + local Slack stand-in)",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"folder for alerts.json and slack.json (default {DEFAULT_OUT}/)"
    )
    parser.set_defaults(func=_command)
