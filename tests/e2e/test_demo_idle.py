"""The demo's idle chapter on the local moto server: findings priced per team, Slack messages, the digest line,
the grace marks (never on production) and the reaper's warnings."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from costwarden.demo.runner import CHAPTERS, run_demo
from costwarden.models.alert import AlertEvent, AlertKind

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _fresh_moto_state() -> Iterator[None]:
    """A second demo in one process would find the first one's table (see test_demo_tags.py)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    yield
    moto_api_backend.reset()


def test_idle_chapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "costwarden.demo.runner.CHAPTERS", [c for c in CHAPTERS if c[1] == "costwarden.demo.idle.chapter"]
    )
    printed = io.StringIO()
    assert run_demo(tmp_path, stream=printed) == 0, printed.getvalue()
    text = printed.getvalue()
    alerts = [AlertEvent.model_validate(a) for a in json.loads((tmp_path / "alerts.json").read_text())]
    idle = {a.team: a for a in alerts if a.kind is AlertKind.IDLE}
    assert set(idle) == {"vision", "nlp", "data", "platform"}
    assert idle["vision"].severity.value == "critical" and "$23,924/month" in idle["vision"].title
    assert any("gpu_idle" in item for item in idle["nlp"].details["items"])
    warnings = [a for a in alerts if a.kind is AlertKind.EXPIRY_WARNING]
    assert sorted(a.team for a in warnings) == ["nlp", "vision"]  # the idle p4d and the idle endpoint
    assert "environment=production: never marked" in text
    assert "The next digest carries the line: Idle: 4 resources" in text
    received = json.loads((tmp_path / "slack.json").read_text())
    assert {r["channel"] for r in received} >= {"default"}
