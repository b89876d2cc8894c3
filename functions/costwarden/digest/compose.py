"""Compose the daily digest event from a ``DigestInput`` (pure).

The event is data, not prose: ``details`` holds compact, capped, JSON-able structures that the Slack renderer
(``costwarden.notifier.digest_blocks``) turns into a dashboard and that any other subscriber (e-mail, a data
pipeline) can read. Sizes are bounded whatever the fleet: the team table is cut by a byte budget (largest spenders
first, the rest counted), every other list by a count, so a digest of thousands of teams stays far below SNS's
256 KB and ``publish()`` never has to truncate it.

``details`` keys (schema, version ``DIGEST_SCHEMA``):

- ``figures``: label -> short display string (the generic rendering convention of ``AlertEvent``).
- ``digest``: ``{"schema", "date", "scope", "top_n"}``; scope is ``"all"`` or the team of a per-team digest.
- ``totals``: fleet (or team) sums in USD: month to date, projected month end with its band, budgets, yesterday,
  baseline.
- ``budget_counts``: teams per budget status (``OVER_BUDGET``, ``AT_RISK``, ``ON_TRACK``, ``NO_BUDGET``).
- ``team_columns`` + ``teams``: one row (a list, in ``team_columns`` order) per team, largest month to date first;
  ``teams_total`` counts all teams, ``teams`` may hold fewer (``teams_total - len(teams)`` were left out for size).
- ``movers``: the biggest moves of yesterday against the baseline, in dollars, both directions.
- ``anomalies`` / ``anomalies_total``: open anomaly episodes, critical first, then by impact.
- ``untagged``: share of spend with no team over the last 7 days and its trend, or ``None``.
- ``reaper``: last 24 h: dry run or not, counts per status, the most important decisions.
- ``expiring`` / ``expiring_total``: resources whose ``expires_at`` falls within the next 72 h, soonest first.
- ``estimated_dates``, ``notes``: how fresh the numbers are.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from costwarden.core.money import signed_usd, usd
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.core.text import pct, ratio_x
from costwarden.digest import k8s_section
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.digest import (
    BUDGET_STATUSES,
    REAPER_STATUSES,
    BedrockDay,
    DigestInput,
    ExpiringResource,
    IdleSummary,
    OpenAnomaly,
    ReaperDecision,
    ReaperStatus,
    TeamRow,
)
from costwarden.settings import NotifierSettings

DIGEST_SCHEMA = 1
FLEET_SCOPE = "all"
#: The name of spend and resources without a ``team`` tag (the one owner label, ``core.owner``): shown in the fleet
#: digest, never given its own digest.
UNTAGGED_TEAM = UNOWNED_TEAM
TEAM_COLUMNS = (
    "team",
    "mtd_usd",
    "budget_usd",
    "status",
    "projected_usd",
    "low_usd",
    "high_usd",
    "yesterday_usd",
    "baseline_usd",
    "ratio",
)
#: Byte budget of the team table in the event: ~100 bytes a row, so ~900 teams in full (~270 with 256-character
#: names); beyond that, the largest spenders, the rest counted. Leaves room for the capped lists below.
TEAM_TABLE_MAX_BYTES = 96_000
MOVERS_MAX = 5
ANOMALIES_MAX = 50
REAPER_LINES_MAX = 50
EXPIRING_MAX = 50
IDLE_TEAMS_MAX = 5
NOTES_MAX = 10
UNIT_COSTS_MAX = 10
#: Long free text (resource ARNs, reasons) is cut to this in the event; Slack rendering cuts further.
TEXT_MAX = 300
#: Byte budget of each other list (anomalies, reaper lines, expiring): with the team table, the whole event stays
#: under ~180 KB even with 256-character team names and 1,000-character ARNs everywhere (SNS allows 256 KB).
LIST_MAX_BYTES = 24_000


def compose_digest(inp: DigestInput, top_n: int, *, team: str | None = None) -> AlertEvent:
    """The digest event for the whole fleet (``team=None``) or for one team.

    Severity is ``warning`` when something in scope needs a person today (a team over budget, a critical anomaly,
    a reaper action that failed), ``info`` otherwise: the digest is a report, the individual alerts are the alarms.
    """
    if top_n < 1:
        raise ValueError("top_n must be at least 1")
    scope = team or FLEET_SCOPE
    teams = [row for row in inp.teams if team is None or row.team == team]
    if team is not None and not teams and not _team_has_activity(inp, team):
        raise ValueError(f"no digest data for team {team!r}")
    teams.sort(key=lambda row: (-row.month_to_date_usd, row.team))
    anomalies = sorted(
        (a for a in inp.anomalies if team is None or a.team == team),
        key=lambda a: (a.severity != "critical", -a.impact_usd, a.team),
    )
    decisions = inp.reaper.latest(team) if inp.reaper is not None else []
    expiring = sorted(
        (e for e in inp.expiring if team is None or e.team == team), key=lambda e: (e.expires_at, e.resource)
    )
    untagged = inp.untagged if team is None else None

    budget_counts = Counter(row.budget_status for row in teams)
    reaper_counts = Counter(d.status for d in decisions)
    critical = sum(1 for a in anomalies if a.severity == "critical")
    over = budget_counts["OVER_BUDGET"]
    severity = Severity.WARNING if over or critical or reaper_counts["failed"] else Severity.INFO

    totals = _totals(teams)
    rows, omitted = _team_rows(teams)
    details: dict[str, Any] = {
        "figures": {},
        "digest": {"schema": DIGEST_SCHEMA, "date": inp.date.isoformat(), "scope": scope, "top_n": top_n},
        "totals": totals,
        "budget_counts": {status: budget_counts[status] for status in BUDGET_STATUSES},
        "team_columns": list(TEAM_COLUMNS),
        "teams": rows,
        "teams_total": len(teams),
        "movers": [_mover(row) for row in _movers(teams)],
        "anomalies": _within_bytes([_anomaly(a) for a in anomalies[:ANOMALIES_MAX]]),
        "anomalies_total": len(anomalies),
        "anomalies_critical": critical,
        "untagged": None if untagged is None else _untagged(untagged),
        "reaper": None if inp.reaper is None else _reaper(inp.reaper.dry_run, decisions, reaper_counts),
        "expiring": _within_bytes([_expiring(e, inp.generated_at) for e in expiring[:EXPIRING_MAX]]),
        "expiring_total": len(expiring),
        "idle": _idle(inp.idle, team),
        "estimated_dates": sorted(d.isoformat() for d in set(inp.estimated_dates)),
        "notes": [_text(note) for note in inp.notes[:NOTES_MAX]],
        "savings": None
        if inp.savings is None
        else {
            "usd_month": round(inp.savings.usd_month(team), 2),
            "as_of": inp.savings.as_of.isoformat() if inp.savings.as_of else None,
            "where": "the savings alerts in each team's channel, and `costwarden advise`",
        },
    }
    details.update(_pools(inp, team) | _unit_costs(inp, team))
    if omitted:
        details["teams_omitted"] = omitted
    details["figures"] = _figures(_with_bedrock(details, inp.bedrock, team))

    where = "" if team is None else f" for {team}"
    return AlertEvent(
        kind=AlertKind.DIGEST,
        severity=severity,
        team=scope,
        title=f"Daily cost digest{where} — {inp.date.isoformat()}",
        summary=_summary(details, len(teams)),
        details=k8s_section.with_section(details, inp.kubernetes, team),  # issue 24: EKS, its own section
        dedup_key=f"digest#{inp.date.isoformat()}" + ("" if team is None else f"#{team}"),
        occurred_at=inp.generated_at,
    )


def compose_digests(inp: DigestInput, notifier: NotifierSettings) -> list[AlertEvent]:
    """The fleet digest, then (when ``notifier.per_team_digest``) one per team, as settings ask."""
    events = [compose_digest(inp, notifier.digest_top_n)]
    if notifier.per_team_digest:
        names = {row.team for row in inp.teams} | {a.team for a in inp.anomalies}
        names |= {e.team for e in inp.expiring if e.team} | {
            d.team for d in (inp.reaper.decisions if inp.reaper else ()) if d.team
        }
        names.discard(UNTAGGED_TEAM)
        events.extend(compose_digest(inp, notifier.digest_top_n, team=name) for name in sorted(names))
    return events


def _pools(inp: DigestInput, team: str | None) -> dict[str, Any]:
    """Issue 15: both pools per team, the most-used experiment pool first, when there are any in scope."""
    pools = sorted(
        (p for p in inp.pools if team is None or p.team == team),
        key=lambda p: (-(p.experiment_share or 0.0), -p.production_usd - p.experiment_usd, p.team),
    )
    if not pools:
        return {}
    return {"pools": _within_bytes([p.model_dump(mode="json") for p in pools]), "pools_total": len(pools)}


def _unit_costs(inp: DigestInput, team: str | None) -> dict[str, Any]:
    """Issue 26: yesterday's unit costs that moved (the largest move first), when there are any in scope."""
    moves = [m for m in inp.unit_costs if team is None or m.team == team]
    if not moves:
        return {}
    return {"unit_costs": _within_bytes([m.model_dump(mode="json") for m in moves[:UNIT_COSTS_MAX]]),
            "unit_costs_total": len(moves)}  # fmt: skip


def _team_has_activity(inp: DigestInput, team: str) -> bool:
    return (
        any(a.team == team for a in inp.anomalies)
        or any(e.team == team for e in inp.expiring)
        or (inp.reaper is not None and any(d.team == team for d in inp.reaper.decisions))
        or any(m.team == team for m in inp.unit_costs)
    )


def _money(amount: float) -> float:
    return round(amount, 2)


def _text(value: str) -> str:
    return value if len(value) <= TEXT_MAX else value[: TEXT_MAX - 1] + "…"


def _totals(teams: list[TeamRow]) -> dict[str, float]:
    budgeted = [row for row in teams if row.budget_usd is not None]
    return {
        "month_to_date_usd": _money(sum(row.month_to_date_usd for row in teams)),
        "projected_month_end_usd": _money(sum(row.projected_month_end_usd for row in teams)),
        "forecast_low_usd": _money(sum(row.forecast_low_usd for row in teams)),
        "forecast_high_usd": _money(sum(row.forecast_high_usd for row in teams)),
        "budget_usd": _money(sum(row.budget_usd or 0.0 for row in budgeted)),
        "budgeted_projected_usd": _money(sum(row.projected_month_end_usd for row in budgeted)),
        "yesterday_usd": _money(sum(row.yesterday_usd for row in teams)),
        "baseline_usd": _money(sum(row.baseline_usd for row in teams)),
    }


def _row(row: TeamRow) -> list[Any]:
    return [
        row.team,
        _money(row.month_to_date_usd),
        None if row.budget_usd is None else _money(row.budget_usd),
        row.budget_status,
        _money(row.projected_month_end_usd),
        _money(row.forecast_low_usd),
        _money(row.forecast_high_usd),
        _money(row.yesterday_usd),
        _money(row.baseline_usd),
        None if row.change_ratio is None else round(row.change_ratio, 3),
    ]


def _team_rows(teams: list[TeamRow]) -> tuple[list[list[Any]], int]:
    """Rows largest first, as many as fit the byte budget; returns (rows, how many were left out)."""
    rows: list[list[Any]] = []
    used = 2
    for row in teams:
        encoded = _row(row)
        cost = len(json.dumps(encoded, ensure_ascii=False).encode()) + 2
        if used + cost > TEAM_TABLE_MAX_BYTES:
            break
        rows.append(encoded)
        used += cost
    return rows, len(teams) - len(rows)


def _movers(teams: list[TeamRow]) -> list[TeamRow]:
    moved = [row for row in teams if round(row.change_usd, 2) != 0]
    return sorted(moved, key=lambda row: (-abs(row.change_usd), row.team))[:MOVERS_MAX]


def _mover(row: TeamRow) -> dict[str, Any]:
    return {
        "team": row.team,
        "yesterday_usd": _money(row.yesterday_usd),
        "baseline_usd": _money(row.baseline_usd),
        "change_usd": _money(row.change_usd),
        "ratio": None if row.change_ratio is None else round(row.change_ratio, 3),
    }


def _anomaly(a: OpenAnomaly) -> dict[str, Any]:
    return {
        "team": a.team,
        "date": a.date.isoformat(),
        "severity": a.severity,
        "ratio": round(a.ratio, 3),
        "impact_usd": _money(a.impact_usd),
        "top_service": None if a.top_service is None else _text(a.top_service),
        "estimated": a.estimated,
        "acknowledged_by": a.acknowledged_by,
    }


def _untagged(u: Any) -> dict[str, Any]:
    return {
        "window_days": u.window_days,
        "share_pct": round(u.share_pct, 2),
        "previous_share_pct": None if u.previous_share_pct is None else round(u.previous_share_pct, 2),
        "trend_pts": None if u.trend_pts is None else round(u.trend_pts, 2),
        "untagged_usd": None if u.untagged_usd is None else _money(u.untagged_usd),
        "measured_on": None if u.measured_on is None else u.measured_on.isoformat(),
    }


def _reaper(dry_run: bool, decisions: list[ReaperDecision], counts: Counter[ReaperStatus]) -> dict[str, Any]:
    order = {status: index for index, status in enumerate(REAPER_STATUSES)}
    ranked = sorted(decisions, key=lambda d: (order[d.status], d.team or "", d.resource))
    return {
        "dry_run": dry_run,
        "counts": {status: counts[status] for status in REAPER_STATUSES},
        "lines": _within_bytes(
            [
                {
                    "status": d.status,
                    "action": d.action,
                    "resource": _text(d.resource),
                    "type": d.resource_type,
                    "team": d.team,
                    "reason": _text(d.reason),
                }
                for d in ranked[:REAPER_LINES_MAX]
            ]
        ),
    }


def _expiring(e: ExpiringResource, now: datetime) -> dict[str, Any]:
    return {
        "resource": _text(e.resource),
        "type": e.resource_type,
        "team": e.team,
        "expires_at": e.expires_at.isoformat().replace("+00:00", "Z"),
        "seconds_left": max(int((e.expires_at - now).total_seconds()), 0),
    }


def _within_bytes(items: list[dict[str, Any]], budget: int = LIST_MAX_BYTES) -> list[dict[str, Any]]:
    """The first items of a ranked list, as many as fit ``budget`` bytes of JSON (the total is counted apart)."""
    kept: list[dict[str, Any]] = []
    used = 2
    for item in items:
        used += len(json.dumps(item, ensure_ascii=False).encode()) + 1
        if used > budget:
            break
        kept.append(item)
    return kept


def _figures(details: dict[str, Any]) -> dict[str, str]:
    """The headline numbers as short display strings (what a plain-text subscriber sees first)."""
    totals = details["totals"]
    counts = details["budget_counts"]
    figures = {
        "Month to date": usd(totals["month_to_date_usd"]),
        "Projected month end": (
            f"{usd(totals['projected_month_end_usd'])} "
            f"({usd(totals['forecast_low_usd'], compact=True)} to {usd(totals['forecast_high_usd'], compact=True)})"
        ),
        "Budgets": _budget_line(counts),
        "Yesterday vs baseline": (
            f"{usd(totals['yesterday_usd'])} vs {usd(totals['baseline_usd'])} "
            f"({signed_usd(totals['yesterday_usd'] - totals['baseline_usd'])})"
        ),
    }
    if details["digest"]["scope"] != FLEET_SCOPE:
        del figures["Budgets"]
        figures["Budget"] = _team_budget_line(counts, totals)
    elif totals["budget_usd"]:
        figures["Budgeted teams, projected"] = (
            f"{usd(totals['budgeted_projected_usd'], compact=True)} of {usd(totals['budget_usd'], compact=True)} "
            f"({pct(totals['budgeted_projected_usd'] / totals['budget_usd'])})"
        )
    critical = details["anomalies_critical"]
    figures["Open anomalies"] = f"{details['anomalies_total']}" + (f" ({critical} critical)" if critical else "")
    untagged = details["untagged"]
    if untagged is not None:
        figures[f"Untagged ({untagged['window_days']} d)"] = _untagged_line(untagged)
    reaper = details["reaper"]
    if reaper is not None:
        figures["Reaper (24 h)"] = _reaper_line(reaper)
    figures["Expiring (72 h)"] = str(details["expiring_total"])
    savings = details.get("savings")
    if savings is not None and savings["usd_month"] >= 1:
        figures["Savings on the table"] = f"{usd(savings['usd_month'])}/month"
    idle = details.get("idle")
    if idle is not None:
        figures["Idle"] = _idle_line(idle)
    bedrock = details.get("bedrock")
    if bedrock is not None and (bedrock["estimate_usd"] or bedrock["billed_usd"]):
        figures[f"Bedrock ({bedrock['day']})"] = _bedrock_line(bedrock)
    return figures


def _idle(summary: IdleSummary | None, team: str | None) -> dict[str, Any] | None:
    """The idle finder's latest scan, for the fleet (top teams by waste) or for one team."""
    if summary is None:
        return None
    if team is not None:
        own = summary.teams.get(team)
        return {"resources": own.resources if own else 0, "waste_usd": own.waste_usd if own else 0.0, "teams": []}
    ranked = sorted(summary.teams.items(), key=lambda kv: (-kv[1].waste_usd, kv[0]))
    return {
        "resources": summary.resources,
        "waste_usd": summary.waste_usd,
        "teams": [
            {"team": _text(name), "resources": row.resources, "waste_usd": _money(row.waste_usd)}
            for name, row in ranked[:IDLE_TEAMS_MAX]
        ],
    }


def _with_bedrock(details: dict[str, Any], day: BedrockDay | None, team: str | None) -> dict[str, Any]:
    """``details`` with the Bedrock guard's reconciled day under ``bedrock`` when there is one (issue 26)."""
    if day is not None:
        details["bedrock"] = _bedrock(day, team)
    return details


def _bedrock(day: BedrockDay, team: str | None) -> dict[str, Any]:
    """The Bedrock guard's reconciled day, for the fleet (every team) or for one team."""
    rows = [row for name, row in day.teams.items() if team is None or name == team]
    return {
        "day": day.day.isoformat(),
        "estimate_usd": _money(sum(r.estimate_usd for r in rows)),
        "billed_usd": _money(sum(r.billed_usd for r in rows)),
    }


def _bedrock_line(bedrock: dict[str, Any]) -> str:
    """``estimated $412.10, billed $415.88`` (``, gap $3.78`` when they differ by more than 1 % of the bill)."""
    estimate, billed = bedrock["estimate_usd"], bedrock["billed_usd"]
    line = f"estimated {usd(estimate, cents=True)}, billed {usd(billed, cents=True)}"
    return line + (f", gap {signed_usd(billed - estimate)}" if abs(billed - estimate) > 0.01 * billed else "")


def _idle_line(idle: dict[str, Any]) -> str:
    """``Idle: N resources, X USD/month`` (the figure and the Slack section say the same)."""
    count = idle["resources"]
    return f"{count} resource{'s' if count != 1 else ''}, {usd(idle['waste_usd'])}/month"


def _budget_line(counts: dict[str, int]) -> str:
    labels = {"OVER_BUDGET": "over", "AT_RISK": "at risk", "ON_TRACK": "on track", "NO_BUDGET": "no budget"}
    parts = [f"{counts[status]} {labels[status]}" for status in BUDGET_STATUSES if counts.get(status)]
    return " · ".join(parts) or "no teams"


def _team_budget_line(counts: dict[str, int], totals: dict[str, float]) -> str:
    labels = {"OVER_BUDGET": "🔴 over budget", "AT_RISK": "🟠 at risk", "ON_TRACK": "🟢 on track"}
    status = next((s for s in BUDGET_STATUSES if counts.get(s)), "NO_BUDGET")
    if status == "NO_BUDGET" or not totals["budget_usd"]:
        return "no budget set"
    used = pct(totals["budgeted_projected_usd"] / totals["budget_usd"])
    return f"{labels[status]}: projected {used} of {usd(totals['budget_usd'], compact=True)}"


def _untagged_line(untagged: dict[str, Any]) -> str:
    text = f"{untagged['share_pct']:.1f}%"
    trend = untagged["trend_pts"]
    if trend is not None:
        arrow = "▲" if trend > 0 else "▼" if trend < 0 else "="
        text += f" ({arrow}{abs(trend):.1f} pt)"
    return text


def _reaper_line(reaper: dict[str, Any]) -> str:
    counts = reaper["counts"]
    parts = [f"{counts[s]} {s}" for s in REAPER_STATUSES if counts[s]]
    text = " · ".join(parts) or "nothing to do"
    return text + (" (dry run)" if reaper["dry_run"] else "")


def _summary(details: dict[str, Any], team_count: int) -> str:
    """One plain sentence for the notification preview and e-mail: headline numbers only, bounded length."""
    totals = details["totals"]
    counts = details["budget_counts"]
    parts = [
        f"{usd(totals['month_to_date_usd'], compact=True)} month to date across {team_count} "
        f"team{'s' if team_count != 1 else ''}, heading for {usd(totals['projected_month_end_usd'], compact=True)}"
    ]
    if counts["OVER_BUDGET"] or counts["AT_RISK"]:
        parts.append(f"{counts['OVER_BUDGET']} over budget, {counts['AT_RISK']} at risk")
    if details["anomalies_total"]:
        count = details["anomalies_total"]
        parts.append(f"{count} open anomal{'ies' if count != 1 else 'y'}")
    reaper = details["reaper"]
    if reaper is not None and reaper["counts"]["failed"]:
        failed = reaper["counts"]["failed"]
        parts.append(f"{failed} reaper action{'s' if failed != 1 else ''} failed")
    if details["expiring_total"]:
        count = details["expiring_total"]
        parts.append(f"{count} resource{'s expire' if count != 1 else ' expires'} within 72 h")
    savings = details.get("savings")
    if savings is not None and savings["usd_month"] >= 1:
        parts.append(f"Savings on the table: {usd(savings['usd_month'])}/month (see the savings alerts)")
    if details["movers"]:
        top = details["movers"][0]
        parts.append(f"biggest mover {top['team'][:64]} {signed_usd(top['change_usd'])} ({ratio_x(top['ratio'])})")
    return "; ".join(parts) + "."
