"""``costwarden doctor [--format table|json]``: is this account ready for the deployment? Read-only.

Exit codes: 0 every check ok, 1 something missing or wrong (each with its fix), 3 a check could not run (no
credentials, access denied: named in ``errors``), 2 bad input (settings). docs/doctor.md lists the checks.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

MARK = {"ok": "ok", "missing": "MISSING", "wrong": "WRONG"}


def render_table(envelope: dict[str, Any]) -> str:
    lines = []
    for result in envelope["results"]:
        lines.append(f"{MARK[result['status']]:8} {result['check']}: {result['detail']}")
        if result["fix"]:
            lines.append(f"{'':8}   fix: {result['fix']}")
    lines.extend(f"{'ERROR':8} {error}" for error in envelope["errors"])
    totals = envelope["totals"]
    lines.append(
        f"{totals['ok']} ok, {totals['missing']} missing, {totals['wrong']} wrong, {len(envelope['errors'])} not run"
    )
    return "\n".join(lines)


def _command(args: argparse.Namespace) -> int:
    from costwarden.services.doctor import report
    from costwarden.settings import load_settings

    envelope, code = report(load_settings())
    if args.format == "json":
        json.dump(envelope, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_table(envelope))
    return code


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help="check the account against what the deployment needs (read-only)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    parser.set_defaults(func=_command)
