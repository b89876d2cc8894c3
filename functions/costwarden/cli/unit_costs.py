"""``costwarden unit-costs [--month YYYY-MM] [--cur FILE] [--usage FILE] [--format table|json]``: unit costs.

Reads a CUR 2.0 Data Export file (``--cur``: CSV or Parquet, the month's line items) and the denominators
(``--usage``: a CSV of ``date, model, metric, value``; without it, the endpoints' daily ``Invocations`` and the
configured custom metrics are read from CloudWatch with boto3's standard configuration) and prints, per model (or
Bedrock application) for the month: USD per 1,000 inferences, per training run (and GPU-hour, from the bill's
training line items) and per 1M tokens with its parts by token kind. ``--format json``: the envelope of
docs/cli.md, one result per model and unit (``model, team, unit, quantity, cost_usd, usd_per_unit``, ``parts``
for tokens), the Bedrock reconciliation and the cost nobody owns in ``totals``. Exit 0; 1 when the token parts do
not reconcile with the Bedrock bill (within 1 %); 2 for bad input; 3 when a denominator could not be read.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from costwarden.cli import envelope, verdict
from costwarden.cli.main import EXIT_COULD_NOT_RUN, EXIT_FOUND, EXIT_OK, CliError

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(raw: str) -> str:
    if not _MONTH.fullmatch(raw):
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {raw!r}")
    return raw


def _next_month(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    return date(year + number // 12, number % 12 + 1, 1)


def _command(args: argparse.Namespace) -> int:
    import pandas as pd

    from costwarden.services.unitcost import lines_of
    from costwarden.settings import load_settings
    from costwarden.unitcost import lines as cur
    from costwarden.unitcost.usage import read_usage

    if args.cur is None:
        raise CliError("--cur FILE is needed: the CUR 2.0 export (CSV or Parquet) whose line items are priced")
    settings = load_settings()
    try:
        lines = lines_of(settings, cur.read_file(Path(args.cur)), args.cur)
        month = args.month or (str(lines["date"].max())[:7] if not lines.empty else None)
        if month is None:
            raise CliError(f"{args.cur}: no line items to price")
        errors: list[str] = []
        if args.usage is not None:
            table = pd.read_csv(args.usage, dtype=str, keep_default_na=False) if Path(args.usage).is_file() else None
            if table is None:
                raise CliError(f"--usage {args.usage}: no such file")
            usage = read_usage(table, args.usage)
        else:
            usage, errors = _cloudwatch(settings, lines, month)
    except cur.UnitCostError as error:
        raise CliError(str(error)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CliError(f"--usage {args.usage}: not a readable CSV ({type(error).__name__})") from None
    from costwarden.services.unitcost import unit_costs

    report = unit_costs(settings, lines, usage, period=month, errors=errors)
    rows = [r.to_dict() for r in report.results]
    if args.format == "json":
        envelope.emit("unit-costs", rows, errors=report.errors, totals=report.totals())
    else:
        print(_table(rows) if rows else verdict.clean_or_partial(f"no unit costs in {month}", report.errors))
        check = report.reconciliation
        print(
            f"Bedrock: bill {check.bill_usd:,.2f} USD = tokens {check.tokens_usd:,.2f} + other {check.other_usd:,.2f}"
            f" ({'reconciled' if check.ok else f'GAP {check.gap_usd:,.2f} USD'}); "
            f"unowned {report.shared_usd:,.2f} USD"
        )
        verdict.say_partial("unit-costs", report.errors)
    if report.errors:
        return EXIT_COULD_NOT_RUN
    return EXIT_OK if report.reconciliation.ok else EXIT_FOUND


def _cloudwatch(settings: Any, lines: Any, month: str) -> tuple[Any, list[str]]:
    """The month's denominators from CloudWatch (the endpoints the bill names, the custom metrics)."""
    from costwarden.adapters import aws
    from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
    from costwarden.services.unitcost import read_denominators

    region = aws.client("sts").meta.region_name or "us-east-1"
    metrics = CloudWatchMetrics(aws.client)
    start = date(int(month[:4]), int(month[5:]), 1)
    usage, errors = read_denominators(
        metrics, lines, settings.unitcost, start=start, end=_next_month(month), default_region=region
    )
    requests = ", ".join(f"{op} {n}" for op, n in sorted(metrics.requests.items())) or "none"
    print(f"costwarden unit-costs: metric requests: {requests}", file=sys.stderr)
    return usage, errors


def _table(rows: list[dict[str, Any]]) -> str:
    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.0f}" if value.is_integer() and abs(value) >= 100 else f"{value:,.4f}"
        return str(value)

    header = ("model", "application", "team", "unit", "quantity", "cost_usd", "usd_per_unit")
    body = [tuple(cell(r.get(k, "")) for k in header) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in [header, *body])


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "unit-costs",
        help="USD per 1k inferences, per training run and per 1M tokens, per model (from a CUR 2.0 export)",
        description="Unit costs per model and month: inference, training and Bedrock tokens (docs/unitcost.md).",
    )
    parser.add_argument("--month", type=_month, help="the month YYYY-MM (default: the CUR's latest)")
    parser.add_argument("--cur", metavar="FILE", help="CUR 2.0 export, CSV or Parquet (line items)")
    parser.add_argument(
        "--usage", metavar="FILE", help="CSV of denominators: date, model, metric, value (default: CloudWatch)"
    )
    envelope.add_format(parser)
    parser.set_defaults(func=_command)
