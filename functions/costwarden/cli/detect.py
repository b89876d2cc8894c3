"""``costwarden detect --costs FILE``: the cost monitor's anomaly detection on a file, from a laptop.

FILE is a CSV or Parquet table with ``date``, the key column(s) and ``cost_usd``, or a FOCUS 1.x export (detected by
its columns; keys are read from its ``Tags`` JSON, or from a FOCUS column of that name). It runs exactly the
detection the Lambda runs (``costwarden.cost.detect``). pandas is imported inside the command, so ``costwarden
--help`` stays fast.

Amounts are never added across currencies: a file with a currency column (FOCUS ``BillingCurrency``, or
``currency``) that mixes them is refused unless ``--currency`` picks one. A file in a single other currency is
analysed in it, and the output says so: its fields are ``cost_eur``, ``baseline_eur``, ... and every finding
carries ``currency``; the impact floor must then be given in that currency (``--min-impact``), since no exchange
rate is applied offline. FOCUS charge categories in ``anomaly.excluded_charge_categories`` are left out of the
series, as Cost Explorer record types are in the Lambda. ``--format json``: the envelope of docs/cli.md, one
result per finding (``date``, the key column(s), ``currency``, the amounts, ``ratio``, ``severity``), the counts by
severity in ``totals``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import CliError

#: Finding fields that hold an amount: named ``*_usd`` in USD, ``*_<currency>`` otherwise.
AMOUNT_FIELDS = ("cost_usd", "baseline_usd", "impact_usd")
DEFAULT_MIN_IMPACT_USD = 50.0


def _keys(raw: str) -> list[str]:
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys or len(keys) > 2:
        raise CliError(f"--key takes one or two comma-separated column names, got {raw!r}")
    return keys


def _number(raw: str) -> float:
    """An argparse type: a finite, non-negative number (``nan`` or ``inf`` would silently disable a rule)."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {raw!r}")
    return value


def _categories(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _min_impact(args: argparse.Namespace, currency: str) -> float:
    """The impact floor in the file's currency: ``--min-impact`` (any currency), else ``--min-impact-usd``."""
    if args.min_impact is not None:
        return float(args.min_impact)
    if currency == "USD":
        return DEFAULT_MIN_IMPACT_USD if args.min_impact_usd is None else float(args.min_impact_usd)
    raise CliError(
        f"the file's amounts are in {currency}: give the impact floor in {currency} with --min-impact AMOUNT "
        f"(--min-impact-usd and its default of {DEFAULT_MIN_IMPACT_USD:g} USD cannot be converted offline)"
    )


def _labelled(findings: Any, currency: str, keys: list[str]) -> Any:
    """Findings with a ``currency`` field, and amount fields named after it when it is not USD."""
    suffix = currency.lower()
    if currency != "USD":
        findings = findings.rename(columns={name: name.replace("_usd", f"_{suffix}") for name in AMOUNT_FIELDS})
    findings.insert(1 + len(keys), "currency", currency)
    return findings


def _table(findings: Any, currency: str) -> str:
    note = "" if currency == "USD" else f"amounts in {currency}\n"
    if findings.empty:
        return note + "no anomalies found"
    text: str = findings.to_string(index=False)
    return note + text


def _check_rule(args: argparse.Namespace) -> None:
    """The rule's options, held to the bounds of ``AnomalySettings`` (one place: a window of 100,000 days or a warn
    ratio of 0.5 is refused here as it is in cdk.json)."""
    from pydantic import ValidationError

    from costwarden.settings import AnomalySettings

    flags = {"baseline_days": "--baseline-days", "warn_ratio": "--warn-ratio", "critical_ratio": "--critical-ratio"}
    try:
        AnomalySettings(
            baseline_days=args.baseline_days,
            min_history_days=min(7, args.baseline_days),
            warn_ratio=args.warn_ratio,
            critical_ratio=args.critical_ratio,
        )
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            problems.append(f"{flags.get(field, 'options')}: {item['msg']}")
        raise CliError("; ".join(problems)) from None


def _command(args: argparse.Namespace) -> int:
    # pandas/numpy load here, not at `costwarden --help`.
    from costwarden.cost.detect import DetectParams, detect
    from costwarden.cost.frame import FrameError, load_costs

    keys = _keys(args.key)
    _check_rule(args)
    if args.exclude_charge_categories is None:
        from costwarden.settings import load_settings

        try:
            excluded = load_settings().anomaly.excluded_charge_categories
        except ValueError as error:  # SettingsError, or COSTWARDEN_SETTINGS that is not JSON
            raise CliError(str(error)) from None
    else:
        excluded = _categories(args.exclude_charge_categories)
    try:
        costs = load_costs(
            Path(args.costs),
            keys,
            excluded_charge_categories=excluded,
            currency=args.currency,
            encoding=args.encoding,
        )
    except FrameError as error:
        raise CliError(str(error)) from None
    params = DetectParams(
        baseline_days=args.baseline_days,
        min_history_days=min(DetectParams.min_history_days, args.baseline_days),
        warn_ratio=args.warn_ratio,
        critical_ratio=args.critical_ratio,
        min_impact_usd=_min_impact(args, costs.currency),
    )
    for note in costs.notes:
        print(f"costwarden detect: {note}", file=sys.stderr)
    findings = _labelled(detect(costs.frame, keys, params), costs.currency, keys)
    if args.format == "json":
        import json

        rows = json.loads(findings.to_json(orient="records", double_precision=6)) if not findings.empty else []
        severities = [str(row.get("severity")) for row in rows]
        totals = {"findings": len(rows), **{level: severities.count(level) for level in _SEVERITY_RANK}}
        envelope.emit("detect", rows, totals={**totals, "currency": costs.currency})
    else:
        sys.stdout.write(_table(findings, costs.currency) + "\n")
    return _fail_on(findings, args.fail_on)


#: ``--fail-on`` levels: a finding at this severity or above makes the exit code 1 (for CI gates).
_SEVERITY_RANK = {"warning": 1, "critical": 2}


def _fail_on(findings: Any, level: str | None) -> int:
    """Exit 1 when a finding reaches ``level`` (``warning`` also counts ``critical``), else 0; no level: 0."""
    if level is None or findings.empty:
        return 0
    worst = max(_SEVERITY_RANK.get(str(severity), 0) for severity in findings["severity"])
    return 1 if worst >= _SEVERITY_RANK[level] else 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="find cost anomalies in a CSV / Parquet / FOCUS file",
        description="Per-series anomaly detection (robust weekday-aware baseline; ratio, impact floor, z-score).",
    )
    parser.add_argument("--costs", required=True, metavar="FILE", help="CSV or Parquet (date, key, cost_usd) or FOCUS")
    parser.add_argument("--key", default="team", help="key column(s), comma-separated, e.g. team,lifecycle_phase")
    parser.add_argument("--baseline-days", type=int, default=30, help="trailing baseline window (default 30)")
    parser.add_argument("--warn-ratio", type=_number, default=1.5, help="warning at cost/baseline >= this (1.5)")
    parser.add_argument("--critical-ratio", type=_number, default=2.0, help="critical at cost/baseline >= this (2.0)")
    parser.add_argument(
        "--min-impact-usd", type=_number, default=None, help="ignore days with less extra spend, USD (50)"
    )
    parser.add_argument(
        "--min-impact",
        type=_number,
        default=None,
        metavar="AMOUNT",
        help="the same floor in the file's currency (required for a file not in USD)",
    )
    parser.add_argument(
        "--currency", metavar="CODE", help="analyse only the rows in this currency (a file mixing currencies)"
    )
    parser.add_argument("--encoding", default="utf-8", help="text encoding of a CSV file (default utf-8)")
    parser.add_argument(
        "--exclude-charge-categories",
        metavar="LIST",
        default=None,
        help="FOCUS ChargeCategory values left out, comma-separated; '' keeps all "
        "(default: anomaly.excluded_charge_categories)",
    )
    envelope.add_format(parser)
    parser.add_argument(
        "--fail-on",
        choices=tuple(_SEVERITY_RANK),
        help="exit 1 when a finding is at this severity or above (for CI); default: exit 0 whatever is found",
    )
    parser.set_defaults(func=_command)
