"""``costwarden report [--month YYYY-MM] --out report.html``: the monthly cost report, written locally.

The same HTML the monthly Lambda writes to the report bucket: per team and for the account, the month (to date, if
it is the current one) and the month before, by the configured report dimensions (model, project, phase), with
month-over-month change, budget status and the advisor's savings findings. ``--format json`` also prints the
figures, as the envelope of docs/cli.md (one result: the report); ``--json`` is its old, deprecated name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import CliError, CouldNotRunError, could_not_run


def _command(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from botocore.exceptions import BotoCoreError, ClientError

    from costwarden.adapters.cost_explorer import CostExplorer
    from costwarden.advisor.report import parse_month, render_html
    from costwarden.services.advisor.report import ReportError, run_report
    from costwarden.services.reaper import state_store
    from costwarden.settings import load_settings

    if args.json:
        envelope.deprecated("report", "--json", "--format json")
        args.format = "json"
    now = datetime.now(UTC)
    try:
        month = parse_month(args.month) if args.month else now.strftime("%Y-%m")
    except ValueError as error:
        raise CliError(f"--month: {error}") from None
    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"--out {out}: is a directory; give a file name such as report.html")
    if not out.parent.exists():
        raise CliError(f"--out {out}: folder {out.parent} does not exist")
    settings = load_settings()
    store, note = state_store()
    if note:
        print(f"costwarden report: {note}: no cache and no savings findings to reuse", file=sys.stderr)
    ce = CostExplorer()
    try:
        report = run_report(settings, ce, store, month=month, today=now.date(), now=now)
    except ReportError as error:
        raise CliError(str(error)) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("ValidationException", "DataUnavailableException"):
            raise CliError(f"Cost Explorer refused the report for {month}: {code}") from None
        raise
    except BotoCoreError as error:
        raise CouldNotRunError(f"cannot reach Cost Explorer: {could_not_run(error)}") from None
    try:
        out.write_text(render_html(report), encoding="utf-8")
    except OSError as error:
        raise CliError(f"--out {out}: cannot write ({error.strerror})") from None
    if args.format == "json":
        totals = {"month": month, "teams": len(report.teams), "ce_requests": report.ce_requests}
        envelope.emit("report", [report.to_dict()], totals=totals)
    print(
        f"costwarden report: {month} written to {out} ({len(report.teams)} teams, {report.ce_requests} Cost Explorer "
        "requests)",
        file=sys.stderr,
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the monthly cost report (self-contained HTML) by team, model, project and phase",
        description="Per team and account: the month and the one before by model, project and lifecycle phase.",
    )
    parser.add_argument("--month", metavar="YYYY-MM", help="month to report (default: the current month, to date)")
    parser.add_argument("--out", required=True, metavar="FILE", help="HTML file to write")
    envelope.add_format(parser, help_extra=" (the HTML file is written either way)")
    parser.add_argument("--json", action="store_true", help="deprecated: use --format json")
    parser.set_defaults(func=_command)
