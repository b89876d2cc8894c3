"""Every Slack post of the demo passes the one check (tests/support/slack_posts.py, issue 22): within Block Kit's
limits, no internal dedup key or z-score in what a person reads, no zero-value field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.slack_posts import assert_clean, problems


def test_every_demo_post_passes_the_slack_check(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    messages = [r["message"] for r in received if isinstance(r.get("message"), dict)]
    assert len(messages) == len(received) > 0
    assert_clean(messages)


def test_demo_anomaly_posts_keep_the_dedup_key_in_metadata_only(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    anomalies = [r["message"] for r in received if r["message"]["metadata"]["event_payload"]["kind"] == "cost_anomaly"]
    assert anomalies
    for message in anomalies:
        key = message["metadata"]["event_payload"]["dedup_key"]
        assert "#" in key and key not in json.dumps(message["blocks"]) and problems(message) == []
