"""The digest's Kubernetes section (``details["kubernetes"]``): the month's EKS cost by namespace, workload and team,
and the unused GPU cost per node pool, for the fleet or for one team.

Composed beside the other sections (``compose.compose_digest`` adds it when the cost monitor guarded namespaces) and
rendered by ``notifier.k8s_digest_blocks``. Rows are capped (``ROWS_MAX`` per table, largest first) with each
table's full count, so the digest stays within SNS's size limit whatever the cluster count.
"""

from __future__ import annotations

from typing import Any

from costwarden.models.k8s_digest import K8sRow, K8sSection

#: Rows per table in the digest event (the Slack message shows fewer).
ROWS_MAX = 10
TABLES = ("namespaces", "workloads", "teams", "gpu_pools")


def _row(row: K8sRow) -> dict[str, Any]:
    return {
        "cluster": row.cluster,
        "name": row.name[:120],
        "team": row.team[:120],
        "month_to_date_usd": round(row.month_to_date_usd, 2),
        "gpu_usd": round(row.gpu_usd, 2),
        "unused_usd": round(row.unused_usd, 2),
    }


def with_section(digest: dict[str, Any], section: K8sSection | None, team: str | None) -> dict[str, Any]:
    """The digest's ``details`` with ``kubernetes`` after its own sections, when the cost monitor guarded EKS."""
    return digest if section is None else {**digest, "kubernetes": details(section, team)}


def details(section: K8sSection, team: str | None) -> dict[str, Any] | None:
    """The section's JSON for the fleet (``team=None``) or one team; None when the team has no EKS spend."""
    scoped = section if team is None else section.for_team(team)
    if scoped.empty:
        return None
    out: dict[str, Any] = {"month": scoped.month, "as_of": scoped.last_day.isoformat()}
    for table in TABLES:
        rows = getattr(scoped, table)
        out[table] = [_row(r) for r in rows[:ROWS_MAX]]
        out[f"{table}_total"] = section.totals.get(table, len(rows)) if team is None else len(rows)
    return out
