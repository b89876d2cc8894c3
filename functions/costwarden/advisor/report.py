"""The monthly cost report as one self-contained HTML page, for the platform lead who opens it from Slack on a phone.

Inline CSS and SVG charts, no script, no font, no external reference: it opens offline, from an e-mail, from S3
through a pre-signed link. What it answers, top to bottom: is every team within its budget (and pool), when did the
month's spend move (the daily trend, anomaly episodes marked), what is wasted and what to do about it (idle findings
and savings, each with its owner and the exact command), then who spent what by team, model, project and phase,
each table with its change, untagged and total rows.

Responsive: charts are SVG with a ``viewBox`` that scale to the page's width, tables scroll inside their own box,
long identifiers and commands wrap, so nothing overflows a 420 px phone screen (checked in a headless browser by
``tests/e2e/test_report_browser.py``). Every tag value is escaped: tags are user input.

The figures are ``costwarden.advisor.report_model`` (re-exported here for the callers that import them from this
module); every amount is formatted by ``core.money``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from costwarden.advisor.report_model import (
    TOP_TEAMS,
    TOP_VALUES,
    UNTAGGED,
    Budget,
    CostLine,
    Episode,
    MonthlyReport,
    PoolStatus,
    SavingAction,
    TeamReport,
    WasteItem,
    build_report,
    change_pct,
    classify_budget,
    month_bounds,
    parse_month,
    previous_month,
)
from costwarden.core.money import usd

__all__ = [
    "TOP_TEAMS",
    "TOP_VALUES",
    "UNTAGGED",
    "Budget",
    "CostLine",
    "Episode",
    "MonthlyReport",
    "PoolStatus",
    "SavingAction",
    "TeamReport",
    "WasteItem",
    "anchor",
    "bar_chart",
    "build_report",
    "change_pct",
    "classify_budget",
    "month_bounds",
    "parse_month",
    "previous_month",
    "render_html",
    "saving_sentence",
    "trend_chart",
]

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;
color:#1f2328;padding:0 1rem;overflow-wrap:anywhere}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1rem;margin:1.2rem 0 .3rem}.scroll{overflow-x:auto;max-width:100%;margin:.4rem 0 1rem}
table{border-collapse:collapse}td,th{padding:.25rem .7rem;text-align:right;border-bottom:1px solid #eaeef2;
overflow-wrap:normal}td:first-child,th:first-child{text-align:left}tr.total td{font-weight:600;border-top:2px solid
#d0d7de}tr.untagged td{font-style:italic}td.text{text-align:left;min-width:12rem;overflow-wrap:anywhere}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:.1rem .25rem;
overflow-wrap:anywhere;white-space:pre-wrap}svg{display:block;max-width:100%;height:auto}
.muted{color:#59636e}.up{color:#b42318}.down{color:#1a7f37}.badge{padding:.1rem .45rem;border-radius:.6rem;
font-size:.8rem;font-weight:600;white-space:nowrap}.ON_TRACK{background:#dafbe1}.AT_RISK{background:#fff1c2}
.OVER_BUDGET{background:#ffd7d5}svg text{font:12px system-ui,sans-serif;fill:#1f2328}
ul.saves li{margin:.35rem 0}
@media (max-width:600px){body{font-size:13px;margin:.8rem auto;padding:0 .6rem}td,th{padding:.2rem .45rem}}
"""
_EPISODE_FILL = {"critical": "#ffd7d5", "warning": "#fff1c2"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(team: str) -> str:
    """The in-page id of a team's section (also appended to the report link sent to that team)."""
    return "team-" + "".join(c if c.isalnum() else "-" for c in team)[:80]


def _scroll(table: str) -> str:
    """A table in its own scrolling box: a wide table scrolls inside itself, never the page."""
    return f'<div class="scroll">{table}</div>'


def _svg_open(title: str, width: int, height: int) -> str:
    """An SVG that scales to its container (``viewBox``; CSS ``max-width:100%; height:auto``)."""
    return (
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet"><title>{_e(title)}</title>'
    )


def bar_chart(title: str, rows: Sequence[tuple[str, float, float]], this_label: str, last_label: str) -> str:
    """Horizontal bars, this month (dark) over last month (light), as inline SVG (no script, no reference)."""
    rows = list(rows)[:TOP_VALUES] if rows else []
    if not rows:
        return ""
    top = max(max(r[1], r[2]) for r in rows) or 1.0
    label_w, bar_w, row_h = 220, 560, 34
    height = 30 + row_h * len(rows)
    parts = [
        _svg_open(title, label_w + bar_w + 140, height),
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


def trend_chart(title: str, daily: Sequence[tuple[str, float]], episodes: Sequence[Episode]) -> str:
    """The month's spend per day as bars, with each anomaly episode shaded over its days (colour by severity)."""
    if not daily:
        return ""
    left, plot_w, plot_h, top_pad = 70, 900, 220, 24
    step = plot_w / len(daily)
    peak = max(v for _, v in daily) or 1.0
    index = {day: i for i, (day, _) in enumerate(daily)}
    first, last = daily[0][0], daily[-1][0]
    shown = [e for e in episodes if max(e.start, first) <= min(e.last, last)]
    lane_h = 18
    parts = [_svg_open(title, left + plot_w + 10, top_pad + plot_h + 40 + lane_h * len(shown))]
    for lane, episode in enumerate(shown):
        start, end = index.get(max(episode.start, first), 0), index.get(min(episode.last, last), len(daily) - 1)
        x, width = left + start * step, (end - start + 1) * step
        fill = _EPISODE_FILL.get(episode.severity, "#eaeef2")
        label = f"{episode.series}: {episode.severity}, {episode.start} to {episode.last}"
        y = top_pad + plot_h + 40 + lane * lane_h
        parts.append(
            f'<rect x="{x:.1f}" y="{top_pad}" width="{width:.1f}" height="{plot_h}" fill="{fill}" opacity=".6">'
            f"<title>{_e(label)}</title></rect>"
            f'<rect x="{x:.1f}" y="{y - 12}" width="{width:.1f}" height="14" fill="{fill}"/>'
            + (
                f'<text x="{x + 3:.1f}" y="{y}">{_e(label)}</text>'
                if start < len(daily) / 2
                else f'<text x="{x + width - 3:.1f}" y="{y}" text-anchor="end">{_e(label)}</text>'
            )
        )
    for i, (day, value) in enumerate(daily):
        height = plot_h * value / peak
        parts.append(
            f'<rect x="{left + i * step + 1:.1f}" y="{top_pad + plot_h - height:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{height:.1f}" fill="#0969da"><title>{_e(day)}: {_e(usd(value))}</title></rect>'
        )
        if i % 5 == 0 or i == len(daily) - 1:
            parts.append(f'<text x="{left + i * step:.1f}" y="{top_pad + plot_h + 16}">{_e(day[8:])}</text>')
    parts.append(
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end">{_e(usd(peak, compact=True))}</text>'
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">$0</text>'
        f'<text x="{left}" y="{top_pad + plot_h + 34}">day of {_e(first[:7])}</text></svg>'
    )
    return "".join(parts)


def _pct(pct: float | None) -> str:
    if pct is None:
        return '<span class="muted">new</span>'
    klass = "up" if pct > 0 else "down" if pct < 0 else "muted"
    return f'<span class="{klass}">{pct:+.1f} %</span>'


def _change(team: TeamReport, projection: float) -> str:
    return _pct(team.change_pct(projection))


def _badge(status: str) -> str:
    return f'<span class="badge {_e(status)}">{_e(status.replace("_", " "))}</span>'


def saving_sentence(usd_month: float, action: str) -> str:
    """How every saving reads: what it is worth first, then what to do ("save $1,234/month by ...")."""
    return f"save {usd(usd_month)}/month by {action}"


def _money_table(first: str, rows: Sequence[tuple[str, float, float]], report: MonthlyReport, *, link: bool) -> str:
    """Value | this month | last month | change, the untagged slice below the tagged ones, then the total."""
    tagged = [r for r in rows if r[0] != UNTAGGED]
    untagged = [r for r in rows if r[0] == UNTAGGED]

    def row(label: str, this: float, last: float, klass: str = "") -> str:
        name = f'<a href="#{anchor(label)}">{_e(label)}</a>' if link and not klass.startswith("total") else _e(label)
        pct = _pct(change_pct(this, last, report.projection))
        return f'<tr class="{klass}"><td>{name}</td><td>{_e(usd(this))}</td><td>{_e(usd(last))}</td><td>{pct}</td></tr>'

    body = "".join(row(v, t, last) for v, t, last in tagged)
    body += "".join(row(f"{v} (no tag)", t, last, "untagged") for v, t, last in untagged)
    body += row("Total", sum(r[1] for r in rows), sum(r[2] for r in rows), "total")
    head = f"<tr><th>{_e(first)}</th><th>{_e(report.month)}</th><th>{_e(report.last_month)}</th><th>change</th></tr>"
    return _scroll(f"<table>{head}{body}</table>")


def _team_section(team: TeamReport, report: MonthlyReport) -> str:
    out = [f'<section id="{anchor(team.team)}"><h2>{_e(team.team)}</h2>']
    facts = [
        f"{_e(report.month)}: <b>{_e(usd(team.this_usd))}</b>",
        f"{_e(report.last_month)}: {_e(usd(team.last_usd))}",
        f"change: {_change(team, report.projection)}",
    ]
    if team.budget is not None:
        facts.append(f"budget {_e(usd(team.budget.budget_usd))}: {_badge(team.budget.status)}")
    if team.savings_usd_month:
        facts.append(f"savings on the table: <b>{_e(usd(team.savings_usd_month))}/month</b>")
    out.append("<p>" + " · ".join(facts) + "</p>")
    for dim, rows in team.by_dimension.items():
        out.append(f"<h3>By {_e(dim)}</h3>")
        out.append(bar_chart(f"{team.team} by {dim}", rows, report.month, report.last_month))
        out.append(_money_table(dim, rows, report, link=False))
    actions = [a for a in report.savings_actions if a.team == team.team]
    if actions:
        out.append("<h3>Savings</h3>" + _saves(actions))
    elif team.savings_items:
        out.append("<h3>Savings findings</h3><ul>" + "".join(f"<li>{_e(i)}</li>" for i in team.savings_items) + "</ul>")
    out.append("</section>")
    return "".join(out)


def _budgets(report: MonthlyReport) -> str:
    """Every team with a budget, and every pool, with the spend it is judged on and its status."""
    basis = "projected" if not report.complete else "spent"
    rows = [
        (t.team, "month", t.budget.budget_usd, t.budget.basis_usd, t.budget.status, t.change_pct(report.projection))
        for t in report.teams
        if t.budget is not None
    ]
    rows += [(p.team, f"{p.pool} pool", p.budget_usd, p.basis_usd, p.status, p.change_pct) for p in report.pools]
    if not rows:
        return '<h2>Budgets</h2><p class="muted">No team has a monthly budget (budgets.monthly_usd).</p>'
    body = "".join(
        f'<tr><td><a href="#{anchor(team)}">{_e(team)}</a></td><td>{_e(what)}</td><td>{_e(usd(budget))}</td>'
        f"<td>{_e(usd(spend))}</td><td>{spend / budget * 100:.0f} %</td><td>{_badge(status)}</td>"
        f"<td>{_pct(pct)}</td></tr>"
        for team, what, budget, spend, status, pct in sorted(rows, key=lambda r: (-r[3] / r[2], r[0], r[1]))
    )
    head = (
        f"<tr><th>team</th><th>of</th><th>budget</th><th>{basis}</th><th>share</th><th>status</th><th>change</th></tr>"
    )
    return f"<h2>Budgets</h2>{_scroll(f'<table>{head}{body}</table>')}"


def _trend(report: MonthlyReport) -> str:
    if not report.daily:
        return ""
    chart = trend_chart(f"Daily spend in {report.month}", report.daily, report.episodes)
    items = "".join(
        f"<li>{_e(e.series)}: {_e(e.severity)}, {_e(e.start)} to {_e(e.last)}</li>" for e in report.episodes
    )
    legend = f"<p>Anomaly episodes (shaded):</p><ul>{items}</ul>" if items else "<p>No anomaly episode this month.</p>"
    return f"<h2>Daily trend</h2>{chart}{legend}"


def _saves(actions: Sequence[SavingAction]) -> str:
    items = "".join(
        f"<li><b>{_e(saving_sentence(a.usd_month, a.action))}</b> ({_e(a.team)}; owner {_e(a.owner)})"
        + (f"<br><code>{_e(a.command)}</code>" if a.command else "")
        + "</li>"
        for a in actions
    )
    return f'<ul class="saves">{items}</ul>'


def _waste(report: MonthlyReport) -> str:
    """Idle findings (USD/month, owner, the exact command) and the advisor's savings, largest first."""
    out = ["<h2>Waste and savings</h2>"]
    if report.waste:
        priced = sum(w.usd_month for w in report.waste if w.usd_month is not None)
        as_of = f" (idle finder's scan of {_e((report.waste_as_of or '')[:10])})" if report.waste_as_of else ""
        out.append(f"<h3>Idle: {len(report.waste)} resources, {_e(usd(priced))}/month{as_of}</h3>")
        items = "".join(
            f"<li><b>{_e(usd(w.usd_month))}/month</b> · {_e(w.type)} <code>{_e(w.resource)}</code> "
            f"({_e(w.region)}, {_e(w.kind.replace('_', ' '))}) · team {_e(w.team)}, owner {_e(w.owner)}"
            f"<br>{_e(w.action)}" + (f"<br><code>{_e(w.command)}</code>" if w.command else "") + "</li>"
            for w in report.waste
        )
        out.append(f'<ul class="saves">{items}</ul>')
    else:
        out.append('<p class="muted">No idle findings stored (the idle finder has not run).</p>')
    if report.savings_actions:
        total = sum(a.usd_month for a in report.savings_actions)
        out.append(f"<h3>Savings: {_e(usd(total))}/month</h3>" + _saves(report.savings_actions))
    return "".join(out)


def _teams_table(report: MonthlyReport) -> str:
    untagged = report.untagged
    tagged = [t for t in report.teams if t is not untagged]

    def row(t: TeamReport, label: str, klass: str = "") -> str:
        status = "" if t.budget is None else _badge(t.budget.status)
        savings = "" if not t.savings_usd_month else _e(usd(t.savings_usd_month))
        return (
            f'<tr class="{klass}"><td><a href="#{anchor(t.team)}">{_e(label)}</a></td><td>{_e(usd(t.this_usd))}</td>'
            f"<td>{_e(usd(t.last_usd))}</td><td>{_change(t, report.projection)}</td><td>{status}</td>"
            f"<td>{savings}</td></tr>"
        )

    body = "".join(row(t, t.team) for t in tagged)
    if untagged is not None:
        body += row(untagged, f"{untagged.team} (no team tag)", "untagged")
    acct = report.account
    body += (
        f'<tr class="total"><td>Total</td><td>{_e(usd(acct.this_usd))}</td><td>{_e(usd(acct.last_usd))}</td>'
        f"<td>{_change(acct, report.projection)}</td><td></td>"
        f"<td>{'' if not acct.savings_usd_month else _e(usd(acct.savings_usd_month))}</td></tr>"
    )
    head = (
        f"<tr><th>team</th><th>{_e(report.month)}</th><th>{_e(report.last_month)}</th><th>change</th><th>budget</th>"
        "<th>savings/month</th></tr>"
    )
    return _scroll(f"<table>{head}{body}</table>")


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
        _budgets(report),
        _trend(report),
        _waste(report),
        "<h2>Teams</h2>",
        teams_chart,
        _teams_table(report),
        _team_section(acct, report).replace("<h2>account</h2>", "<h2>Account by dimension</h2>", 1),
        *(_team_section(t, report) for t in report.teams),
        *report.appendix,
        "</body></html>",
    ]
    return "\n".join(body)
