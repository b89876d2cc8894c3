"""``costwarden detect --costs FILE``: the cost monitor's anomaly detection on a file, from a laptop.

FILE is a CSV or Parquet table with ``date``, the key column(s) and ``cost_usd``, or a FOCUS 1.x export (detected by
its columns; keys are read from its ``Tags`` JSON, or from a FOCUS column of that name). It runs exactly the
detection the Lambda runs (``costwarden.cost.detect``). pandas is imported inside the command, so ``costwarden
--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from costwarden.cli.main import CliError


def _keys(raw: str) -> list[str]:
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys or len(keys) > 2:
        raise CliError(f"--key takes one or two comma-separated column names, got {raw!r}")
    return keys


def _table(findings: Any) -> str:
    if findings.empty:
        return "no anomalies found"
    text: str = findings.to_string(index=False)
    return text


def _command(args: argparse.Namespace) -> int:
    # pandas/numpy load here, not at `costwarden --help`.
    from costwarden.cost.detect import DetectParams, detect
    from costwarden.cost.frame import FrameError, read_costs

    keys = _keys(args.key)
    if args.critical_ratio < args.warn_ratio:
        raise CliError("--critical-ratio must be at least --warn-ratio")
    if args.baseline_days < 7:
        raise CliError("--baseline-days must be at least 7")
    params = DetectParams(
        baseline_days=args.baseline_days,
        min_history_days=min(DetectParams.min_history_days, args.baseline_days),
        warn_ratio=args.warn_ratio,
        critical_ratio=args.critical_ratio,
        min_impact_usd=args.min_impact_usd,
    )
    try:
        frame = read_costs(Path(args.costs), keys)
    except FrameError as error:
        raise CliError(str(error)) from None
    findings = detect(frame, keys, params)
    if args.format == "json":
        sys.stdout.write(findings.to_json(orient="records", double_precision=6) if not findings.empty else "[]")
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(findings) + "\n")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="find cost anomalies in a CSV / Parquet / FOCUS file",
        description="Per-series anomaly detection (robust weekday-aware baseline; ratio, impact floor, z-score).",
    )
    parser.add_argument("--costs", required=True, metavar="FILE", help="CSV or Parquet (date, key, cost_usd) or FOCUS")
    parser.add_argument("--key", default="team", help="key column(s), comma-separated, e.g. team,lifecycle_phase")
    parser.add_argument("--baseline-days", type=int, default=30, help="trailing baseline window (default 30)")
    parser.add_argument("--warn-ratio", type=float, default=1.5, help="warning at cost/baseline >= this (1.5)")
    parser.add_argument("--critical-ratio", type=float, default=2.0, help="critical at cost/baseline >= this (2.0)")
    parser.add_argument("--min-impact-usd", type=float, default=50.0, help="ignore days with less extra spend (50)")
    parser.add_argument("--format", choices=("json", "table"), default="table", help="output format (table)")
    parser.set_defaults(func=_command)
