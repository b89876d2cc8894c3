"""Rendering the digest for Slack: a dashboard that stays within Block Kit's limits with hundreds of teams."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from costwarden.digest.compose import compose_digest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.digest import DigestInput, TeamRow
from costwarden.notifier.digest_blocks import MAX_TEAM_ROWS, digest_blocks, display_width

from tests.support.alerts import alert_event

MakeFleet = Callable[..., DigestInput]

# Slack's limits (shared/reference/REFERENCE_FACTS.md).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3_000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_TOP_LEVEL_TEXT = 4_000
SLACK_TRUNCATES_AT = 40_000


def assert_within_slack_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks"
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= MAX_HEADER_TEXT
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT, block["text"]["text"][:200]
            if "fields" in block:
                assert 0 < len(block["fields"]) <= MAX_FIELDS
                assert all(0 < len(f["text"]) <= MAX_FIELD_TEXT for f in block["fields"])
        elif kind == "context":
            assert 0 < len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
            assert all(0 < len(e["text"]) <= MAX_FIELD_TEXT for e in block["elements"])
        else:
            assert kind == "divider", kind
    assert len(json.dumps(blocks, ensure_ascii=False)) < SLACK_TRUNCATES_AT


def texts(blocks: list[dict[str, Any]]) -> str:
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(f["text"] for f in block.get("fields", []))
        out.extend(e["text"] for e in block.get("elements", []))
    return "\n".join(out)


def team_table_sections(blocks: list[dict[str, Any]]) -> list[str]:
    """Texts of the sections holding the team table: the titled one and its continuations."""
    sections: list[str] = []
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        if "by month-to-date spend" in text or (sections and text.startswith("```\n")):
            sections.append(text)
        elif sections:
            break
    return sections


def team_table_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """Rows of the team table (all its sections), without the column header row."""
    lines: list[str] = []
    for text in team_table_sections(blocks):
        body = text.split("```\n", 1)[1].split("\n```", 1)[0]
        lines.extend(line for line in body.split("\n") if "MTD" not in line)
    return lines


@pytest.mark.parametrize("name_length", [0, 256], ids=["short-names", "256-char-names"])
@pytest.mark.parametrize("top_n", [15, 40])
def test_300_teams_render_within_slack_limits(make_fleet: MakeFleet, name_length: int, top_n: int) -> None:
    inp = make_fleet(300, name_length=name_length, anomalies=300, expiring=300, reaper=600)
    event = compose_digest(inp, top_n=top_n)
    blocks = digest_blocks(event)
    assert_within_slack_limits(blocks)
    assert len(event.title) + len(event.summary) < MAX_TOP_LEVEL_TEXT
    text = texts(blocks)
    assert f"Top {top_n} of 300 teams" in text
    assert f"…and {300 - top_n} more teams" in text
    assert len(team_table_lines(blocks)) == top_n
    assert "Open anomalies (300)" in text
    assert "…and 292 more" in text
    assert "Expiring in the next 72 h (300)" in text


def test_team_table_is_ranked_aligned_and_flags_status(make_fleet: MakeFleet) -> None:
    blocks = digest_blocks(compose_digest(make_fleet(12), top_n=8))
    lines = team_table_lines(blocks)
    assert len(lines) == 8
    # Right-aligned numeric columns: every row ends at the same display column, emoji counted two cells wide.
    assert len({display_width(line) for line in lines}) == 1
    assert {line[0] for line in lines} <= {"🔴", "🟠", "🟢", "⚪"}
    assert "🔴" in {line[0] for line in lines}


def test_a_top_n_beyond_one_section_is_split_not_cut(make_fleet: MakeFleet) -> None:
    """A producer asking for more rows than one section holds gets several sections, never an over-long one."""
    event = compose_digest(make_fleet(1_000, name_length=256), top_n=1_000)
    blocks = digest_blocks(event)
    assert_within_slack_limits(blocks)
    assert len(team_table_lines(blocks)) == MAX_TEAM_ROWS
    assert len(team_table_sections(blocks)) > 1


def test_dashboard_parts_in_order(make_fleet: MakeFleet) -> None:
    blocks = digest_blocks(compose_digest(make_fleet(20, anomalies=3, expiring=2, reaper=8), top_n=5))
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "📊 Daily cost digest — 2026-11-26"
    assert blocks[1]["type"] == "section"
    labels = [f["text"].split("\n")[0] for f in blocks[1]["fields"]]
    assert labels[:3] == ["*Month to date*", "*Projected month end*", "*Budgets*"]
    assert blocks[-1]["type"] == "context"
    text = texts(blocks)
    order = [
        "by month-to-date spend",
        "Biggest movers",
        "Open anomalies (3)",
        "Reaper, last 24 h",
        "Expiring in the next",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Cost Explorer still estimates 2026-11-25, 2026-11-26" in text
    assert "tag audit last ran 3 days ago" in text
    # ARNs are shown by their readable tail; long service names by the name people use.
    assert "i-00000000000000002" in text
    assert "arn:aws:ec2" not in text
    assert "EC2" in text


def _on_track(team: str, *, yesterday_usd: float, change_ratio: float) -> TeamRow:
    """A team 100 USD into its month, heading for 120 (110-130), against a baseline of 4 USD a day."""
    month = {
        "month_to_date_usd": 100,
        "projected_month_end_usd": 120,
        "forecast_low_usd": 110,
        "forecast_high_usd": 130,
    }
    return TeamRow(team=team, yesterday_usd=yesterday_usd, baseline_usd=4, change_ratio=change_ratio, **month)


def test_quiet_day_says_so() -> None:
    row = _on_track("vision", yesterday_usd=4, change_ratio=1.0)
    blocks = digest_blocks(compose_digest(DigestInput(date=date(2026, 11, 26), teams=(row,)), top_n=5))
    assert_within_slack_limits(blocks)
    text = texts(blocks)
    assert "None: every team is within its baseline" in text
    assert "Biggest movers" not in text
    assert "more teams" not in text


def test_mrkdwn_control_characters_are_escaped() -> None:
    row = _on_track("r&d <ml>", yesterday_usd=400, change_ratio=100.0)
    text = texts(digest_blocks(compose_digest(DigestInput(date=date(2026, 11, 26), teams=(row,)), top_n=5)))
    assert "r&amp;d &lt;ml&gt;" in text
    assert "<ml>" not in text


#: A digest from an older or foreign producer: the generic alert fields only, ``summary`` and ``details`` its own.
_foreign_digest = partial(
    alert_event,
    kind=AlertKind.DIGEST,
    severity=Severity.INFO,
    team="all",
    title="Daily cost digest — 2026-11-26",
    dedup_key="digest#2026-11-26",
)


def test_event_without_digest_details_still_renders() -> None:
    """An older or foreign producer: only the generic conventions; the renderer must not fail."""
    event = _foreign_digest(summary="Nothing to report.", details={}, occurred_at=datetime(2026, 11, 26, 9, tzinfo=UTC))
    blocks = digest_blocks(event)
    assert_within_slack_limits(blocks)
    assert [b["type"] for b in blocks] == ["header", "section", "divider", "section", "context"]
    assert "Nothing to report." in texts(blocks)


def test_renders_from_the_json_a_subscriber_receives(make_fleet: MakeFleet) -> None:
    event = compose_digest(make_fleet(50, anomalies=5, expiring=5, reaper=5), top_n=10)
    assert digest_blocks(AlertEvent.from_json(event.to_json())) == digest_blocks(event)


def test_the_notifier_sends_it_unchanged(make_fleet: MakeFleet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Registered as the notifier's DIGEST renderer, nothing needs cutting by the notifier's own limit enforcement."""
    from costwarden.notifier import blocks as notifier_blocks

    monkeypatch.setitem(notifier_blocks.RENDERERS, AlertKind.DIGEST, digest_blocks)
    event = compose_digest(make_fleet(300, name_length=256, anomalies=300, expiring=300, reaper=600), top_n=40)
    message = notifier_blocks.render_message(event)
    assert message["blocks"] == digest_blocks(event)
    assert notifier_blocks.fit_blocks(message["blocks"]) == message["blocks"]
    assert 0 < len(message["text"]) <= MAX_TOP_LEVEL_TEXT


def test_partial_team_rows_from_an_older_producer_still_render() -> None:
    """Columns are looked up by name: a producer with fewer or reordered columns renders what it has."""
    event = _foreign_digest(
        summary="Two teams.",
        details={
            "digest": {"top_n": 1},
            "team_columns": ["status", "team", "mtd_usd", "budget_usd"],
            "teams": [["AT_RISK", "vision", 1200.0, 1000.0], ["ON_TRACK", "nlp", 10.0, None]],
            "teams_total": 2,
        },
    )
    blocks = digest_blocks(event)
    assert_within_slack_limits(blocks)
    text = texts(blocks)
    assert "🟠  vision  $1,200" in text
    assert "…and 1 more team ($10 month to date)" in text


@pytest.mark.parametrize(
    ("arn", "short"),
    [
        ("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "i-0abc"),
        ("arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/vision-explore", "vision-explore"),
        ("arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/j-ABC", "j-ABC"),
        ("arn:aws:eks:us-east-1:123456789012:nodegroup/ml/gpu-a100-sweep/0ec5b2a6-1d2e", "ml/gpu-a100-sweep"),
        ("us-east-1/ec2", "us-east-1/ec2"),
    ],
)
def test_short_resource_names_what_a_person_would(arn: str, short: str) -> None:
    from costwarden.notifier.digest_blocks import _short_resource

    assert _short_resource(arn) == short
