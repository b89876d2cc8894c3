"""Idle GPU nodes from EKS split cost facts: judged over the lookback, priced per month, owned, published by the
idle finder's own weekly alert."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.idle import k8s_gpu
from costwarden.idle.checks.base import Ports
from costwarden.idle.model import Kind
from costwarden.idle.run import run_idle
from costwarden.models.alert import AlertEvent, AlertKind
from costwarden.models.k8s import NodeDay
from costwarden.settings import K8sGuardSettings, parse_settings

from tests.support.k8s import MemoryK8sSource, days, node_series

NOW = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
WEEK = days(date(2026, 3, 13), 7)  # the 7-day lookback before NOW
CFG = K8sGuardSettings()


def _idle_pool() -> list[NodeDay]:
    """nlp's p4d node: $786/day, $600 of it GPU, $570 of that (95%) unused every day; search's node is busy."""
    nodes = node_series("i-0gpuidle", WEEK, cost_usd=786.0, gpu_usd=600.0, gpu_unused_usd=570.0, team="nlp")
    nodes += node_series("i-0gpubusy", WEEK, cost_usd=786.0, gpu_usd=600.0, gpu_unused_usd=60.0, team="search")
    return nodes


def test_a_mostly_unused_gpu_node_is_a_priced_owned_finding_and_a_busy_one_is_not() -> None:
    found, problems = k8s_gpu.gpu_findings(_idle_pool(), CFG)
    assert problems == []
    assert [(f.id, f.team, f.kind, f.type) for f in found] == [("i-0gpuidle", "nlp", Kind.GPU_IDLE, "eks_gpu_node")]
    node = found[0]
    # $570/day unused = 570 / 24 per hour x 730 hours a month.
    assert node.monthly_usd == pytest.approx(570 / 24 * 730) and node.judged_hours == 168
    assert node.evidence.startswith("95% of its GPU cost ($3,990 of $4,200) reserved and used by no pod over 7 days")
    assert "cluster prod-gpu (p4d.24xlarge" in node.evidence
    assert node.arn == "arn:aws:ec2::111122223333:instance/i-0gpuidle"


def test_the_threshold_and_the_daily_floor_come_from_settings() -> None:
    strict = K8sGuardSettings(idle_gpu_unused_share=0.96)
    assert k8s_gpu.gpu_findings(_idle_pool(), strict)[0] == []
    floor = K8sGuardSettings(idle_gpu_min_usd_per_day=600.0)
    assert k8s_gpu.gpu_findings(_idle_pool(), floor)[0] == []
    loose = K8sGuardSettings(idle_gpu_unused_share=0.1)
    assert sorted(f.id for f in k8s_gpu.gpu_findings(_idle_pool(), loose)[0]) == ["i-0gpubusy", "i-0gpuidle"]


def test_a_node_without_accelerators_is_never_a_gpu_finding() -> None:
    cpu = node_series("i-0cpu", WEEK, cost_usd=50.0, gpu_usd=0.0, gpu_unused_usd=0.0, instance_type="m5.4xlarge")
    assert k8s_gpu.gpu_findings(cpu, CFG) == ([], [])


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("gpu_usd", float("nan"), "gpu_usd is nan, not an amount >= 0"),
        ("cost_usd", -5.0, "cost_usd is -5.0, not an amount >= 0"),
        ("gpu_unused_usd", float("inf"), "gpu_unused_usd is inf, not an amount >= 0"),
        ("gpu_unused_usd", 900.0, "gpu_unused_usd 900.00 exceeds gpu_usd 600.00"),
    ],
)
def test_hostile_rows_are_named_and_left_out_never_a_traceback(field: str, value: float, said: str) -> None:
    nodes = _idle_pool()
    bad = nodes[0]
    nodes[0] = NodeDay(**{**{f: getattr(bad, f) for f in bad.__slots__}, field: value})
    found, problems = k8s_gpu.gpu_findings(nodes, CFG)
    assert problems == [f"k8s node prod-gpu/i-0gpuidle on 2026-03-13: {said}; not judged"]
    assert [f.id for f in found] == ["i-0gpuidle"] and found[0].judged_hours == 6 * 24  # judged on the other days


def _unused_ports() -> Ports:
    def refuse(*_args: Any, **_kw: Any) -> Any:
        raise AssertionError("no region is scanned in this test")

    return Ports(clients=refuse, metrics=refuse, prices=refuse, describe=refuse)  # type: ignore[arg-type]


def test_the_idle_run_publishes_the_gpu_node_in_its_owners_weekly_alert() -> None:
    source = MemoryK8sSource(nodes=_idle_pool())
    store, sent = MemoryStateStore(), []
    settings = parse_settings({"cost_source": "athena", "k8s_guard": {"enabled": True}})

    def publish(event: AlertEvent) -> None:
        sent.append(event)

    run = run_idle(settings, regions=[], ports=_unused_ports(), store=store, publish_fn=publish, now=NOW, k8s=source)
    assert source.asked == [("node", date(2026, 3, 13), date(2026, 3, 20))]
    team = [e for e in sent if e.kind is AlertKind.IDLE and e.team == "nlp"]
    assert len(team) == 1 and team[0].details["findings"][0]["id"] == "i-0gpuidle"
    assert team[0].details["figures"]["Waste / month"] == "$17,338"
    assert run.summary()["waste_by_team"] == {"nlp": pytest.approx(17337.5)}


def test_a_failed_read_is_an_error_of_the_run_not_a_clean_verdict() -> None:
    class Broken(MemoryK8sSource):
        def node_days(self, start: date, end: date) -> list[NodeDay]:
            raise TimeoutError("Athena query timed out")

    settings = parse_settings({"cost_source": "athena", "k8s_guard": {"enabled": True}})
    run = run_idle(settings, regions=[], ports=_unused_ports(), now=NOW, k8s=Broken())
    assert run.findings == []
    assert run.summary()["errors"] == [
        "k8s node costs not read (2026-03-13 to 2026-03-20): TimeoutError: Athena query timed out"
    ]


def test_off_by_default_the_source_is_not_read() -> None:
    source = MemoryK8sSource(nodes=_idle_pool())
    run = run_idle(parse_settings({}), regions=[], ports=_unused_ports(), now=NOW, k8s=source)
    assert source.asked == [] and run.findings == []
