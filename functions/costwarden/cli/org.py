"""``--accounts all|ID,ID [--role-name NAME]`` for ``costwarden reap`` and ``costwarden tags audit``: the plan for
the whole organization from a management-account (or delegated administrator) laptop session, before deploying.

Each account is read through its member role (``organization.member_role_name`` + ``-read``, or ``--role-name``),
one account x region at a time, with exactly the code the state machine runs (``services.org.run_item``). Plan
only: acting across accounts needs the deployed two-phase run (global cap before any account is touched), so
``--apply`` with ``--accounts`` is refused. Output is the single-account output with an ``account`` column (and
``attribution``: ``account default`` when the account's team tag named the owner). Exit 3 when an account could not
be read (``--format json``: named in the envelope's ``errors``, ``complete`` false). A line per account on stderr
when the run is long and stderr is a terminal (``cli/progress.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from costwarden.cli import envelope, progress, scope, verdict
from costwarden.cli.main import CliError, CouldNotRunError, could_not_run

ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")


def add_account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accounts",
        metavar="all|ID,ID",
        help="run for the organization's accounts (management-account session): 'all' or 12-digit ids; plan only",
    )
    parser.add_argument(
        "--role-name", help="member role to assume (default: settings.organization.member_role_name + '-read')"
    )


def _items(args: argparse.Namespace, capability: str) -> tuple[Any, list[Any], dict[str, Any]]:
    from costwarden.adapters import aws
    from costwarden.org.accounts import parse_account_list
    from costwarden.org.items import WorkItem
    from costwarden.services.org import list_items
    from costwarden.settings import load_settings

    try:
        ids = parse_account_list(args.accounts)
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.role_name is not None and not ROLE_NAME_RE.match(args.role_name):
        raise CliError(f"--role-name: not an IAM role name: {args.role_name!r}")
    settings = load_settings()
    regions = scope.regions(getattr(args, "regions", None))
    try:
        listing = list_items(settings, capability, accounts=ids, regions=regions, role_name=args.role_name)
    except aws.AWS_ERRORS as error:
        raise CouldNotRunError(
            f"cannot list the organization's accounts (organizations:ListAccounts): {could_not_run(error)}"
        ) from None
    if ids and listing["unknown_ids"]:
        raise CliError(f"--accounts: not in this organization: {', '.join(listing['unknown_ids'])}")
    return settings, [WorkItem(**i) for i in listing["items"]], listing


def _run(
    args: argparse.Namespace, capability: str, rows_key: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    from costwarden.adapters.state import MemoryStateStore
    from costwarden.services.org import ItemContext

    settings, items, listing = _items(args, capability)
    rows: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    with progress.watching(envelope.command_name(args)) as shown:
        for number, item in enumerate(items, start=1):
            shown.step(f"account {item.account_id} {item.region}", f"{number} of {len(items)}")
            outcomes.append(
                _run_one(settings, item, ItemContext(state=MemoryStateStore(), publish_fn=None, detail=True))
            )
            rows.extend(outcomes[-1].get(rows_key, []))
    return rows, outcomes, listing


def _run_one(settings: Any, item: Any, context: Any) -> dict[str, Any]:
    """One account x region, as the state machine runs it; a throttled item is a failed one, named on stderr."""
    from costwarden.services.org import ThrottledError, run_item

    try:
        outcome = run_item(settings, item, context)
    except ThrottledError as error:
        outcome = {"account_id": item.account_id, "region": item.region, "ok": False, "error": str(error)}
    if not outcome.get("ok"):
        print(f"costwarden: account {item.account_id} {item.region}: {outcome.get('error')}", file=sys.stderr)
    return outcome


def _finish(
    outcomes: list[dict[str, Any]],
    listing: dict[str, Any],
    what: str,
    *,
    fmt: str = "table",
    found: bool = False,
    rows: list[dict[str, Any]] | None = None,
    totals: dict[str, Any] | None = None,
) -> int:
    failed = sorted({o["account_id"] for o in outcomes if not o.get("ok")})
    problems = [
        f"{o['account_id']} {o.get('region', '')}: {o.get('error', 'failed')}" for o in outcomes if not o.get("ok")
    ]
    accounts = sorted({o["account_id"] for o in outcomes})
    if fmt == "json":
        whole = {
            "accounts": len(accounts),
            "items": len(outcomes),
            "skipped_accounts": len(listing["skipped_accounts"]),
        }
        envelope.emit(what, rows or [], errors=problems, totals={**whole, **(totals or {})})
    else:
        verdict.say_partial(what, problems)
    print(
        f"costwarden {what}: {len(accounts)} account(s), {len(outcomes)} account x region item(s); "
        f"failed: {', '.join(failed) or 'none'}; skipped: {len(listing['skipped_accounts'])}",
        file=sys.stderr,
    )
    for account, why in sorted(listing["skipped_accounts"].items()):
        print(f"costwarden {what}: skipped {account}: {why}", file=sys.stderr)
    return verdict.exit_code(found=found, problems=problems)


def org_reap(args: argparse.Namespace) -> int:
    """``costwarden reap --accounts ...``: every account's plan, one table."""
    from costwarden.reaper.table import render_table

    if args.apply:
        raise CliError(
            "--apply with --accounts is refused: acting across accounts is the deployed organization run's job "
            "(all plans first, the global cap, then act). Review the plan here, then deploy with organization.enabled"
        )
    rows, outcomes, listing = _run(args, "reaper", "decisions")
    if args.format != "json":
        nothing = "nothing carries expires_at in these accounts and regions"
        failed = [str(o["account_id"]) for o in outcomes if not o.get("ok")]
        print(render_table(rows, account=True) if rows else verdict.clean_or_partial(nothing, failed))
    planned = sum(int(o.get("planned_actions", 0)) for o in outcomes)
    print(f"costwarden reap: plan only across the organization; {planned} action(s) planned", file=sys.stderr)
    totals = {"planned_actions": planned, "dry_run": True}
    return _finish(outcomes, listing, "reap", fmt=args.format, rows=rows, totals=totals)


def org_audit(args: argparse.Namespace) -> int:
    """``costwarden tags audit --accounts ...``: every account's tag violations."""
    rows, outcomes, listing = _run(args, "tag_audit", "violations")
    if args.format != "json":
        for row in rows:
            owner = (
                f"{row['team']} ({row['attribution']})" if row.get("attribution") == "account default" else row["team"]
            )
            print(f"{row['account']}  {owner:<32} {row['summary']}")
        if not rows:
            failed = [str(o["account_id"]) for o in outcomes if not o.get("ok")]
            print(verdict.clean_or_partial("no tag violations in these accounts and regions", failed))
    totals = {"violations": len(rows)}
    return _finish(outcomes, listing, "tags audit", fmt=args.format, found=bool(rows), rows=rows, totals=totals)


@progress.watched("tags audit")
def single_audit(args: argparse.Namespace) -> int:
    """``costwarden tags audit`` for the current account (the scheduled audit's scan, printed, nothing published)."""
    from costwarden.services.tag_audit import run_audit
    from costwarden.settings import load_settings

    regions = scope.regions(args.regions)
    report = run_audit(load_settings(), regions=regions)
    rows = [{"team": v.team, **v.to_dict(), "summary": v.line()} for v in report.violations]
    if args.format == "json":
        envelope.emit("tags audit", rows, errors=report.facts.errors, totals={"violations": len(rows)})
    else:
        for row in rows:
            print(f"{row['team']:<32} {row['summary']}")
        if not rows:
            print(verdict.clean_or_partial("no tag violations in these regions", report.facts.errors))
        verdict.say_partial("tags audit", report.facts.errors)
    for error in report.facts.errors:
        print(f"costwarden tags audit: {error}", file=sys.stderr)
    return verdict.exit_code(found=bool(rows), problems=report.facts.errors)


def audit_command(args: argparse.Namespace) -> int:
    return org_audit(args) if args.accounts is not None else single_audit(args)


def add_audit_command(commands: Any) -> None:
    """``costwarden tags audit``, registered on the ``tags`` command's subcommands."""
    audit = commands.add_parser(
        "audit",
        help="scan live resources for tag violations (this account, or --accounts across the organization)",
    )
    audit.add_argument("--regions", help="comma-separated regions (default: settings, else the current region)")
    envelope.add_format(audit)
    add_account_options(audit)
    audit.set_defaults(func=audit_command)
