"""The daily digest as a Slack Block Kit dashboard (pure: ``AlertEvent`` in, blocks out).

Layout: a header; the headline figures as section fields; then short monospace tables (the top N teams by month to
date with "and M more", the biggest movers against baseline, open anomalies, what the reaper did in 24 h, what
expires in 72 h); a context line on data freshness. Everything is cut to Slack's limits
(shared/reference/REFERENCE_FACTS.md) whatever the size of the fleet: at most 50 blocks, section text 3,000
characters, 10 fields of 2,000, header 150; tables that would be too long for one section are split across
sections, and lists show their first entries and count the rest.

Registered for ``AlertKind.DIGEST`` in ``costwarden.notifier.blocks.RENDERERS``; reads the ``details`` schema
written by ``costwarden.digest.compose``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from costwarden.core.money import signed_usd, usd
from costwarden.core.text import clip, hours_until, pct, ratio_x
from costwarden.models.alert import AlertEvent
from costwarden.notifier.blocks import zero_value
from costwarden.notifier.k8s_digest_blocks import kubernetes_blocks

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3_000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
#: Room left in a section for the title line and the code fence around a table.
_TABLE_TEXT_BUDGET = MAX_SECTION_TEXT - 200
TEAM_NAME_WIDTH = 28
#: Whatever top N a producer asks for, a chat message shows at most this many team rows.
MAX_TEAM_ROWS = 50
ANOMALY_LINES = 8
REAPER_LINES = 6
EXPIRING_LINES = 8
RESOURCE_WIDTH = 40
SERVICE_WIDTH = 24

STATUS_EMOJI = {"OVER_BUDGET": "🔴", "AT_RISK": "🟠", "ON_TRACK": "🟢", "NO_BUDGET": "⚪"}
SEVERITY_EMOJI = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
#: Emoji that a monospace font draws two cells wide (no variation selectors), so table columns stay aligned.
REAPER_EMOJI = {"failed": "❌", "done": "✅", "skipped": "🚫", "planned": "📝"}


def digest_blocks(event: AlertEvent) -> list[dict[str, Any]]:
    """Render a ``digest`` event; tolerant of missing keys (an older producer), never over Slack's limits."""
    details = event.details
    blocks: list[dict[str, Any]] = [_header(f"📊 {event.title}")]
    figures = details.get("figures") or {}
    if figures:
        blocks.append(_fields(figures))
    else:
        blocks.append(_section(_escape(event.summary)))
    blocks.append({"type": "divider"})
    blocks.extend(_teams(details))
    blocks.extend(_pools(details))
    blocks.extend(_movers(details))
    blocks.extend(_anomalies(details))
    blocks.extend(_reaper(details))
    blocks.extend(_expiring(details))
    blocks.extend(_idle(details))
    blocks.extend(kubernetes_blocks(details))
    blocks.extend(_unit_costs(details))
    context = _context(details, event)
    if len(blocks) + 1 > MAX_BLOCKS:
        # Cannot happen with the composer's caps; kept so that no producer can make Slack reject the message.
        blocks = blocks[: MAX_BLOCKS - 1]
    blocks.append(context)
    return blocks


# --- building blocks, each clipped to its own limit -------------------------------------------------------------


def _escape(text: str) -> str:
    """Slack mrkdwn needs only these three escaped (also inside code blocks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT), "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def _fields(figures: dict[str, Any]) -> dict[str, Any]:
    fields = [
        {"type": "mrkdwn", "text": clip(f"*{_escape(str(label))}*\n{_escape(str(value))}", MAX_FIELD_TEXT)}
        for label, value in [(k, v) for k, v in figures.items() if not zero_value(v)][:MAX_FIELDS]  # issue 22
    ]
    return {"type": "section", "fields": fields}


def _context(details: dict[str, Any], event: AlertEvent) -> dict[str, Any]:
    parts: list[str] = []
    estimated = details.get("estimated_dates") or []
    if estimated:
        parts.append(f"⏳ Cost Explorer still estimates {', '.join(estimated[:5])}: those numbers may change")
    parts.extend(f":information_source: {_escape(str(note))}" for note in (details.get("notes") or []))
    parts = [
        *parts[: MAX_CONTEXT_ELEMENTS - 1],
        f"Generated {event.occurred_at:%Y-%m-%d %H:%M} UTC by Costwarden",  # the dedup key: in the message metadata
    ]
    elements = [{"type": "mrkdwn", "text": clip(text, MAX_FIELD_TEXT)} for text in parts]
    return {"type": "context", "elements": elements}


def _table_sections(title: str, lines: Sequence[str], footer: str = "") -> list[dict[str, Any]]:
    """``title`` and a fenced monospace table; split into several sections when it would not fit one."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if chunks[-1] and size + len(line) + 1 > _TABLE_TEXT_BUDGET:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    sections = []
    for index, chunk in enumerate(chunks):
        text = (title + "\n" if index == 0 else "") + "```\n" + "\n".join(chunk) + "\n```"
        if index == len(chunks) - 1 and footer:
            text += "\n" + footer
        sections.append(_section(text))
    return sections


def display_width(text: str) -> int:
    """Cells ``text`` takes in a monospace font: wide characters (emoji, CJK) two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or char == "\ufe0f":
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _table(rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """Rows of cells as aligned lines; columns in ``right`` are right-aligned (numbers)."""
    widths = [max(display_width(row[col]) for row in rows) for col in range(len(rows[0]))] if rows else []
    lines = []
    for row in rows:
        cells = []
        for col, cell in enumerate(row):
            pad = " " * (widths[col] - display_width(cell))
            cells.append(pad + cell if col in right else cell + pad)
        lines.append("  ".join(cells).rstrip())
    return lines


def _name(text: Any, width: int) -> str:
    return _escape(clip(str(text or "-"), width))


# --- the dashboard's parts --------------------------------------------------------------------------------------


def _teams(details: dict[str, Any]) -> list[dict[str, Any]]:
    columns = details.get("team_columns") or []
    raw_rows = details.get("teams") or []
    if not columns or not raw_rows:
        return []
    top_n = min(int((details.get("digest") or {}).get("top_n") or 15), MAX_TEAM_ROWS)
    total = int(details.get("teams_total") or len(raw_rows))
    teams = [dict(zip(columns, row, strict=False)) for row in raw_rows]
    shown = teams[:top_n]
    rows = [["", "team", "MTD", "projected", "budget"]]
    for team in shown:
        budget = team.get("budget_usd")
        projected = team.get("projected_usd")
        used = float(projected) / float(budget) if budget and projected is not None else None
        rows.append(
            [
                STATUS_EMOJI.get(str(team.get("status")), "⚪"),
                _name(team.get("team"), TEAM_NAME_WIDTH),
                usd(team.get("mtd_usd"), compact=True),
                usd(team.get("projected_usd"), compact=True),
                pct(used) if used is not None else "-",
            ]
        )
    title = "*Teams by month-to-date spend*"
    if total > len(shown):
        title = f"*Top {len(shown)} of {total:,} teams by month-to-date spend*"
    more = total - len(shown)
    footer = ""
    if more > 0:
        rest = sum(float(team.get("mtd_usd") or 0) for team in teams[top_n:])
        omitted = int(details.get("teams_omitted") or 0)
        detail = "the smallest spenders" if omitted else f"{usd(rest, compact=True)} month to date"
        footer = f"_…and {more:,} more team{'s' if more != 1 else ''} ({detail})_"
    legend = "🔴 over budget · 🟠 at risk · 🟢 on track · ⚪ no budget; budget = projected month end / budget"
    return _table_sections(title, _table(rows, right={2, 3, 4}), footer=(footer + "\n" if footer else "") + legend)


def _pools(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Both pools per team (issue 15): production against its pool, experiment used so far, spend in no pool."""
    pools = details.get("pools") or []
    if not pools:
        return []
    top_n = min(int((details.get("digest") or {}).get("top_n") or 15), MAX_TEAM_ROWS)
    rows = [["", "team", "production", "", "experiment", "used", "no pool"]]
    for pool in pools[:top_n]:
        prod_budget, exp_budget = pool.get("production_budget_usd"), pool.get("experiment_budget_usd")
        share = pool.get("experiment_share")
        rows.append(
            [
                STATUS_EMOJI.get(str(pool.get("production_status")), "⚪"),
                _name(pool.get("team"), TEAM_NAME_WIDTH),
                usd(pool.get("production_usd"), compact=True)
                + (f"/{usd(prod_budget, compact=True)}" if prod_budget else ""),
                STATUS_EMOJI.get(str(pool.get("experiment_status")), "⚪"),
                usd(pool.get("experiment_usd"), compact=True)
                + (f"/{usd(exp_budget, compact=True)}" if exp_budget else ""),
                pct(float(share)) if share is not None else "-",
                usd(pool.get("unassigned_usd"), compact=True) if pool.get("unassigned_usd") else "-",
            ]
        )
    total = int(details.get("pools_total") or len(pools))
    title = "*Production and experiment pools*"
    footer = f"_…and {total - len(rows) + 1:,} more_\n" if total > len(rows) - 1 else ""
    legend = (
        "production: month to date / pool, judged on the projected month end · experiment: month to date / pool, "
        "judged on actual spend · no pool: environment untagged or unmapped"
    )
    return _table_sections(title, _table(rows, right={2, 4, 5, 6}), footer=footer + legend)


def _movers(details: dict[str, Any]) -> list[dict[str, Any]]:
    movers = details.get("movers") or []
    if not movers:
        return []
    rows = [["", "team", "yesterday", "baseline", "change", "ratio"]]
    for mover in movers:
        change = float(mover.get("change_usd") or 0)
        rows.append(
            [
                "▲" if change > 0 else "▼",
                _name(mover.get("team"), TEAM_NAME_WIDTH),
                usd(mover.get("yesterday_usd"), compact=True),
                usd(mover.get("baseline_usd"), compact=True),
                signed_usd(change),
                ratio_x(mover.get("ratio")),
            ]
        )
    return _table_sections("*Biggest movers, yesterday vs baseline*", _table(rows, right={2, 3, 4, 5}))


def _anomalies(details: dict[str, Any]) -> list[dict[str, Any]]:
    anomalies = details.get("anomalies") or []
    total = int(details.get("anomalies_total") or len(anomalies))
    if not total:
        return [_section("*Open anomalies*\nNone: every team is within its baseline. ✅")]
    rows = [["", "team", "day", "ratio", "extra", "top service"]]
    for anomaly in anomalies[:ANOMALY_LINES]:
        rows.append(
            [
                SEVERITY_EMOJI.get(str(anomaly.get("severity")), "⚪"),
                _name(anomaly.get("team"), TEAM_NAME_WIDTH),
                str(anomaly.get("date", "-"))[5:] + ("*" if anomaly.get("estimated") else ""),
                ratio_x(anomaly.get("ratio")),
                signed_usd(float(anomaly.get("impact_usd") or 0)),
                _name(_short_service(anomaly.get("top_service")), SERVICE_WIDTH),
            ]
        )
    shown = len(rows) - 1
    footer = f"_…and {total - shown:,} more_" if total > shown else ""
    if any(a.get("estimated") for a in anomalies[:ANOMALY_LINES]):
        footer = (footer + "  " if footer else "") + "_* estimated day_"
    acked = [a for a in anomalies[:ANOMALY_LINES] if a.get("acknowledged_by")]
    if acked:  # issue 13: who owns it (acknowledged from Slack); ids are checked U.../W... (a mention, not text)
        owners = ", ".join(f"{_name(a.get('team'), TEAM_NAME_WIDTH)} <@{a['acknowledged_by']}>" for a in acked)
        footer = (footer + "  " if footer else "") + f"_acknowledged: {owners}_"
    return _table_sections(f"*Open anomalies ({total:,})*", _table(rows, right={3, 4}), footer=footer)


def _reaper(details: dict[str, Any]) -> list[dict[str, Any]]:
    reaper = details.get("reaper")
    if not reaper:
        return []
    counts = reaper.get("counts") or {}
    mode = " — dry run, nothing was changed" if reaper.get("dry_run") else ""
    summary = " · ".join(f"{REAPER_EMOJI.get(s, '')} {n} {s}" for s, n in counts.items() if n) or "nothing to do"
    lines = reaper.get("lines") or []
    if not lines:
        return [_section(f"*Reaper, last 24 h*{mode}\n{summary}")]
    rows = [
        [
            REAPER_EMOJI.get(str(line.get("status")), "•"),
            _name(line.get("action"), 12),
            _name(_short_resource(str(line.get("resource", ""))), RESOURCE_WIDTH),
            _name(line.get("team"), 20),
            _name(line.get("reason") or "", 40),
        ]
        for line in lines[:REAPER_LINES]
    ]
    total = sum(int(n) for n in counts.values())
    footer = f"_…and {total - len(rows):,} more decisions_" if total > len(rows) else ""
    return _table_sections(f"*Reaper, last 24 h*{mode}\n{summary}", _table(rows, right=set()), footer=footer)


def _idle(details: dict[str, Any]) -> list[dict[str, Any]]:
    """``Idle: N resources, X USD/month`` and the teams paying most for it (from the idle finder's last scan)."""
    idle = details.get("idle")
    if not idle:
        return []
    count = int(idle.get("resources") or 0)
    text = f"*Idle:* {count} resource{'s' if count != 1 else ''}, {usd(idle.get('waste_usd'))}/month"
    teams = idle.get("teams") or []
    if teams:
        text += "\n" + "\n".join(
            f"• {_escape(str(t.get('team')))}: {t.get('resources')} resources, {usd(t.get('waste_usd'))}/month"
            for t in teams
        )
    return [_section(text)]


#: Unit-cost lines shown (the composer sends at most ``compose.UNIT_COSTS_MAX``).
UNIT_COST_LINES = 5


def _unit_costs(details: dict[str, Any]) -> list[dict[str, Any]]:
    """``Unit costs that moved yesterday`` (issue 26): model, team, the unit cost against its usual."""
    moves = details.get("unit_costs") or []
    if not moves:
        return []
    lines = []
    for m in moves[:UNIT_COST_LINES]:
        per = str(m.get("per") or m.get("unit", ""))
        lines.append(
            f"• {_escape(str(m.get('model')))} ({_escape(str(m.get('team')))}): "
            f"{usd(m.get('usd_per_unit'), cents=True)} per {_escape(per)}, "
            f"{float(m.get('change') or 0):+.0%} on its usual {usd(m.get('baseline_usd'), cents=True)}"
        )
    total = int(details.get("unit_costs_total") or len(moves))
    more = f"\n_…and {total - len(lines)} more_" if total > len(lines) else ""
    return [_section("*Unit costs that moved yesterday*\n" + "\n".join(lines) + more)]


def _expiring(details: dict[str, Any]) -> list[dict[str, Any]]:
    expiring = details.get("expiring") or []
    total = int(details.get("expiring_total") or len(expiring))
    if not total:
        return []
    rows = [["expires", "team", "resource"]]
    for item in expiring[:EXPIRING_LINES]:
        rows.append(
            [
                hours_until(float(item.get("seconds_left") or 0)),
                _name(item.get("team"), 20),
                _name(_short_resource(str(item.get("resource", ""))), RESOURCE_WIDTH),
            ]
        )
    shown = len(rows) - 1
    footer = f"_…and {total - shown:,} more_" if total > shown else ""
    footer += ("\n" if footer else "") + "_To keep one, update its `expires_at` tag._"
    return _table_sections(f"*Expiring in the next 72 h ({total:,})*", _table(rows, right=set()), footer=footer)


#: Cost Explorer's SERVICE names are long; the table shows the name people say.
SERVICE_SHORT = {
    "Amazon Elastic Compute Cloud - Compute": "EC2",
    "EC2 - Other": "EC2 other",
    "Amazon Simple Storage Service": "S3",
    "Amazon Elastic Kubernetes Service": "EKS",
    "Amazon Elastic MapReduce": "EMR",
    "Amazon Relational Database Service": "RDS",
    "Amazon Elastic Container Service": "ECS",
    "Amazon Elastic File System": "EFS",
}


def _short_service(service: Any) -> str:
    if not service:
        return "-"
    name = str(service)
    if name in SERVICE_SHORT:
        return SERVICE_SHORT[name]
    return name.removeprefix("Amazon ").removeprefix("AWS ")


def _short_resource(resource: str) -> str:
    """The readable tail of an ARN (``instance/i-0abc`` -> ``i-0abc``; ASG names after ``autoScalingGroupName/``;
    an EKS node group as ``cluster/nodegroup``, not the id its ARN ends with)."""
    if not resource.startswith("arn:"):
        return resource
    tail = resource.split(":", 5)[-1]
    parts = tail.split("/")
    if parts[0] == "nodegroup" and len(parts) >= 3:  # nodegroup/<cluster>/<name>/<uuid>
        return f"{parts[1]}/{parts[2]}"
    return parts[-1]


def blocks_as_text(blocks: Sequence[dict[str, Any]]) -> str:
    """A terminal rendering of Block Kit blocks (header, fields, sections, context, dividers), for the CLI and demo."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"# {block['text']['text']}")
        elif kind == "divider":
            lines.append("─" * 60)
        elif kind == "context":
            lines.append(" · ".join(str(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "section":
            if "text" in block:
                lines.append(block["text"]["text"])
            lines.extend(str(f["text"]).replace("\n", ": ", 1) for f in block.get("fields", []))
    return "\n".join(lines)
