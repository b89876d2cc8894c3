"""A namespace whose spend doubles alerts like a team does: the daily run on moto (state table, alert topic, Cost
Explorer stand-in) with EKS split cost facts through the ``K8sSource`` port (an in-memory source)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
from costwarden.adapters import sns
from costwarden.core import episodes
from costwarden.core.keys import CostKey
from costwarden.cost.monitor import run
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.blocks import default_blocks
from costwarden.settings import Settings, parse_settings

from tests.support.k8s import MemoryK8sSource, context_figures, group_series

from .conftest import World

START = date(2026, 2, 1)
TODAY = date(2026, 3, 20)  # judged: up to 2026-03-19
DAYS = (TODAY - START).days
GUARD = {"cost_source": "athena", "k8s_guard": {"enabled": True}}


def _noisy(level: float, count: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [level * float(rng.normal(1, 0.04)) for _ in range(count)]


def _account(world: World) -> MemoryK8sSource:
    """Two teams on Cost Explorer; on EKS, nlp's ml-training (60% GPU) and search's serving namespace."""
    world.fake.add_series("nlp", START, _noisy(3000.0, DAYS, 1))
    world.fake.add_series("search", START, _noisy(900.0, DAYS, 2))
    training = [*_noisy(500.0, DAYS - 1, 3), 1050.0]  # the last day doubles (and a bit)
    source = MemoryK8sSource()
    source.groups += group_series("ml-training", training, start=START, team="nlp", gpu_share=0.6)
    source.groups += group_series("serving", _noisy(300.0, DAYS, 4), start=START, team="search", gpu_share=0.0)
    trainer = [*_noisy(400.0, DAYS - 1, 5), 880.0]  # the workload behind the jump
    source.groups += group_series("ml-training/trainer", trainer, start=START, team="nlp", by="workload")
    source.groups += group_series("ml-training/notebook", _noisy(100.0, DAYS, 6), start=START, by="workload")
    return source


def _run(world: World, source: MemoryK8sSource, settings: Settings, today: date = TODAY) -> dict[str, object]:
    def publish(event: AlertEvent) -> str:
        return sns.publish(event, world.topic_arn)

    result = run(settings, ce=world.explorer(), store=world.store, publish=publish, today=today, k8s=source)
    return result.summary


def test_a_namespace_whose_spend_doubles_alerts_its_team_once_naming_cluster_namespace_workload_and_gpu(
    world: World,
) -> None:
    source = _account(world)
    settings = parse_settings(GUARD)
    summary = _run(world, source, settings)
    published = world.published(digests=True)
    anomalies = [e for e in published if e.kind is AlertKind.COST_ANOMALY]
    assert [(e.team, e.severity) for e in anomalies] == [("nlp", Severity.CRITICAL)]
    # The day's digest has its Kubernetes section, from the same run's facts.
    [digest] = [e for e in published if e.kind is AlertKind.DIGEST]
    k8s = digest.details["kubernetes"]
    assert [(r["name"], r["team"]) for r in k8s["namespaces"]] == [("ml-training", "nlp"), ("serving", "search")]
    assert [r["name"] for r in k8s["workloads"]] == ["ml-training/trainer", "ml-training/notebook"]
    alert = anomalies[0]
    key = CostKey.parse(alert.dedup_key)
    assert (key.series, key.day) == ("k8s:prod-gpu/ml-training|", "2026-03-19")
    figures = alert.details["figures"]
    assert context_figures(alert) == ("prod-gpu", "ml-training", "trainer", "60%")
    assert figures["Ratio"].startswith("2.1") and alert.title.startswith("k8s:prod-gpu/ml-training: +$")
    assert alert.title.endswith("(2.1x usual)")
    assert alert.details["k8s"] == {
        "series": "k8s:prod-gpu/ml-training",
        "cluster": "prod-gpu",
        "namespace": "ml-training",
        "workload": "trainer",
        "gpu_share": 0.6,
    }
    assert alert.details["items"][0].startswith("+$4") and "in workload trainer (GPU 50%)" in alert.details["items"][0]
    # The team's own (tag) spend did not move: no team alert, and the namespace frame never joined the team frame.
    assert summary["teams"] == 2 and summary["k8s"]["series"] == 2  # type: ignore[index]
    # Slack shows the context among the alert's fields.
    rendered = json.dumps(default_blocks(alert))
    assert "*Cluster*" in rendered and "ml-training" in rendered and "*GPU share*" in rendered
    # The episode is one record beside the teams' (one ledger of episodes) ...
    stored = world.store.get(episodes.DEDUP_PK, "k8s:prod-gpu/ml-training|")
    assert stored is not None and stored["severity"] == "critical" and stored["start"] == "2026-03-19"
    # ... so the next day's run, still high, says nothing more (an open episode), like a team's.
    source.groups += group_series("ml-training", [1010.0], start=TODAY, team="nlp", gpu_share=0.6)
    _run(world, source, settings, TODAY + timedelta(days=1))
    assert [e for e in world.published() if e.kind is AlertKind.COST_ANOMALY] == []


def test_the_guard_is_off_by_default_and_reads_nothing(world: World) -> None:
    source = _account(world)
    summary = _run(world, source, Settings())
    assert source.requests == 0 and "k8s" not in summary
    assert [e for e in world.published() if e.kind is AlertKind.COST_ANOMALY] == []


def test_a_tag_value_spelling_a_kubernetes_series_is_a_collision_not_one_shared_episode(world: World) -> None:
    source = _account(world)
    world.fake.add_series("k8s:prod-gpu/ml-training", START, _noisy(50.0, DAYS, 7))
    summary = _run(world, source, parse_settings(GUARD))
    assert summary["k8s"]["collisions"] == ["k8s:prod-gpu/ml-training"]  # type: ignore[index]
    assert [e for e in world.published() if e.kind is AlertKind.COST_ANOMALY] == []


def test_a_namespace_budget_alerts_the_namespace_team_when_at_risk(world: World) -> None:
    source = _account(world)
    # serving spends ~300/day: ~5.7k by the 19th, ~9.3k projected for March; a 10k budget is ~93%: at risk.
    settings = parse_settings(
        {"cost_source": "athena", "k8s_guard": {"enabled": True, "monthly_usd": {"prod-gpu/serving": 10_000}}}
    )
    summary = _run(world, source, settings)
    budgets = [e for e in world.published() if e.kind is AlertKind.BUDGET]
    assert [(e.team, e.severity, e.details["figures"]["Status"]) for e in budgets] == [
        ("search", Severity.WARNING, "AT_RISK")
    ]
    assert summary["k8s"]["budgets"][0]["team"] == "k8s:prod-gpu/serving"  # type: ignore[index]
    _run(world, source, settings, TODAY + timedelta(days=1))
    assert [e for e in world.published() if e.kind is AlertKind.BUDGET] == []
