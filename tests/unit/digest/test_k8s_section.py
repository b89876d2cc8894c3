"""The digest's Kubernetes section: the month's EKS cost by namespace, workload, team and unused GPU per node pool,
month to date by the ledger's rule, scoped per team, and within Slack's limits at any fleet size."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from costwarden.cost import ledger
from costwarden.cost.k8s_series import series_frame
from costwarden.digest import k8s_section
from costwarden.digest.compose import compose_digest
from costwarden.models.digest import DigestInput
from costwarden.models.k8s_digest import section
from costwarden.notifier.digest_blocks import digest_blocks
from costwarden.notifier.k8s_digest_blocks import kubernetes_blocks

from tests.support.k8s import days, group_series, node_series

LAST = date(2026, 3, 19)
FEB = date(2026, 2, 20)  # ten days of February then nineteen of March


def _facts() -> tuple[list, list, list]:  # type: ignore[type-arg]
    groups = group_series("ml-training", [500.0] * 28, start=FEB, team="nlp", gpu_share=0.6)
    groups += group_series("serving", [300.0] * 28, start=FEB, team="search", gpu_share=0.0)
    groups += group_series("ml-eval", [50.0] * 28, start=FEB, team="nlp", gpu_share=0.2)
    workloads = group_series("ml-training/trainer", [400.0] * 28, start=FEB, team="nlp", by="workload")
    nodes = node_series("i-0a", days(FEB, 28), cost_usd=786.0, gpu_usd=600.0, gpu_unused_usd=570.0, team="nlp")
    nodes += node_series("i-0b", days(FEB, 28), cost_usd=786.0, gpu_usd=600.0, gpu_unused_usd=30.0, team="search")
    nodes += node_series("i-0c", days(FEB, 28), cost_usd=20.0, gpu_usd=0.0, gpu_unused_usd=0.0, instance_type="m5.xl")
    return groups, workloads, nodes


def test_month_to_date_is_the_ledgers_and_pools_rank_by_unused_gpu() -> None:
    groups, workloads, nodes = _facts()
    found = section(groups, workloads, nodes, LAST)
    ledger_mtd = ledger.month_to_date(series_frame(groups), LAST)
    assert {f"k8s:{r.cluster}/{r.name}": r.month_to_date_usd for r in found.namespaces} == {
        k: round(v, 2) for k, v in ledger_mtd.items()
    }
    assert [(r.name, r.month_to_date_usd, r.gpu_usd) for r in found.namespaces] == [
        ("ml-training", 9500.0, 5700.0),
        ("serving", 5700.0, 0.0),
        ("ml-eval", 950.0, 190.0),
    ]
    assert [(r.name, r.month_to_date_usd) for r in found.teams] == [("nlp", 10450.0), ("search", 5700.0)]
    assert [(r.team, r.unused_usd) for r in found.gpu_pools] == [("nlp", 10830.0), ("search", 570.0)]  # no m5
    assert [r.name for r in found.workloads] == ["ml-training/trainer"]


def test_the_digest_carries_the_section_for_the_fleet_and_each_team_its_own() -> None:
    inp = DigestInput(date=LAST, generated_at=datetime(2026, 3, 20, 8, tzinfo=UTC), kubernetes=section(*_facts(), LAST))
    fleet = compose_digest(inp, 10).details["kubernetes"]
    assert fleet["month"] == "2026-03" and fleet["namespaces_total"] == 3
    assert [r["name"] for r in fleet["namespaces"]] == ["ml-training", "serving", "ml-eval"]
    search = k8s_section.details(section(*_facts(), LAST), "search")
    assert search is not None and k8s_section.details(section(*_facts(), LAST), "vision") is None
    assert [r["name"] for r in search["namespaces"]] == ["serving"] and search["workloads"] == []
    text = json.dumps(digest_blocks(compose_digest(inp, 10)))
    assert "Kubernetes (EKS), 2026-03 to date" in text and "prod-gpu/ml-training" in text and "unused GPU" in text


def test_without_the_guard_the_digest_has_no_kubernetes_part() -> None:
    inp = DigestInput(date=LAST, generated_at=datetime(2026, 3, 20, 8, tzinfo=UTC))
    assert "kubernetes" not in compose_digest(inp, 10).details
    assert kubernetes_blocks({}) == []


def test_a_thousand_namespaces_are_one_slack_section_under_its_limit() -> None:
    groups = [
        g
        for i in range(1000)
        for g in group_series(f"ns-{i:04d}-" + "x" * 50, [float(i + 1)], start=LAST, cluster="c" * 100)
    ]
    inp = DigestInput(
        date=LAST, generated_at=datetime(2026, 3, 20, 8, tzinfo=UTC), kubernetes=section(groups, [], [], LAST)
    )
    details = compose_digest(inp, 10).details
    assert details["kubernetes"]["namespaces_total"] == 1000 and len(details["kubernetes"]["namespaces"]) == 10
    [block] = kubernetes_blocks(details)
    assert len(block["text"]["text"]) <= 3000 and "…and 995 more" in block["text"]["text"]
