"""``costwarden bedrock --metrics FILE --prices FILE [--day YYYY-MM-DD] [--format table|json]``: the Bedrock guard's
estimate on files — today's token counts per profile (CSV, ``bedrock.offline``) x prices (JSON: model id -> USD per
1M tokens per kind) per team, judged against the team's daily budget from the settings. ``--format json``: the
envelope of docs/cli.md, one result per team (``docs/cli.schema.json``, ``bedrock_team``); a model without a price
is named in ``errors`` (the result is then a floor: ``complete`` is false) and exits 3.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from costwarden.cli import envelope, verdict
from costwarden.cli.main import CliError


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{what} {path}: cannot be read ({type(error).__name__})") from None


def _command(args: argparse.Namespace) -> int:
    from costwarden.bedrock.offline import estimate
    from costwarden.bedrock.prices import prices_from_file
    from costwarden.settings import load_settings

    settings = load_settings()
    try:
        day = date.fromisoformat(args.day) if args.day else datetime.now(UTC).date()
    except ValueError:
        raise CliError(f"--day {args.day[:20]!r}: expected YYYY-MM-DD") from None
    try:
        document = json.loads(_read(args.prices, "--prices"))
    except ValueError:
        raise CliError(f"--prices {args.prices}: not JSON") from None
    try:
        prices = prices_from_file(document, region=args.region)
        results = estimate(settings, _read(args.metrics, "--metrics"), prices, day=day, region=args.region)
    except ValueError as error:
        raise CliError(f"{error}") from None
    problems = [note for r in results for note in r["unpriced"]]
    if args.format == "json":
        totals = {"spend_usd": round(sum(r["spend_usd"] for r in results), 6), "teams": len(results)}
        envelope.emit("bedrock", results, errors=problems, totals=totals)
    else:
        for r in results:
            print(f"{r['team']}: {r['spend_usd']:.2f} USD today ({', '.join(r['reasons']) or 'within budget'})")
        verdict.say_partial("bedrock", problems)
    return verdict.exit_code(found=any(r["severity"] for r in results), problems=problems)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bedrock", help="Bedrock spend per team from token counts x prices (files)")
    parser.add_argument("--metrics", required=True, help="CSV: profile, team, model, kind, tokens")
    parser.add_argument("--prices", required=True, help="JSON: model id -> {input, output, cache_read, cache_write}")
    parser.add_argument("--day", help="the day judged (default: today, UTC): its month gives the daily budget")
    parser.add_argument("--region", default="us-east-1", help="the region the tokens were counted in")
    envelope.add_format(parser)
    parser.set_defaults(func=_command)
