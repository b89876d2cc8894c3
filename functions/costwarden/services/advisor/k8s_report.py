"""The monthly report's Kubernetes section, read through the ``K8sSource`` port for the report's month.

Three questions (namespaces, workloads, nodes) for the month's complete days; a read that fails leaves a line in the
section saying so, never a report that looks as if the clusters cost nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from costwarden.advisor.k8s_report import append_block, unread_html, with_kubernetes
from costwarden.advisor.report import month_bounds
from costwarden.models.k8s_digest import K8sSection, section
from costwarden.models.ports import K8sSource, error_text


def kubernetes_section(source: K8sSource, month: str, today: date) -> K8sSection | None:
    """The month's section through the day before ``today`` (None when the month has no complete day yet)."""
    start, end = month_bounds(month)
    end = min(end, today)
    if end <= start:
        return None
    groups = source.group_days(start, end, "namespace")
    workloads = source.group_days(start, end, "workload")
    return section(groups, workloads, source.node_days(start, end), end - timedelta(days=1))


def report_with_kubernetes(page: str, source: K8sSource, month: str, today: date) -> str:
    """``page`` with the month's Kubernetes section appended, or a line saying why it could not be read."""
    try:
        found = kubernetes_section(source, month, today)
    except Exception as error:  # the rest of the report stands; the section says what failed
        return append_block(page, unread_html(f"EKS cost for {month} could not be read: {error_text(error)}"))
    return with_kubernetes(page, found)
