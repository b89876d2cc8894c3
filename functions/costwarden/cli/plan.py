"""``costwarden plan <team> <from> <to> <usd> <reason...>``: declare planned spend, like ``/costwarden plan`` in
Slack (same parser, same record, in the deployed state table). A planned day is judged against its baseline plus
the declared amount; an alert that still fires says it is above the planned amount. ``--format json``: the envelope
of docs/cli.md (one result: the plan as recorded). The state table is ``--state-table`` (``--table``, its old name,
still works with a deprecation line on stderr: it read as an output format).
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from typing import Any

from costwarden.cli import envelope, scope
from costwarden.cli.main import CliError


def _command(args: argparse.Namespace) -> int:
    from costwarden.core import planned
    from costwarden.services.reaper import state_store

    try:
        plan = planned.parse_plan([scope.team(args.team), args.start, args.end, args.usd, *args.reason])
    except planned.PlanError as error:
        raise CliError(str(error)) from None
    if args.table is not None:
        envelope.deprecated("plan", "--table", "--state-table")
    state, note = state_store(args.state_table or args.table)
    if note:
        raise CliError(f"cannot record the plan: {note} (give --state-table or set STATE_TABLE_NAME)")
    now = datetime.now(UTC)
    planned.store(state, plan, by=f"cli:{getpass.getuser()}", now=now)
    if args.format == "json":
        item = {**plan.to_item(), "days": plan.days, "usd_per_day": plan.per_day}
        envelope.emit("plan", [item], totals={"usd": plan.usd, "days": plan.days}, generated_at=now)
    else:
        print(plan.describe())
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plan", help="declare planned spend for a team (judged against baseline + it)")
    parser.add_argument("team", help="the team (its team tag value)")
    parser.add_argument("start", metavar="from", help="first planned day, YYYY-MM-DD")
    parser.add_argument("end", metavar="to", help="last planned day, YYYY-MM-DD")
    parser.add_argument("usd", help="planned extra spend over the whole period, USD")
    parser.add_argument("reason", nargs="+", help="why (shown in the alert and the audit)")
    parser.add_argument("--state-table", help="state table name (default: STATE_TABLE_NAME)")
    parser.add_argument("--table", help="deprecated: use --state-table")
    envelope.add_format(parser)
    parser.set_defaults(func=_command)
