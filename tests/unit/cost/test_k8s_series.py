"""Kubernetes series: names that cannot collide with a team's, hostile rows named and left out, the workload behind
a namespace's jump, and episodes advanced over the Kubernetes series only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.core import episodes
from costwarden.cost import k8s_series
from costwarden.settings import K8sGuardSettings, parse_settings

from tests.support.k8s import MemoryK8sSource, group_series

START = date(2026, 3, 1)


def test_series_names_carry_the_prefix_and_a_workload_is_named_inside_its_namespace() -> None:
    [ns] = group_series("ml-training", [1.0], start=START)
    [wl] = group_series("ml-training/trainer", [1.0], start=START, by="workload")
    assert k8s_series.facts_of(ns) == k8s_series.SeriesFacts(
        "k8s:prod-gpu/ml-training", "prod-gpu", "ml-training", None, "nlp"
    )
    assert k8s_series.facts_of(wl).series == "k8s:prod-gpu/ml-training/trainer"
    assert (k8s_series.facts_of(wl).namespace, k8s_series.facts_of(wl).workload) == ("ml-training", "trainer")
    assert k8s_series.is_k8s_series("k8s:prod-gpu/ml-training|") and not k8s_series.is_k8s_series("nlp|")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"key": "ml|training"}, "key 'ml|training' is not a name"),
        ({"cluster": ""}, "cluster '' is not a name"),
        ({"team": "nlp\n"}, "team 'nlp\\n' is not a name"),
        ({"cost_usd": float("nan")}, "cost_usd is nan, not a finite amount"),
        ({"gpu_usd": float("-inf")}, "gpu_usd is -inf, not a finite amount"),
    ],
)
def test_hostile_groups_are_named_and_left_out(change: dict[str, object], said: str) -> None:
    good = group_series("serving", [10.0, 11.0], start=START)
    bad = replace(good[0], **change)  # type: ignore[arg-type]
    kept, skipped = k8s_series.usable([bad, good[1]])
    assert kept == [good[1]] and len(skipped) == 1
    assert skipped[0].startswith(f"k8s group {bad.cluster!r}/{bad.key!r} on 2026-03-01: {said}")


def test_a_run_over_hostile_rows_reports_them_and_judges_the_rest() -> None:
    rows = group_series("serving", [100.0] * 30, start=START)
    rows[3] = replace(rows[3], key="a|b")
    source = MemoryK8sSource(groups=rows)
    run = k8s_series.run_k8s(
        parse_settings({"cost_source": "athena", "k8s_guard": {"enabled": True}}),
        source,
        MemoryStateStore(),
        start=START,
        today=date(2026, 3, 31),
    )
    assert run.summary()["series"] == 1 and len(run.summary()["skipped"]) == 1 and run.events == []


def test_clusters_and_namespace_patterns_select_the_guarded_series() -> None:
    rows = group_series("ml-training", [1.0], start=START) + group_series("web", [1.0], start=START)
    rows += group_series("ml-eval", [1.0], start=START, cluster="dev")
    cfg = K8sGuardSettings(clusters=("prod-gpu",), namespaces=("ml-*",))
    assert [g.key for g in k8s_series.guarded(rows, cfg)] == ["ml-training"]


def test_the_workload_behind_a_jump_is_the_one_that_grew_not_the_largest() -> None:
    facts = k8s_series.SeriesFacts("k8s:prod-gpu/ml", "prod-gpu", "ml", None, "nlp")
    big = group_series("ml/serve", [900.0, 900.0, 910.0], start=START, by="workload")
    jump = group_series("ml/finetune", [50.0, 50.0, 400.0], start=START, by="workload")
    other = group_series("web/finetune", [0.0, 0.0, 999.0], start=START, by="workload")
    grown = k8s_series.workload_growth(big + jump + other, facts, "2026-03-03")
    assert [(name, round(g, 2)) for name, g, _ in grown] == [("finetune", 350.0), ("serve", 10.0)]
    fell = group_series("ml/serve", [900.0, 900.0, 700.0], start=START, by="workload")
    assert [name for name, g, _ in k8s_series.workload_growth(fell + jump, facts, "2026-03-03")] == [
        "finetune",
        "serve",
    ]


def test_the_kubernetes_run_never_touches_a_tag_series_episode() -> None:
    store = MemoryStateStore()
    estimated = {"severity": "critical", "start": "2026-03-29", "last": "2026-03-29", "alert_date": "2026-03-29"}
    store.put(episodes.DEDUP_PK, "nlp|", {**estimated, "alert_estimated": True, "retracted": False})
    source = MemoryK8sSource(groups=group_series("serving", [100.0] * 30, start=START))
    run = k8s_series.run_k8s(
        parse_settings({"cost_source": "athena", "k8s_guard": {"enabled": True}}),
        source,
        store,
        start=START,
        today=date(2026, 3, 31),
    )
    assert run.events == []
    assert store.get(episodes.DEDUP_PK, "nlp|")["alert_estimated"] is True  # type: ignore[index]
