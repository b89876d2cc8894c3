"""``costwarden reap [--apply] [--regions a,b] [--format json|table]``: the reaper from a laptop.

A plan (dry run) unless ``--apply``. Works on an account where Costwarden is not deployed: without a usable state
table it keeps no warning state and prints its audit instead of storing it (and says so on stderr). Exit code 1
when an action failed, 3 when a region/source could not be listed, 0 otherwise. ``--format json``: the envelope
(docs/cli.md), one result per decision, the counts by status in ``totals``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from costwarden.cli import envelope, progress, scope, verdict
from costwarden.reaper.table import render_table


@progress.watched("reap")
def _command(args: argparse.Namespace) -> int:
    # Imported here so `costwarden --help` stays fast (boto3 loads only when a command runs).
    from costwarden.core.act import Trigger
    from costwarden.reaper.execute import run_reaper
    from costwarden.services.prices import price_book
    from costwarden.services.reaper import default_clients, regions_for, sns_publisher, state_store
    from costwarden.settings import load_settings

    if args.accounts is not None:
        from costwarden.cli.org import org_reap

        return org_reap(args)
    settings = load_settings()
    regions = regions_for(settings, scope.regions(args.regions))
    state, note = state_store()
    if note:
        print(
            f"costwarden reap: {note}: using an in-memory state store — no warning state is kept and the audit "
            "is printed (below), not stored",
            file=sys.stderr,
        )
    result = run_reaper(
        settings,
        regions=regions,
        clients=default_clients,
        state=state,
        publish_fn=sns_publisher(),
        dry_run=not args.apply,
        store_audit=note is None,
        trigger=Trigger.CLI,
        prices=price_book(default_clients, state, settings),
    )
    rows = [d.to_dict() for d in result.decisions]
    problems = [f"{error.source} in {error.region}: {error.error}" for error in result.errors]
    if args.format == "json":
        totals = {**result.counts(), "blocked": bool(result.blocked), "dry_run": not args.apply, "regions": regions}
        envelope.emit("reap", rows, errors=problems, totals=totals)
    else:
        keys = settings.tags
        nothing = f"nothing carries {keys.expires_key} (or {keys.environment_key}=experiment) in these regions"
        print(render_table(rows) if rows else verdict.clean_or_partial(nothing, problems))
        verdict.say_partial("reap", problems)
    mode = "applied" if args.apply else "plan only (dry run; --apply to act)"
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
    print(f"costwarden reap: {mode}; regions {', '.join(regions)}; {counts}", file=sys.stderr)
    if result.blocked:
        print(
            f"costwarden reap: BLOCKED — more actions than max_actions_per_run ({settings.reaper.max_actions_per_run});"
            " nothing was done",
            file=sys.stderr,
        )
    for error in result.errors:
        print(f"costwarden reap: could not list {error.source} in {error.region}: {error.error}", file=sys.stderr)
    return verdict.exit_code(found=bool(result.failed), problems=[str(error.source) for error in result.errors])


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reap", help="plan (default) or apply the expiry reaper: stop/terminate/delete what is past expires_at"
    )
    parser.add_argument("--apply", action="store_true", help="act on the plan (default: dry run, nothing changes)")
    parser.add_argument("--regions", help="comma-separated regions (default: settings, else the current region)")
    envelope.add_format(parser)
    from costwarden.cli.org import add_account_options

    add_account_options(parser)
    parser.set_defaults(func=_command)
