"""The Kubernetes section of the digest's Slack dashboard: four short tables (namespaces, workloads, teams, unused
GPU per node pool), read from ``details["kubernetes"]`` (``digest.k8s_section``).

One section block, whatever the fleet: ``ROWS_SHOWN`` rows per table with "and N more", names clipped, so the text
stays under Slack's 3,000 characters per section.
"""

from __future__ import annotations

from typing import Any

from costwarden.core.money import usd
from costwarden.core.text import clip
from costwarden.notifier.blocks import escape

ROWS_SHOWN = 5
NAME_WIDTH = 34
MAX_SECTION_TEXT = 3_000
_TITLES = {
    "namespaces": "by namespace",
    "workloads": "by workload",
    "teams": "by team",
    "gpu_pools": "unused GPU per node pool",
}


def _line(row: dict[str, Any], table: str) -> str:
    if table == "gpu_pools":
        name = f"{row.get('cluster')}/{row.get('name')} ({row.get('team')})"
        return f"{clip(name, NAME_WIDTH):<{NAME_WIDTH}} {usd(row.get('unused_usd')):>9} unused"
    where = row.get("name") if table == "teams" else f"{row.get('cluster')}/{row.get('name')}"
    return (
        f"{clip(str(where), NAME_WIDTH):<{NAME_WIDTH}} {usd(row.get('month_to_date_usd')):>9}"
        f"  GPU {usd(row.get('gpu_usd')):>8}"
    )


def kubernetes_blocks(details: dict[str, Any]) -> list[dict[str, Any]]:
    """The section as one Slack block (none when the digest has no Kubernetes part)."""
    section = details.get("kubernetes")
    if not isinstance(section, dict):
        return []
    parts = [f"*Kubernetes (EKS), {escape(str(section.get('month', '')))} to date*"]
    for table, title in _TITLES.items():
        rows = [r for r in section.get(table) or [] if isinstance(r, dict)]
        if not rows:
            continue
        total = int(section.get(f"{table}_total") or len(rows))
        lines = [escape(_line(r, table)) for r in rows[:ROWS_SHOWN]]
        more = f"\n_…and {total - len(lines):,} more_" if total > len(lines) else ""
        parts.append(f"_{title}_\n```\n" + "\n".join(lines) + "\n```" + more)
    text = clip("\n".join(parts), MAX_SECTION_TEXT)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
