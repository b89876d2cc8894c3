"""Fractional GPUs (docs/k8s.md, "Fractional GPUs"): Costwarden reports what the bill's GPU split rows say, at their
precision, and never derives a finer split from MIG profiles or time-slicing replicas it cannot see.

Kubernetes requests an extended resource (``nvidia.com/gpu``) in whole units; AWS splits an instance's accelerators
per request in those units. Under time-slicing, four pods each requesting one replica of a single physical GPU are
four whole GPUs requested of one: the node is oversubscribed, each pod's split is normalised by the total requested,
a quarter of the GPU's cost each (the bill's arithmetic, ``tests.support.k8s_cur``). Where a request reaches the
bill as a fraction (a MIG slice reported as 0.5 of a GPU), the fraction is carried as billed, not rounded.
"""

from __future__ import annotations

import pytest
from costwarden.k8s import allocate

from tests.support.k8s_cur import Node, Pod, flat_frame, rates, split_costs, split_rows

NODE = Node("i-0t4", "g4dn.xlarge", 4, 16, 1, 0.526, team="ml-platform")


def test_four_time_sliced_pods_each_pay_a_quarter_of_the_one_gpu() -> None:
    pods = [
        Pod(f"tts-{n}", "serving", cpu=(0.5, 0.5), memory=(2, 2), gpu=(1, 1), deployment=f"tts-{n}") for n in range(4)
    ]
    groups, [node] = allocate(flat_frame(split_rows(NODE, pods)), by="workload", unused="proportional")
    gpu_hour = rates(NODE)["gpu"] * NODE.gpus
    assert [round(group.gpu_usd, 6) for group in groups] == [round(gpu_hour / 4, 6)] * 4
    assert node.gpu_unused_usd == 0  # four requests of one GPU leave none of it unused


def test_a_fractional_request_on_the_bill_is_carried_as_billed() -> None:
    pods = [
        Pod("mig-a", "research", cpu=(1, 1), memory=(4, 4), gpu=(0.5, 0.25), deployment="mig-a"),
        Pod("mig-b", "research", cpu=(1, 1), memory=(4, 4), gpu=(0.25, 0.25), deployment="mig-b"),
    ]
    billed = split_costs(NODE, pods)
    groups, [node] = allocate(flat_frame(split_rows(NODE, pods)), by="workload", unused="owner")
    got = {group.key.partition("/")[2]: group.gpu_usd for group in groups if group.key.startswith("research/")}
    assert got == {pod: pytest.approx(billed[pod]["gpu"][0], abs=1e-12) for pod in ("mig-a", "mig-b")}
    assert got["mig-a"] == pytest.approx(2 * got["mig-b"])  # 0.5 and 0.25 of a GPU, not one whole GPU each
    assert node.gpu_unused_usd == pytest.approx(0.25 * rates(NODE)["gpu"])  # the quarter nobody requested
