"""``costwarden idle [--regions r1,r2] [--lookback-days N] [--format table|json] [--apply]``: the idle finder.

Prints the findings (``--format json``: the envelope of docs/cli.md, one result per finding, each with ``arn, id,
type, region, team, kind, monthly_usd, evidence, recommendation`` plus ``price_note, environment, commands``; the
run summary in ``totals``) and a summary on stderr: requests by operation and the scan's own CloudWatch cost. Exit 0
whether or not it finds anything; 3 when a region, source or metric read failed (the rest is still printed); 2 for
a bad argument. With ``idle.action: expire`` the marks are
planned and shown; ``--apply`` writes them (the reaper then warns and acts as for any expiry).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from costwarden.cli import envelope, progress, scope, verdict
from costwarden.cli.main import CliError
from costwarden.idle.table import render_table

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


@progress.watched("idle")
def _command(args: argparse.Namespace) -> int:
    import functools

    from pydantic import ValidationError

    from costwarden.idle.run import run_idle
    from costwarden.reaper.execute import write_audit
    from costwarden.services.idle import aws_ports
    from costwarden.services.reaper import default_clients, regions_for, state_store
    from costwarden.settings import IdleSettings, load_settings

    settings = load_settings()
    override = scope.regions(args.regions)
    if args.lookback_days is not None:
        try:
            idle = IdleSettings.model_validate({**settings.idle.model_dump(), "lookback_days": args.lookback_days})
        except ValidationError as error:
            raise CliError(f"--lookback-days: {error.errors()[0]['msg']} (got {args.lookback_days})") from None
        settings = settings.model_copy(update={"idle": idle})
    regions = regions_for(settings, override)
    state, note = state_store()
    if note:
        print(f"costwarden idle: {note}: prices are not cached between runs", file=sys.stderr)
    ports = aws_ports(default_clients, state, settings)
    run = run_idle(
        settings,
        regions=regions,
        ports=ports,
        store=state if note is None else None,
        audit=functools.partial(write_audit, state, settings) if note is None else None,
        apply=args.apply,
    )
    rows = [f.to_dict() for f in run.findings]
    summary = run.summary(dict(getattr(ports.metrics, "requests", {})))
    if args.format == "json":
        totals = {k: v for k, v in summary.items() if k != "errors"}
        envelope.emit("idle", rows, errors=summary["errors"], totals=totals)
    else:
        nothing = "no idle resources found in these regions"
        print(render_table(rows) if rows else verdict.clean_or_partial(nothing, summary["errors"]))
        verdict.say_partial("idle", summary["errors"])
    requests = ", ".join(f"{op} {n}" for op, n in sorted(summary["requests"].items())) or "none"
    print(
        f"costwarden idle: regions {', '.join(regions)}; {summary['findings']} findings, "
        f"{summary['waste_usd_per_month']:,.2f} USD/month of waste; {summary['not_judged']} not judged; "
        f"metric requests: {requests}; {summary['metrics_queried']} metrics read "
        f"(~{summary['scan_cost_usd']:.4f} USD)",
        file=sys.stderr,
    )
    for decision in run.decisions:
        print(
            f"costwarden idle: {decision.action} {decision.id}: {decision.status.value}: {decision.reason}",
            file=sys.stderr,
        )
    if settings.idle.action == "expire" and not args.apply and run.marks.marks:
        print("costwarden idle: marks planned only (--apply writes them)", file=sys.stderr)
    for problem in summary["errors"]:
        print(f"costwarden idle: {problem}", file=sys.stderr)
    return verdict.exit_code(found=False, problems=summary["errors"])


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "idle", help="find idle GPU boxes, endpoints, clusters, notebooks and volumes, priced per team"
    )
    parser.add_argument("--regions", help="comma-separated regions (default: settings, else the current region)")
    parser.add_argument("--lookback-days", type=int, help="days of metrics to judge over (default: settings, 7)")
    envelope.add_format(parser)
    parser.add_argument(
        "--apply", action="store_true", help="with idle.action=expire, write the planned expiry marks (default: plan)"
    )
    parser.set_defaults(func=_command)
