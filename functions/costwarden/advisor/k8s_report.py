"""The monthly report's Kubernetes section: the month's EKS cost by namespace, workload and team, and the unused
GPU cost per node pool, as one HTML block appended after the report's own sections (``with_kubernetes``).

Built from the same ``models.k8s_digest.K8sSection`` as the digest's section (one month-to-date rule for both).
Every name is escaped: namespaces, workloads and labels are user input. No script, no external reference, like the
rest of the page.
"""

from __future__ import annotations

import html

from costwarden.core.money import usd
from costwarden.models.k8s_digest import K8sRow, K8sSection

END = "</body></html>"
_TABLES = (
    ("namespaces", "By namespace", "namespace"),
    ("workloads", "By workload", "workload"),
    ("teams", "By team", "team"),
    ("gpu_pools", "Unused GPU per node pool", "node pool (instance type)"),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cells(row: K8sRow, table: str) -> str:
    where = row.name if table == "teams" else f"{row.cluster}/{row.name}"
    team = "" if table == "teams" else f"<td>{_e(row.team)}</td>"
    amounts = (row.month_to_date_usd, row.gpu_usd, row.unused_usd)
    return f"<tr><td>{_e(where)}</td>{team}" + "".join(f"<td>{_e(usd(a))}</td>" for a in amounts) + "</tr>"


def kubernetes_html(section: K8sSection) -> str:
    """The section as HTML (an empty string when the month had no EKS cost)."""
    if section.empty:
        return ""
    parts = [
        '<section id="kubernetes">',
        f"<h2>Kubernetes (EKS) in {_e(section.month)}</h2>",
        f'<p class="muted">From CUR 2.0 split cost allocation data, through {_e(section.last_day.isoformat())}. '
        "Unused: for namespaces, workloads and teams the nodes' unused cost charged to them by the configured policy; "
        "for node pools the GPU cost no pod reserved or used.</p>",
    ]
    for table, title, label in _TABLES:
        rows = getattr(section, table)
        if not rows:
            continue
        team = "" if table == "teams" else "<th>team</th>"
        total = section.totals.get(table, len(rows))
        more = f'<p class="muted">and {total - len(rows):,} more</p>' if total > len(rows) else ""
        parts.append(
            f"<h3>{_e(title)}</h3><table><tr><th>{_e(label)}</th>{team}<th>cost</th><th>GPU</th><th>unused</th></tr>"
            + "".join(_cells(r, table) for r in rows)
            + f"</table>{more}"
        )
    parts.append("</section>")
    return "\n".join(parts)


def append_block(page: str, block: str) -> str:
    """``page`` (the report's HTML) with ``block`` appended before its end (after every section of its own)."""
    if not block:
        return page
    head, found, tail = page.rpartition(END)
    return f"{head}{block}\n{END}{tail}" if found else f"{page}\n{block}"


def with_kubernetes(page: str, section: K8sSection | None) -> str:
    """``page`` with the Kubernetes section appended (unchanged when there is none)."""
    return append_block(page, kubernetes_html(section) if section is not None else "")


def unread_html(note: str) -> str:
    """The section when the month's facts could not be read: the reason, never an empty-looking section."""
    return f'<section id="kubernetes"><h2>Kubernetes (EKS)</h2><p class="muted">{_e(note)}</p></section>'
