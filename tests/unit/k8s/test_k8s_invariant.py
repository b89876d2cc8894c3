"""The node invariant, over random pod sets: per node and hour, the groups' cost (their split cost plus the unused
cost the policy charges them) plus any ``unallocated`` line equals the node's cost, within 0.01 USD — for every
unused-cost policy and every grouping, oversubscribed nodes, pod-less nodes and nodes without their own line."""

from __future__ import annotations

from costwarden.k8s import allocate
from costwarden.models.k8s import GROUP_BYS, UNUSED_POLICIES, GroupBy
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.k8s_cur import Node, Pod, flat_frame, split_costs, split_rows

TEAMS = st.sampled_from(["nlp", "vision", "platform"])


@st.composite
def node_hours(draw: st.DrawFn) -> tuple[Node, list[Pod], float, bool]:
    gpus = draw(st.sampled_from([0, 0, 1, 4, 8]))
    node = Node(
        "i-0node",
        "g5.12xlarge" if gpus else "m5.4xlarge",
        vcpus=draw(st.integers(2, 96)),
        memory_gb=draw(st.integers(4, 768)),
        gpus=gpus,
        cost=draw(st.floats(0.01, 120.0)),
        team=draw(st.none() | TEAMS),
    )
    pods = []
    for index in range(draw(st.integers(1, 10))):
        reserve = st.floats(0.0, 1.5)  # a share of the node: above 1 together is oversubscription
        pods.append(
            Pod(
                f"p{index}",
                draw(st.sampled_from(["train", "serve", "kube-system"])),
                cpu=(draw(reserve) * node.vcpus / 4, draw(reserve) * node.vcpus / 4),
                memory=(draw(reserve) * node.memory_gb / 4, draw(reserve) * node.memory_gb / 4),
                gpu=(float(draw(st.integers(0, gpus))), float(draw(st.integers(0, gpus)))) if gpus else (0.0, 0.0),
                deployment=draw(st.none() | st.sampled_from(["trainer", "api"])),
                labels=draw(st.just({}) | st.builds(lambda team: {"team": team}, TEAMS)),
            )
        )
    skew = draw(st.sampled_from([1.0, 1.0, 0.97, 1.05]))  # the node's line above / below its split rows
    with_line = draw(st.booleans())
    return node, pods, skew, with_line


@settings(max_examples=20, deadline=None)
@given(node_hours(), st.sampled_from(GROUP_BYS))
def test_groups_plus_unallocated_equal_the_node_cost_for_every_policy(
    case: tuple[Node, list[Pod], float, bool], by: GroupBy
) -> None:
    node, pods, skew, with_line = case
    billed = Node(**{**node.__dict__, "cost": node.cost * skew})  # the split rows priced from the skewed cost
    rows = split_rows(node, pods)
    pod_rows = split_rows(billed, pods)[1:]
    frame = flat_frame((rows[:1] if with_line else []) + pod_rows)
    costs = split_costs(billed, pods)
    node_cost = (
        node.cost if with_line else sum(split + unused for pod in costs.values() for split, unused in pod.values())
    )
    pods_split = sum(split for pod in costs.values() for split, _ in pod.values())
    for policy in UNUSED_POLICIES:
        groups, nodes = allocate(frame, by=by, unused=policy)
        assert abs(sum(group.cost_usd for group in groups) - node_cost) < 0.01, policy
        assert all(abs(g.cost_usd - g.cpu_usd - g.memory_usd - g.gpu_usd - g.unused_usd) < 1e-9 for g in groups)
        [day] = nodes
        assert abs(day.cost_usd - node_cost) < 1e-9
        assert abs(day.unused_usd - (node_cost - pods_split)) < 1e-9
        if policy != "proportional" and by != "team":  # the pods carry no unused cost; its own line holds it all
            assert sum(group.unused_usd for group in groups if group.cpu_usd + group.memory_usd + group.gpu_usd) == 0


@settings(max_examples=8, deadline=None)
@given(st.lists(node_hours(), min_size=1, max_size=3), st.sets(st.integers(0, 46), min_size=1, max_size=3))
def test_over_nodes_and_hours_each_day_adds_up_to_its_nodes_pod_less_hours_included(
    cases: list[tuple[Node, list[Pod], float, bool]], hours: set[int]
) -> None:
    rows = []
    for number, (drawn, pods, _skew, _line) in enumerate(cases):
        node = Node(**{**drawn.__dict__, "instance_id": f"i-{number}"})
        for hour in sorted(hours):
            rows += split_rows(node, pods, _stamp(hour))
        rows += split_rows(node, [], _stamp(47))  # its last hour: the node up, no pod on it (no split rows)
    frame = flat_frame(rows)
    for policy in UNUSED_POLICIES:
        groups, nodes = allocate(frame, by="team", unused=policy)
        assert len(nodes) == len(cases) * len({_stamp(hour)[:10] for hour in {*hours, 47}})
        for day in {node.date for node in nodes}:
            billed = sum(node.cost_usd for node in nodes if node.date == day)
            assert abs(sum(group.cost_usd for group in groups if group.date == day) - billed) < 0.01
        assert abs(sum(node.cost_usd for node in nodes) - sum(case[0].cost for case in cases) * (len(hours) + 1)) < 1e-6


def _stamp(hour: int) -> str:
    return f"2026-11-{3 + hour // 24:02d}T{hour % 24:02d}:00:00Z"
