"""``costwarden advise``: the savings advisor from a laptop.

``--fleet FILE`` prices a fleet described in a CSV (``costwarden.advisor.fleet``): no AWS access at all. Without
``--fleet`` it runs the account advisor (artefact storage, commitments, purchase mix) against the account boto3 is
configured for, read-only unless ``--apply`` is given and ``storage.action`` is ``apply``.

``--format json``: the envelope of docs/cli.md (``--fleet``: one result per fleet row, the fleet's totals in
``totals``; the account advisor: one result, the whole report, and a source that could not be read in ``errors``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from costwarden.cli import envelope, progress, scope
from costwarden.cli.main import CliError
from costwarden.core.money import usd


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
        data = report.to_dict()
        envelope.emit("advise", data["rows"], totals=data["totals"])
    else:
        sys.stdout.write(render_table(report) + "\n")
    return 0


def _command(args: argparse.Namespace) -> int:
    if args.fleet is not None:
        return _fleet(args)
    return _account(args)


@progress.watched("advise")
def _account(args: argparse.Namespace) -> int:
    # boto3 loads here, not at `costwarden --help`.
    from datetime import UTC, datetime

    from costwarden.services.advisor.runner import run_advisor_on_aws
    from costwarden.services.reaper import regions_for, state_store
    from costwarden.settings import load_settings

    settings = load_settings()
    if args.apply and settings.storage.action != "apply":
        raise CliError("--apply needs storage.action: apply in the settings (the advisor only recommends otherwise)")
    regions = regions_for(settings, scope.regions(args.regions))
    state, note = state_store()
    result = run_advisor_on_aws(
        settings,
        regions=regions,
        state=state,
        publish=None,
        now=datetime.now(UTC),
        allow_apply=args.apply,
        audit=note is None,
    )
    data = result.to_dict(datetime.now(UTC).date())
    errors = result.storage.errors + result.mix.errors + result.commitments.errors
    if args.format == "json":
        totals = {
            "savings_on_the_table_usd_month": data["savings_on_the_table_usd_month"],
            "ce_requests": result.ce_requests,
        }
        envelope.emit("advise", [data], errors=[str(error) for error in errors], totals=totals)
    else:
        _print_tables(data)
    mode = "applied" if not result.storage.dry_run else "no change made (dry run)"
    if note and result.storage.decisions:
        print(f"costwarden advise: {note}: the audit is printed, not stored", file=sys.stderr)
    print(
        f"costwarden advise: {mode}; regions {', '.join(regions)}; {result.ce_requests} Cost Explorer requests "
        f"({usd(result.ce_requests * 0.01, cents=True)})",
        file=sys.stderr,
    )
    for error in errors:
        print(f"costwarden advise: {error}", file=sys.stderr)
    failed = any(d.status.value == "failed" for d in result.storage.decisions)
    return 1 if errors or failed else 0


def _print_tables(data: dict[str, Any]) -> None:
    print(f"Savings on the table: {usd(data['savings_on_the_table_usd_month'])}/month")
    for team, info in data["teams"].items():
        print(f"  {team}: {usd(info['usd_month'])}/month")
        for item in info["items"]:
            print(f"    - {item}")
    storage = data["storage"]
    print("\nArtefact storage")
    print(_storage_table(storage["findings"]) if storage["findings"] else "no artefact bucket without useful rules")
    for d in storage["decisions"]:
        print(f"{d['status']:8} {d['action']} {d['id']} ({d['team']}): {d['reason']}")
    for f in storage["findings"]:
        scope = f" ({', '.join(f['prefixes'])})" if f.get("prefixes") else ""
        print(f"\n# {f['bucket']}{scope}: {', '.join(f['notes']) or 'recommended rules'}\n{f['command']}")
    print("\nPurchase mix (dev / experiment / training compute)")
    for team in data["purchase_mix"]["teams"]:
        share = "n/a" if team["spot_share_pct"] is None else f"{team['spot_share_pct']:.1f} %"
        print(f"  {team['team']}: {usd(team['compute_usd'])}, spot share {share}")
        for c in team["on_demand_that_could_be_spot"]:
            print(_spot_line(c))
        training = team.get("training_jobs")
        if training and training["jobs"]:
            share = "n/a" if training["spot_share_pct"] is None else f"{training['spot_share_pct']:.1f} %"
            print(f"    training jobs: {training['jobs']}, {training['managed_spot_jobs']} on managed spot ({share})")
            for j in training["on_demand_jobs"]:
                print(
                    f"    - job {j['job']} ({j['instance_type']} x{j['instance_count']}, {j['instance_hours']:,.1f} "
                    f"instance-h): {j['recommendation']}, saves {usd(j['savings_usd'], cents=True)}"
                    + ("" if j["checkpointing"] else " (not counted: no checkpointing)")
                )
    commitments = data["commitments"]
    print("\nCommitments")
    for c in commitments["commitments"]:
        util = "n/a" if c["utilisation_pct"] is None else f"{c['utilisation_pct']:.1f} %"
        print(f"  {c['description']} ({c['id']}): used {util}, ends {c['ends'] or 'unknown'}")
    for alert in commitments["alerts"]:
        print(f"  ! {alert['message']}")
    for r in commitments["recommendations"]:
        print(f"  buy: {r['plan_type']} {usd(r['hourly_commitment_usd'], cents=True)}/h for {', '.join(r['teams'])}")


def _spot_line(c: dict[str, Any]) -> str:
    """One spot candidate: its saving, or "not worth it" with both figures when spot would cost more."""
    what = f"    - {c['instance_type']} ({c['kind']}, {c['hours']:,.0f} h)"
    if c.get("worth_it") is False:
        spot, on_demand = usd(c["spot_usd"], cents=True), usd(c["on_demand_usd"], cents=True)
        return f"{what}: not worth it: spot {spot} against on-demand {on_demand}"
    return f"{what}: saves {usd(c['savings_usd'], cents=True)}"


def _storage_table(findings: list[dict[str, Any]]) -> str:
    header = ("BUCKET", "TEAM", "LIFECYCLE", "GIB", "USD/MO NOW", "USD/MO AFTER", "SAVES/MO")
    rows = [
        (
            f["bucket"],
            f["team"],
            f["lifecycle"],
            f"{sum(f['size_gib_by_storage_type'].values()):,.1f}",
            usd(f["monthly_usd_now"], cents=True),
            usd(f["monthly_usd_after"], cents=True),
            usd(f["monthly_savings_usd"], cents=True),
        )
        for f in findings
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in (header, *rows))


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
    envelope.add_format(parser)
    parser.add_argument(
        "--apply", action="store_true", help="put recommended lifecycle rules (needs storage.action: apply)"
    )
    parser.add_argument("--regions", help="comma-separated regions (default: settings.reaper.regions or the current)")
    parser.set_defaults(func=_command)
