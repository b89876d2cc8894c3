"""The allocation's rules, one case each: a pod's team, its workload, the amortized (net) figures, the node's own
line whichever pays for it, what is not an EKS pod, and the GPU part of an hour no pod ran in."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.k8s import NO_WORKLOAD, OWNER_UNUSED, allocate
from costwarden.settings import K8sSettings
from pydantic import ValidationError

from tests.support.k8s_cur import Node, Pod, flat_frame, split_rows

GPU_NODE = Node("i-0gpu", "g5.12xlarge", 48, 192, 4, 5.672, team="ml-platform")
PODS = [
    Pod("a", "research", cpu=(8, 4), memory=(32, 16), gpu=(2, 2), deployment="trainer", labels={"team": "vision"}),
    Pod("b", "serving", cpu=(4, 4), memory=(16, 16), gpu=(1, 1), deployment="api", labels={"app": "chat"}),
    Pod("c", "kube-system", cpu=(1, 1), memory=(1, 1)),
]


def _groups(settings: K8sSettings | None = None, rows: list[dict[str, Any]] | None = None, **kwargs: Any) -> Any:
    groups, _ = allocate(flat_frame(rows or split_rows(GPU_NODE, PODS)), settings, **kwargs)
    return groups


def test_a_pods_team_is_the_namespace_map_then_its_label_then_the_node_groups_team() -> None:
    settings = K8sSettings(namespace_teams={"serving": "nlp"})
    teams = {group.key: group.team for group in _groups(settings, by="namespace", unused="unallocated")}
    assert teams == {"research": "vision", "serving": "nlp", "kube-system": "ml-platform", "unallocated": "unowned"}


def test_a_pod_on_a_node_without_a_team_tag_is_unowned() -> None:
    node = Node(**{**GPU_NODE.__dict__, "team": None})
    groups = _groups(rows=split_rows(node, PODS[2:]), by="team")
    assert {group.key for group in groups} == {"unowned"}


def test_the_team_label_and_the_node_team_tag_are_read_where_configured() -> None:
    rows = split_rows(GPU_NODE, PODS)
    rows[0]["resource_tags"] = {"user_owner": "infra"}
    settings = K8sSettings(team_label="app", node_team_tag="owner")
    teams = {group.key: group.team for group in _groups(settings, rows, by="namespace")}
    assert teams == {"research": "infra", "serving": "chat", "kube-system": "infra", OWNER_UNUSED: "infra"}


def test_the_workload_is_the_deployment_or_the_configured_label_inside_its_namespace() -> None:
    keys = {group.key for group in _groups(by="workload")}
    assert keys == {"research/trainer", "serving/api", f"kube-system/{NO_WORKLOAD}", OWNER_UNUSED}
    settings = K8sSettings(workload_label="app")
    keys = {group.key for group in _groups(settings, by="workload")}
    assert keys == {"serving/chat", f"research/{NO_WORKLOAD}", f"kube-system/{NO_WORKLOAD}", OWNER_UNUSED}


def test_two_namespaces_deployments_of_one_name_are_two_workloads() -> None:
    pods = [
        Pod(f"t{n}", namespace, cpu=(1, 1), memory=(4, 4), deployment="trainer") for n, namespace in enumerate("ab")
    ]
    keys = {group.key for group in _groups(rows=split_rows(GPU_NODE, pods), by="workload", unused="unallocated")}
    assert keys == {"a/trainer", "b/trainer", "unallocated"}


def test_owner_grouped_by_team_adds_the_idle_to_the_pool_owners_line() -> None:
    groups = {group.key: group for group in _groups(by="team", unused="owner")}
    node_cost, split = GPU_NODE.cost, sum(g.cpu_usd + g.memory_usd + g.gpu_usd for g in groups.values())
    assert groups["ml-platform"].unused_usd == pytest.approx(node_cost - split)
    assert groups["vision"].unused_usd == 0


def test_net_figures_are_read_where_the_account_has_discounts() -> None:
    rows = split_rows(GPU_NODE, PODS)
    rows[0].update(
        line_item_line_item_type="SavingsPlanCoveredUsage",
        line_item_unblended_cost=5.672,
        savings_plan_savings_plan_effective_cost=4.0,
        savings_plan_net_savings_plan_effective_cost=3.0,
    )
    for row in rows[1:]:
        row["split_line_item_net_split_cost"] = row["split_line_item_split_cost"] * 0.75
        row["split_line_item_net_unused_cost"] = row["split_line_item_unused_cost"] * 0.75
    groups, [node] = allocate(flat_frame(rows), by="namespace", unused="proportional")
    assert node.cost_usd == 3.0
    assert sum(group.cost_usd for group in groups) == pytest.approx(3.0)
    without_net = [{k: v for k, v in row.items() if "_net_" not in k} for row in rows]
    _, [gross] = allocate(flat_frame(without_net))
    assert gross.cost_usd == 4.0  # the Savings Plan's effective cost, not the on-demand unblended 5.672


def test_ecs_tasks_on_the_same_instance_are_not_eks_pods() -> None:
    rows = split_rows(GPU_NODE, PODS)
    ecs = {**rows[1], "resource_tags": {"aws_ecs_cluster_name": "batch"}, "split_line_item_split_cost": 99.0}
    groups, _ = allocate(flat_frame([*rows, ecs]), by="namespace")
    assert sum(group.cost_usd for group in groups) == pytest.approx(GPU_NODE.cost)


def test_an_hour_without_pods_counts_its_gpu_part_at_the_nodes_own_measured_share() -> None:
    busy = split_rows(GPU_NODE, PODS, "2026-11-03T10:00:00Z")
    idle = split_rows(GPU_NODE, [], "2026-11-03T11:00:00Z")
    _, [alone] = allocate(flat_frame(busy))
    _, [day] = allocate(flat_frame(busy + idle))
    share = alone.gpu_usd / alone.cost_usd  # 9*4 / (9*4 + 0.9*48 + 0.1*192) on AWS's weights
    assert share == pytest.approx(36 / (36 + 43.2 + 19.2))
    assert day.gpu_unused_usd == pytest.approx(alone.gpu_unused_usd + share * GPU_NODE.cost)
    assert day.unused_usd == pytest.approx(alone.unused_usd + GPU_NODE.cost)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("namespace_teams", {"Research_Team": "nlp"}, "not a Kubernetes namespace name"),
        ("namespace_teams", {"research": " nlp"}, "no surrounding blanks"),
        ("team_label", "team label", "not a label or tag key"),
        ("unused", "shared", "'owner', 'proportional' or 'unallocated'"),
    ],
)
def test_settings_refuse_what_could_never_match_naming_the_key(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        K8sSettings.model_validate({field: value})
    assert caught.value.errors()[0]["loc"][0] == field
