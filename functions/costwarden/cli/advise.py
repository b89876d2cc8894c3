"""``costwarden advise``: the savings advisor from a laptop.

``--fleet FILE`` prices a fleet described in a CSV (``costwarden.advisor.fleet``): no AWS access at all. Without
``--fleet`` it runs the account advisor (artefact storage, commitments, purchase mix) against the account boto3 is
configured for, read-only unless ``--apply`` is given and ``storage.action`` is ``apply``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from costwarden.cli.main import CliError


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a fleet CSV") from None
    except UnicodeDecodeError as error:
        raise CliError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise CliError(f"{path}: cannot be read ({error.strerror})") from None


def _fleet(args: argparse.Namespace) -> int:
    from costwarden.advisor.fleet import FleetError, advise_fleet, parse_fleet, render_table

    path = Path(args.fleet)
    try:
        report = advise_fleet(parse_fleet(_read_text(path), source=str(path)))
    except FleetError as error:
        raise CliError(str(error)) from None
    if args.format == "json":
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(report) + "\n")
    return 0


def _command(args: argparse.Namespace) -> int:
    if args.fleet is not None:
        return _fleet(args)
    raise CliError("give --fleet FILE (the account advisor is not part of this build yet)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "advise",
        help="savings advisor: price a fleet CSV (--fleet), or find savings in the account",
        description=(
            "With --fleet FILE: on-demand cost of a fleet against reserved, Savings Plan and spot rates (the source's "
            "coverage rules, made honest by the optional columns). Without it: artefact storage lifecycle, "
            "commitments utilisation and expiry, and the purchase mix per team, in the configured account."
        ),
    )
    parser.add_argument(
        "--fleet", metavar="FILE", help="fleet CSV (instance_type, monthly_hours, rates, workload_type)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (table)")
    parser.add_argument(
        "--apply", action="store_true", help="put recommended lifecycle rules (needs storage.action: apply)"
    )
    parser.set_defaults(func=_command)
