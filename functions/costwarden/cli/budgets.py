"""``costwarden budgets [--month YYYY-MM] [--format table|json]``: every team's pools, spend, projection, status.

Reads Cost Explorer (month to date grouped by the team and environment tag keys; one request per page) and judges
it with the cost monitor's own rules (``cost.pool_monitor.views_from_frame``, ``cost.budget``): a past month is
judged on its whole length, the current one through yesterday (the last complete day). Teams come from the team
directory (``teams``): those with pools and those with a whole-team ``monthly_usd``. A month that is malformed or
in the future is a user error (exit code 2). ``--format json``: the envelope of docs/cli.md, one result per team.
"""

from __future__ import annotations

import argparse
import calendar
import re
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import CliError, CouldNotRunError, could_not_run
from costwarden.core.money import usd

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(raw: str | None, today: date) -> tuple[date, date]:
    """``(first day, last day judged)`` of ``YYYY-MM`` (default: this month), or ``CliError`` saying what is wrong."""
    if raw is None:
        first = today.replace(day=1)
    else:
        match = _MONTH.fullmatch(raw.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise CliError(f"--month {raw!r}: expected YYYY-MM, a month from 2000-01 (e.g. {today:%Y-%m})")
        first = date(int(match.group(1)), int(match.group(2)), 1)
    if first > today:
        raise CliError(f"--month {first:%Y-%m}: in the future (today is {today.isoformat()}, UTC)")
    month_end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if month_end < today:
        return first, month_end
    if today == first:
        raise CliError(f"--month {first:%Y-%m}: no complete day yet (today is its first day); try the previous month")
    return first, today - timedelta(days=1)


def rows(settings: Any, frame: Any, last_day: date) -> list[dict[str, Any]]:
    from costwarden.cost.budget import budget_views
    from costwarden.cost.pool_monitor import views_from_frame

    team_key = settings.tags.team_key
    pools = {v.team: v.as_dict() for v in views_from_frame(settings, frame, last_day)}
    daily = frame.groupby(["date", team_key], as_index=False)["cost_usd"].sum().rename(columns={team_key: "team"})
    whole = {
        v.team: v.as_dict()
        for v in budget_views(
            daily,
            settings.monthly_budgets(),
            last_day,
            at_risk_ratio=settings.budgets.at_risk_ratio,
            over_budget_ratio=settings.budgets.over_budget_ratio,
        )
    }
    out = []
    for team in sorted(set(pools) | set(whole)):
        entry: dict[str, Any] = {"team": team, "month": f"{last_day:%Y-%m}", "through": last_day.isoformat()}
        entry["team_budget"] = whole.get(team)
        if team in pools:
            entry.update({k: pools[team][k] for k in ("production", "experiment", "unassigned_usd", "unassigned")})
        out.append(entry)
    return out


def render_table(entries: list[dict[str, Any]]) -> str:
    header = ("TEAM", "SCOPE", "BUDGET", "MTD", "PROJECTED", "USED", "STATUS")
    lines: list[tuple[str, ...]] = [header]
    for e in entries:
        scopes: list[tuple[str, dict[str, Any] | None]] = [("team", e.get("team_budget"))]
        scopes += [(pool, e.get(pool)) for pool in ("production", "experiment")]
        for scope, view in scopes:
            if not view or (scope != "team" and view.get("budget_usd") is None and not view.get("month_to_date_usd")):
                continue
            budget = view.get("budget_usd")
            used = view.get("actual_share") if scope == "experiment" else view.get("projected_share")
            lines.append(
                (
                    e["team"],
                    scope,
                    usd(budget),
                    usd(view.get("month_to_date_usd")),
                    usd(view.get("projected_usd")),
                    "-" if used is None else f"{float(used):.0%}" + (" actual" if scope == "experiment" else ""),
                    str(view.get("status") or "NO_BUDGET"),
                )
            )
        if e.get("unassigned_usd"):
            where = ", ".join(f"{k}={usd(v)}" for k, v in e["unassigned"].items())
            lines.append((e["team"], "no pool", "-", usd(e["unassigned_usd"]), "-", "-", where))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in lines)


def _command(args: argparse.Namespace) -> int:
    from costwarden.adapters.aws import AWS_ERRORS
    from costwarden.adapters.cost_explorer import CostExplorer
    from costwarden.cost.frame import from_ce_pages
    from costwarden.settings import load_settings

    settings = load_settings()
    first, last_day = parse_month(args.month, datetime.now(UTC).date())
    if not settings.monthly_budgets() and not any(
        t.pools.production or t.pools.experiment for t in settings.teams.values()
    ):
        raise CliError("no team has a budget or a pool: set teams.<team>.monthly_usd or teams.<team>.pools")
    keys = [settings.tags.team_key, settings.tags.environment_key]
    ce = CostExplorer()
    try:
        pages = ce.daily_by_tags(
            first,
            last_day + timedelta(days=1),
            keys,
            metric=settings.anomaly.cost_metric,
            excluded_record_types=settings.anomaly.excluded_record_types,
        )
    except AWS_ERRORS as error:
        raise CouldNotRunError(f"Cost Explorer GetCostAndUsage failed: {could_not_run(error)}") from None
    entries = rows(settings, from_ce_pages(pages, keys, settings.anomaly.cost_metric), last_day)
    if args.format == "json":
        totals = {"teams": len(entries), "through": last_day.isoformat(), "requests": ce.requests}
        envelope.emit("budgets", entries, totals=totals)
    else:
        print(render_table(entries))
    print(
        f"costwarden budgets: {first:%Y-%m} through {last_day.isoformat()}; {ce.requests} request(s)", file=sys.stderr
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("budgets", help="every team's budget and pools: spend, projection, status")
    parser.add_argument("--month", help="YYYY-MM (default: this month, through yesterday)")
    envelope.add_format(parser)
    parser.set_defaults(func=_command)
