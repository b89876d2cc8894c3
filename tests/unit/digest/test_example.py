"""The sample digest (events/notifier/sns_daily_digest.json, docs/digest.md) is what the code composes today."""

from __future__ import annotations

import json
from pathlib import Path

from costwarden.demo.example_digest import example_input
from costwarden.digest.compose import compose_digest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.digest_blocks import digest_blocks

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "events" / "notifier" / "sns_daily_digest.json"


def test_sample_event_matches_the_composer() -> None:
    record = json.loads(SAMPLE.read_text(encoding="utf-8"))["Records"][0]["Sns"]
    sent = AlertEvent.from_json(record["Message"])
    assert sent == compose_digest(example_input(), top_n=15), (
        "events/notifier/sns_daily_digest.json is stale: regenerate it with "
        "`.venv/bin/python -m costwarden.demo.example_digest > events/notifier/sns_daily_digest.json`"
    )
    assert record["MessageAttributes"]["kind"]["Value"] == "digest"
    assert record["Subject"] == "[WARNING] Daily cost digest - 2026-11-26"


def test_example_day_reads_as_intended() -> None:
    event = compose_digest(example_input(), top_n=15)
    assert event.kind is AlertKind.DIGEST
    assert event.severity is Severity.WARNING  # teams over budget, a critical anomaly, a failed reaper action
    assert event.details["budget_counts"] == {"OVER_BUDGET": 3, "AT_RISK": 1, "ON_TRACK": 5, "NO_BUDGET": 3}
    assert [m["team"] for m in event.details["movers"]][:2] == ["llm-pretrain", "nlp"]
    text = "\n".join(b.get("text", {}).get("text", "") for b in digest_blocks(event))
    assert "nlp           11-25*   2.6x  +$2,590  SageMaker" in text
    assert "in 15 h      speech   i-0a1b2c3d4e5f60718" in text


def test_sample_event_file_is_exactly_the_generator_output() -> None:
    from costwarden.demo.example_digest import sample_sns_record

    assert json.loads(SAMPLE.read_text(encoding="utf-8")) == sample_sns_record()
