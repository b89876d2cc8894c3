"""The monthly cost report: per team and for the account, the month and the one before it, by model, project and
lifecycle phase; month-over-month change, budget status and the savings on the table — as one self-contained HTML
page (inline CSS and SVG charts, no script, no font, no external reference: it opens offline, from an e-mail, from
S3 through a pre-signed link).

The source asked for costs "attributable by team, project, model and lifecycle phase" in a report engineering leads
read: the question nobody could answer was "what does the fraud model cost?". Every tag value is escaped: tags are
user input.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM

UNTAGGED = UNOWNED_TEAM  # one label for "nobody owns this" (core.owner)
TOP_VALUES = 8
TOP_TEAMS = 20


@dataclass(frozen=True)
class CostLine:
    """USD of one team and one value of one dimension (tag key) in one month (``YYYY-MM``)."""

    team: str
    dimension: str
    value: str
    month: str
    usd: float


@dataclass(frozen=True)
class Budget:
    budget_usd: float
    basis_usd: float
    """Spend the status is judged on: the month's actual, or its run-rate projection while it is under way."""
    status: str


@dataclass
class TeamReport:
    team: str
    this_usd: float
    last_usd: float
    by_dimension: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    budget: Budget | None = None
    savings_usd_month: float | None = None
    savings_items: list[str] = field(default_factory=list)

    def change_pct(self, projection: float) -> float | None:
        """Month over month, on the run-rate projection while the month is under way (``projection`` > 1)."""
        if self.last_usd <= 0:
            return None
        return round((self.this_usd * projection / self.last_usd - 1) * 100, 1)

    def to_dict(self, projection: float) -> dict[str, Any]:
        return {
            "team": self.team,
            "this_month_usd": round(self.this_usd, 2),
            "last_month_usd": round(self.last_usd, 2),
            "change_pct": self.change_pct(projection),
            "by": {
                dim: [
                    {"value": v, "this_month_usd": round(t, 2), "last_month_usd": round(last, 2)} for v, t, last in rows
                ]
                for dim, rows in self.by_dimension.items()
            },
            "budget": None
            if self.budget is None
            else {
                "budget_usd": self.budget.budget_usd,
                "basis_usd": round(self.budget.basis_usd, 2),
                "status": self.budget.status,
            },
            "savings_usd_month": self.savings_usd_month,
            "savings_items": self.savings_items,
        }


@dataclass
class MonthlyReport:
    month: str
    last_month: str
    days_elapsed: int
    days_in_month: int
    generated_at: datetime
    dimensions: tuple[str, ...]
    account: TeamReport
    teams: list[TeamReport]
    projection: float = 1.0
    """Projected month end / month to date (the ledger's run-rate rule; 1.0 for a complete month)."""
    ce_requests: int = 0
    notes: list[str] = field(default_factory=list)
    #: HTML sections other capabilities append after the teams (unit costs: ``unitcost.sections``), each
    #: self-contained and escaped by its producer.
    appendix: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.days_elapsed >= self.days_in_month

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "last_month": self.last_month,
            "complete": self.complete,
            "days_elapsed": self.days_elapsed,
            "days_in_month": self.days_in_month,
            "generated_at": self.generated_at.isoformat(),
            "dimensions": list(self.dimensions),
            "account": self.account.to_dict(self.projection),
            "teams": [t.to_dict(self.projection) for t in self.teams],
            "ce_requests": self.ce_requests,
            "notes": self.notes,
        }


def previous_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """[first day, first day of the next month)."""
    year, mon = (int(p) for p in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return start, end


def parse_month(text: str) -> str:
    """``YYYY-MM`` or ValueError saying what is wrong."""
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise ValueError(f"{text!r} is not a month in the form YYYY-MM")
    if not 1 <= int(parts[1]) <= 12:
        raise ValueError(f"{text!r}: month must be 01-12")
    return text


def classify_budget(
    budget_usd: float | None, basis_usd: float, *, at_risk_ratio: float, over_budget_ratio: float
) -> Budget | None:
    if budget_usd is None:
        return None
    share = basis_usd / budget_usd
    status = "OVER_BUDGET" if share > over_budget_ratio else "AT_RISK" if share > at_risk_ratio else "ON_TRACK"
    return Budget(budget_usd, basis_usd, status)


def build_report(
    lines: Iterable[CostLine],
    *,
    month: str,
    today: date,
    dimensions: Sequence[str],
    budgets: Mapping[str, float],
    at_risk_ratio: float,
    over_budget_ratio: float,
    savings: Mapping[str, tuple[float, list[str]]],
    generated_at: datetime,
    heading: tuple[int, int, float],
) -> MonthlyReport:
    """Aggregate ``lines`` (this month and last, every dimension) into the report.

    ``heading`` is ``(days elapsed, days in the month, projection factor)`` from the ledger's projection of the
    month as of ``today`` (``costwarden.cost.ledger``, passed in by the service: capabilities do not import each
    other), so the report projects a month under way exactly as the budgets do.
    """
    last = previous_month(month)
    _, end = month_bounds(month)
    days_elapsed, days_in_month, projection = heading
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for line in lines:
        if line.month not in (month, last) or line.dimension not in dimensions:
            continue
        slot = 0 if line.month == month else 1
        cells[(line.team or UNTAGGED, line.dimension, line.value or UNTAGGED)][slot] += line.usd
        cells[("", line.dimension, line.value or UNTAGGED)][slot] += line.usd
    by_team: dict[str, TeamReport] = {}
    for (team, dim, value), (this, prev) in cells.items():
        report = by_team.setdefault(team, TeamReport(team or "account", 0.0, 0.0))
        report.by_dimension.setdefault(dim, []).append((value, this, prev))
    for report in by_team.values():
        for dim in list(report.by_dimension):
            report.by_dimension[dim].sort(key=lambda r: (-r[1], -r[2], r[0]))
        first = next((report.by_dimension[d] for d in dimensions if d in report.by_dimension), [])
        report.this_usd = sum(r[1] for r in first)
        report.last_usd = sum(r[2] for r in first)
        report.by_dimension = {d: report.by_dimension[d] for d in dimensions if d in report.by_dimension}
        if report.team != "account":
            report.budget = classify_budget(
                budgets.get(report.team),
                report.this_usd * projection,
                at_risk_ratio=at_risk_ratio,
                over_budget_ratio=over_budget_ratio,
            )
            if report.team in savings:
                report.savings_usd_month, report.savings_items = savings[report.team][0], list(savings[report.team][1])
    account = by_team.pop("", TeamReport("account", 0.0, 0.0))
    if savings:
        account.savings_usd_month = round(sum(s for s, _ in savings.values()), 2)
    teams = sorted(by_team.values(), key=lambda t: (-t.this_usd, t.team))
    notes = (
        []
        if end <= today or days_elapsed >= days_in_month
        else [
            f"{month} is under way ({days_elapsed} of {days_in_month} days): change and budget status use the run rate"
        ]
    )
    return MonthlyReport(
        month,
        last,
        days_elapsed,
        days_in_month,
        generated_at,
        tuple(dimensions),
        account,
        teams,
        projection=projection,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2328;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1rem;margin:1.2rem 0 .3rem}table{border-collapse:collapse;margin:.4rem 0 1rem}
td,th{padding:.25rem .7rem;text-align:right;border-bottom:1px solid #eaeef2}
td:first-child,th:first-child{text-align:left}
.muted{color:#59636e}.up{color:#b42318}.down{color:#1a7f37}.badge{padding:.1rem .45rem;border-radius:.6rem;
font-size:.8rem;font-weight:600}.ON_TRACK{background:#dafbe1}.AT_RISK{background:#fff1c2}.OVER_BUDGET{background:#ffd7d5}
nav a{margin-right:.8rem}svg text{font:12px system-ui,sans-serif;fill:#1f2328}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(team: str) -> str:
    """The in-page id of a team's section (also appended to the report link sent to that team)."""
    return "team-" + "".join(c if c.isalnum() else "-" for c in team)[:80]


def bar_chart(title: str, rows: Sequence[tuple[str, float, float]], this_label: str, last_label: str) -> str:
    """Horizontal bars, this month (dark) over last month (light), as inline SVG (no script, no reference)."""
    rows = list(rows)[:TOP_VALUES] if rows else []
    if not rows:
        return ""
    top = max(max(r[1], r[2]) for r in rows) or 1.0
    label_w, bar_w, row_h = 220, 560, 34
    height = 30 + row_h * len(rows)
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" width="{label_w + bar_w + 140}" height="{height}" '
        f'viewBox="0 0 {label_w + bar_w + 140} {height}">',
        f"<title>{_e(title)}</title>",
        f'<rect x="{label_w}" y="4" width="12" height="10" fill="#0969da"/>'
        f'<text x="{label_w + 16}" y="13">{_e(this_label)}</text>'
        f'<rect x="{label_w + 120}" y="4" width="12" height="10" fill="#9ec5fe"/>'
        f'<text x="{label_w + 136}" y="13">{_e(last_label)}</text>',
    ]
    for i, (label, this, last) in enumerate(rows):
        y = 24 + i * row_h
        short = label if len(label) <= 30 else label[:29] + "…"
        w_this, w_last = bar_w * this / top, bar_w * last / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w_this:.1f}" height="13" fill="#0969da"/>'
            f'<rect x="{label_w}" y="{y + 16}" width="{w_last:.1f}" height="9" fill="#9ec5fe"/>'
            f'<text x="{label_w + w_this + 6:.1f}" y="{y + 13}">{_e(usd(this))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _change(team: TeamReport, projection: float) -> str:
    pct = team.change_pct(projection)
    if pct is None:
        return '<span class="muted">new</span>'
    klass = "up" if pct > 0 else "down" if pct < 0 else "muted"
    return f'<span class="{klass}">{pct:+.1f} %</span>'


def _team_section(team: TeamReport, report: MonthlyReport) -> str:
    out = [f'<section id="{anchor(team.team)}"><h2>{_e(team.team)}</h2>']
    facts = [
        f"{_e(report.month)}: <b>{_e(usd(team.this_usd))}</b>",
        f"{_e(report.last_month)}: {_e(usd(team.last_usd))}",
        f"change: {_change(team, report.projection)}",
    ]
    if team.budget is not None:
        facts.append(
            f'budget {_e(usd(team.budget.budget_usd))}: <span class="badge {_e(team.budget.status)}">'
            f"{_e(team.budget.status.replace('_', ' '))}</span>"
        )
    if team.savings_usd_month:
        facts.append(f"savings on the table: <b>{_e(usd(team.savings_usd_month))}/month</b>")
    out.append("<p>" + " · ".join(facts) + "</p>")
    for dim, rows in team.by_dimension.items():
        out.append(f"<h3>By {_e(dim)}</h3>")
        out.append(bar_chart(f"{team.team} by {dim}", rows, report.month, report.last_month))
        body = "".join(f"<tr><td>{_e(v)}</td><td>{_e(usd(t))}</td><td>{_e(usd(last))}</td></tr>" for v, t, last in rows)
        out.append(
            f"<table><tr><th>{_e(dim)}</th><th>{_e(report.month)}</th><th>{_e(report.last_month)}</th></tr>"
            f"{body}</table>"
        )
    if team.savings_items:
        out.append("<h3>Savings findings</h3><ul>" + "".join(f"<li>{_e(i)}</li>" for i in team.savings_items) + "</ul>")
    out.append("</section>")
    return "".join(out)


def render_html(report: MonthlyReport) -> str:
    """The whole report as one HTML document. No ``src``/``href`` other than in-page anchors, no script."""
    acct = report.account
    status = "month to date" if not report.complete else "complete month"
    teams_chart = bar_chart(
        "Cost by team",
        [(t.team, t.this_usd, t.last_usd) for t in report.teams[:TOP_TEAMS]],
        report.month,
        report.last_month,
    )
    rows = "".join(
        f'<tr><td><a href="#{anchor(t.team)}">{_e(t.team)}</a></td><td>{_e(usd(t.this_usd))}</td>'
        f"<td>{_e(usd(t.last_usd))}</td><td>{_change(t, report.projection)}</td>"
        f"<td>{'' if t.budget is None else _e(t.budget.status.replace('_', ' '))}</td>"
        f"<td>{'' if not t.savings_usd_month else _e(usd(t.savings_usd_month))}</td></tr>"
        for t in report.teams
    )
    notes = "".join(f'<p class="muted">{_e(n)}</p>' for n in report.notes)
    savings = (
        f" · savings on the table: <b>{_e(usd(acct.savings_usd_month))}/month</b>" if acct.savings_usd_month else ""
    )
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Costwarden cost report {_e(report.month)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Cost report {_e(report.month)}</h1>",
        f'<p class="muted">{_e(status)}, generated {_e(report.generated_at.strftime("%Y-%m-%d %H:%M UTC"))}; '
        f"{report.ce_requests} Cost Explorer requests</p>{notes}",
        f"<p>Account: <b>{_e(usd(acct.this_usd))}</b> in {_e(report.month)} against "
        f"{_e(usd(acct.last_usd))} in {_e(report.last_month)} ({_change(acct, report.projection)}){savings}</p>",
        teams_chart,
        "<table><tr><th>team</th><th>"
        + _e(report.month)
        + "</th><th>"
        + _e(report.last_month)
        + "</th><th>change</th><th>budget</th><th>savings/month</th></tr>"
        + rows
        + "</table>",
        _team_section(acct, report).replace("<h2>account</h2>", "<h2>Account by dimension</h2>", 1),
        *(_team_section(t, report) for t in report.teams),
        *report.appendix,
        "</body></html>",
    ]
    return "\n".join(body)
