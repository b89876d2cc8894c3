"""``costwarden limits [--format json|table] [--regions a,b]``: each limited team's development instances and
GPUs against its limits, right now. Reads only (the hourly reaper run warns and stops; this never acts).
``--format json``: the envelope of docs/cli.md, one result per limited team."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from costwarden.cli import envelope, scope, verdict


def render_table(teams: list[dict[str, Any]]) -> str:
    header = ("TEAM", "INSTANCES", "GPUS", "LEVEL", "ACTION", "NEWEST")
    lines = [header]
    for t in teams:
        instances = f"{t['instances']}" + (f"/{t['instance_limit']}" if t["instance_limit"] is not None else "")
        gpus = f"{t['gpus']}" + (f"/{t['gpu_limit']}" if t["gpu_limit"] is not None else "")
        newest = t["newest"][0] if t["newest"] else "-"
        lines.append((t["team"], instances, gpus, t["level"], t["action"], newest))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in lines)


def _command(args: argparse.Namespace) -> int:
    from costwarden.reaper.limit_run import count_now
    from costwarden.reaper.limits import limited_teams
    from costwarden.services.reaper import default_clients, regions_for
    from costwarden.settings import load_settings

    override = scope.regions(args.regions)  # a blank --regions is bad input even when no team has limits
    settings = load_settings()
    if not limited_teams(settings):
        print(
            "costwarden limits: no team has limits (teams.<team>.limits.development_instances / _gpus)", file=sys.stderr
        )
        if args.format == "json":
            envelope.emit("limits", [], totals={"teams": 0})
        return 0
    regions = regions_for(settings, override)
    counts, errors = count_now(settings, regions=regions, clients=default_clients)
    teams = [c.as_dict() for c in counts]
    problems = [str(error) for error in errors]
    if args.format == "json":
        over = sum(1 for team in teams if team["level"] == "over")
        envelope.emit("limits", teams, errors=problems, totals={"teams": len(teams), "over": over})
    else:
        print(render_table(teams))
        verdict.say_partial("limits", problems)  # the counts above miss what could not be listed
    for error in errors:
        print(f"costwarden limits: could not list {error}", file=sys.stderr)
    return verdict.exit_code(found=False, problems=problems)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("limits", help="development instances and GPUs per team against their limits")
    envelope.add_format(parser)
    parser.add_argument("--regions", help="comma-separated regions (default: settings, else the current region)")
    parser.set_defaults(func=_command)
