"""The demo's tag audit chapter: compliant and non-compliant resources, digests per team through to Slack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from costwarden.models.alert import AlertEvent, AlertKind

pytestmark = pytest.mark.e2e


def test_tag_chapter_publishes_a_digest_per_team(run_chapter: Callable[[str], tuple[int, Path, str]]) -> None:
    # Only the tag chapter: this test is about it (tests/e2e/test_demo.py runs the whole story).
    code, out, text = run_chapter("costwarden.demo.tags.chapter")
    assert code == 0, text
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    assert {a.kind for a in alerts} == {AlertKind.TAG_VIOLATION}
    assert sorted(a.team for a in alerts) == ["nlp", "recsys", "unowned"]
    recsys = next(a for a in alerts if a.team == "recsys")
    assert "rename tag 'Team' to 'team'" in recsys.details["items"][0]
    account = next(a for a in alerts if a.team == "unowned")
    assert account.details["figures"]["Untagged spend (7d)"] == "19.0%"
    assert account.details["figures"]["Trend"] == "up 11.0 points from 8.0%"
    assert account.details["figures"]["Cost allocation tags"] == "NOT ACTIVE"
    assert "eu-west-1" in account.details["items"][-1]
    assert "Tag audit: 5 tagged resources scanned in us-east-1, eu-west-1; 3 break the policy." in text
    received = json.loads((out / "slack.json").read_text())
    assert sorted(r["channel"] for r in received) == ["default", "team:nlp", "team:recsys"]
