"""``costwarden doctor [--format table|json]``: is this account ready for the deployment? Read-only.

Exit codes: 0 every check ok, 1 something missing or wrong (each with its fix), 3 a check could not run (no
credentials, access denied: named in ``errors``), 2 bad input (settings). docs/doctor.md lists the checks.
"""

from __future__ import annotations

import argparse
from typing import Any

from costwarden.cli import envelope

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
    from datetime import UTC, datetime

    from costwarden.doctor import checks
    from costwarden.services.doctor import run
    from costwarden.settings import load_settings

    now = datetime.now(UTC)
    results, errors = run(load_settings(), now=now)
    body = envelope.envelope(
        "doctor", [r.as_dict() for r in results], errors=errors, totals=checks.totals(results), generated_at=now
    )
    if args.format == "json":
        envelope.write(body)
    else:
        print(render_table(body))
    return checks.exit_code(results, errors)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help="check the account against what the deployment needs (read-only)")
    envelope.add_format(parser)
    parser.set_defaults(func=_command)
