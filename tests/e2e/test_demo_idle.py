"""The demo's idle chapter on the local moto server: findings priced per team, Slack messages, the digest line,
the grace marks (never on production) and the reaper's warnings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from costwarden.models.alert import AlertEvent, AlertKind

pytestmark = pytest.mark.e2e


def test_idle_chapter(run_chapter: Callable[[str], tuple[int, Path, str]]) -> None:
    code, out, text = run_chapter("costwarden.demo.idle.chapter")
    assert code == 0, text
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    idle = {a.team: a for a in alerts if a.kind is AlertKind.IDLE}
    assert set(idle) == {"vision", "nlp", "data", "platform"}
    assert idle["vision"].severity.value == "critical" and "$23,924/month" in idle["vision"].title
    assert any("gpu_idle" in item for item in idle["nlp"].details["items"])
    warnings = [a for a in alerts if a.kind is AlertKind.EXPIRY_WARNING]
    assert sorted(a.team for a in warnings) == ["nlp", "vision"]  # the idle p4d and the idle endpoint
    assert "environment=production: never marked" in text
    assert "The next digest carries the line: Idle: 4 resources" in text
    received = json.loads((out / "slack.json").read_text())
    assert {r["channel"] for r in received} >= {"default"}
