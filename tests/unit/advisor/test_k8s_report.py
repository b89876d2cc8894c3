"""The monthly report's Kubernetes section: the month's tables appended after the report's own sections, names
escaped, the month's complete days only, and a failed read said in the page."""

from __future__ import annotations

from datetime import date

from costwarden.advisor.k8s_report import kubernetes_html, with_kubernetes
from costwarden.models.k8s import NodeDay
from costwarden.models.k8s_digest import section
from costwarden.services.advisor.k8s_report import kubernetes_section, report_with_kubernetes

from tests.support.k8s import MemoryK8sSource, days, group_series, node_series

PAGE = "<!DOCTYPE html>\n<html><body>\n<h1>Cost report 2026-11</h1>\n</body></html>"


def _source() -> MemoryK8sSource:
    source = MemoryK8sSource()
    source.groups += group_series("ml-training", [100.0] * 40, start=date(2026, 10, 22), team="nlp", gpu_share=0.5)
    source.groups += group_series("web", [10.0] * 40, start=date(2026, 10, 22), team="<b>web</b>", gpu_share=0.0)
    source.groups += group_series("ml-training/trainer", [80.0] * 40, start=date(2026, 10, 22), by="workload")
    source.nodes += node_series("i-0a", days(date(2026, 10, 22), 40), cost_usd=50.0, gpu_usd=40.0, gpu_unused_usd=30.0)
    return source


def test_the_section_covers_the_months_complete_days_and_is_appended_at_the_end() -> None:
    source = _source()
    found = kubernetes_section(source, "2026-11", date(2026, 11, 11))  # the 1st through the 10th
    assert found is not None and found.last_day == date(2026, 11, 10)
    assert [(r.name, r.month_to_date_usd) for r in found.namespaces] == [("ml-training", 1000.0), ("web", 100.0)]
    assert [(r.name, r.unused_usd) for r in found.gpu_pools] == [("p4d.24xlarge", 300.0)]
    page = report_with_kubernetes(PAGE, source, "2026-11", date(2026, 11, 11))
    assert page.index("<h1>Cost report") < page.index('<section id="kubernetes">') < page.index("</body></html>")
    assert page.endswith("</section>\n</body></html>")
    assert "<h2>Kubernetes (EKS) in 2026-11</h2>" in page and "prod-gpu/ml-training/trainer" in page


def test_team_names_are_escaped() -> None:
    html = kubernetes_html(kubernetes_section(_source(), "2026-11", date(2026, 12, 1)))  # type: ignore[arg-type]
    assert "<b>web</b>" not in html and "&lt;b&gt;web&lt;/b&gt;" in html


def test_a_month_without_eks_cost_adds_nothing_and_a_failed_read_is_said() -> None:
    assert with_kubernetes(PAGE, section([], [], [], date(2026, 11, 10))) == PAGE
    assert kubernetes_section(_source(), "2026-11", date(2026, 11, 1)) is None  # no complete day yet

    class Broken(MemoryK8sSource):
        def node_days(self, start: date, end: date) -> list[NodeDay]:
            raise PermissionError("athena:StartQueryExecution denied")

    page = report_with_kubernetes(PAGE, Broken(), "2026-11", date(2026, 11, 11))
    assert "EKS cost for 2026-11 could not be read: PermissionError: athena:StartQueryExecution denied" in page
    assert page.endswith("</section>\n</body></html>")
