"""The demo's tag audit chapter: compliant and non-compliant resources, digests per team through to Slack."""

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
    """ThreadedMotoServer keeps moto's process-wide backends: a second demo in one process would find the first
    one's table. Reset before and after, so this test and tests/e2e/test_demo.py run in either order."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    yield
    moto_api_backend.reset()


def test_tag_chapter_publishes_a_digest_per_team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the tag chapter: this test is about it (tests/e2e/test_demo.py runs the whole story).
    monkeypatch.setattr(
        "costwarden.demo.runner.CHAPTERS", [c for c in CHAPTERS if c[1] == "costwarden.demo.tags.chapter"]
    )
    printed = io.StringIO()
    assert run_demo(tmp_path, stream=printed) == 0, printed.getvalue()
    text = printed.getvalue()
    alerts = [AlertEvent.model_validate(a) for a in json.loads((tmp_path / "alerts.json").read_text())]
    assert {a.kind for a in alerts} == {AlertKind.TAG_VIOLATION}
    assert sorted(a.team for a in alerts) == ["nlp", "no team", "recsys"]
    recsys = next(a for a in alerts if a.team == "recsys")
    assert "rename tag 'Team' to 'team'" in recsys.details["items"][0]
    account = next(a for a in alerts if a.team == "no team")
    assert account.details["figures"]["Untagged spend (7d)"] == "19.0%"
    assert account.details["figures"]["Trend"] == "up 11.0 points from 8.0%"
    assert account.details["figures"]["Cost allocation tags"] == "NOT ACTIVE"
    assert "eu-west-1" in account.details["items"][-1]
    assert "Tag audit: 5 tagged resources scanned in us-east-1, eu-west-1; 3 break the policy." in text
    received = json.loads((tmp_path / "slack.json").read_text())
    assert sorted(r["channel"] for r in received) == ["default", "team:nlp", "team:recsys"]
