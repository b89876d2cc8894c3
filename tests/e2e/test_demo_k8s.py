"""The demo's EKS chapter on the local moto server: the namespace whose spend doubled alerts its team in Slack with
the cluster, namespace, workload and GPU share; the idle GPU node is the owner's idle finding."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from costwarden.models.alert import AlertEvent, AlertKind

from tests.support.k8s import context_figures

pytestmark = pytest.mark.e2e


def test_k8s_chapter(run_chapter: Callable[[str], tuple[int, Path, str]]) -> None:
    code, out, text = run_chapter("costwarden.demo.k8s.chapter")
    assert code == 0, text
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    [anomaly] = [a for a in alerts if a.kind is AlertKind.COST_ANOMALY]
    assert anomaly.team == "nlp" and anomaly.title.startswith("k8s:ml-prod/llm-training: +$")
    assert anomaly.title.endswith("(2.0x usual)")
    assert context_figures(anomaly) == ("ml-prod", "llm-training", "finetune-7b", "72%")
    assert anomaly.details["items"] == [i for i in anomaly.details["items"] if i.startswith("+$")]  # growth only
    assert "finetune-7b" in anomaly.details["items"][0]
    idle = {a.team: a for a in alerts if a.kind is AlertKind.IDLE}
    assert [f["id"] for f in idle["vision"].details["findings"]] == ["i-0b7e5d1c9a3f26e48"]
    assert "nlp" not in idle  # its pool is busy
    [digest] = [a for a in alerts if a.kind is AlertKind.DIGEST]
    assert [r["name"] for r in digest.details["kubernetes"]["namespaces"]] == [
        "llm-training",
        "vision-batch",
        "recsys-serving",
    ]
    received = json.loads((out / "slack.json").read_text())
    posted = json.dumps([r for r in received if r["channel"] != "default"])
    assert "llm-training" in posted and "finetune-7b" in posted
    # (2 x 10% + 93%) of 28 days x $108.90 of GPU per node and day
    assert "unused GPU, pool g5.12xlarge (vision): $3,446 in 2026-11" in text
    assert digest.details["kubernetes"]["month"] == "2026-11" and digest.details["digest"]["date"] == "2026-11-28"
