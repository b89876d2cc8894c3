"""AlertEvent -> Block Kit: layout, escaping, and Slack's limits enforced by truncation."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier import blocks
from costwarden.notifier.blocks import (
    MAX_BLOCKS,
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    MAX_HEADER_CHARS,
    MAX_SECTION_CHARS,
    MAX_TEXT_CHARS,
    RENDERER_PATHS,
    RENDERERS,
    Block,
    fit_blocks,
    render_message,
)

from tests.support.alerts import alert_event

#: A critical anomaly for ``nlp`` with two items, at a fixed time (the context line shows it).
_event = partial(
    alert_event,
    severity=Severity.CRITICAL,
    team="nlp",
    title="nlp: spend 2.6x its baseline",
    summary="nlp spent 4,210 USD yesterday.",
    details={
        "figures": {"Spend": "4,210 USD", "Baseline": "1,620 USD"},
        "items": ["Amazon SageMaker +2,310 USD", "Amazon EC2 +240 USD"],
    },
    dedup_key="cost_anomaly#nlp#2026-11-25",
    occurred_at=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
)


def test_default_layout_header_summary_fields_items_context() -> None:
    message = render_message(_event())
    kinds = [block["type"] for block in message["blocks"]]

    assert kinds == ["header", "section", "section", "section", "context"]
    header, summary, figures, items, context = message["blocks"]
    assert header["text"] == {
        "type": "plain_text",
        "text": ":rotating_light: nlp: spend 2.6x its baseline",
        "emoji": True,
    }
    assert summary["text"]["text"] == "nlp spent 4,210 USD yesterday."
    assert [f["text"] for f in figures["fields"]] == ["*Spend*\n4,210 USD", "*Baseline*\n1,620 USD"]
    assert items["text"]["text"] == "• Amazon SageMaker +2,310 USD\n• Amazon EC2 +240 USD"
    context_text = " ".join(e["text"] for e in context["elements"])
    assert "CRITICAL" in context_text
    assert "team *nlp*" in context_text
    assert "2026-11-26 08:00 UTC" in context_text
    assert "cost_anomaly#nlp#2026-11-25" not in context_text  # internal: in the message metadata, never shown
    assert message["metadata"]["event_payload"]["dedup_key"] == "cost_anomaly#nlp#2026-11-25"
    assert message["text"].startswith(":rotating_light: [CRITICAL] nlp: spend 2.6x its baseline (nlp)")


@pytest.mark.parametrize(
    ("severity", "emoji"),
    [(Severity.INFO, ":information_source:"), (Severity.WARNING, ":warning:"), (Severity.CRITICAL, ":rotating_light:")],
)
def test_header_carries_the_severity(severity: Severity, emoji: str) -> None:
    header = render_message(_event(severity=severity))["blocks"][0]
    assert header["text"]["text"].startswith(emoji)


def test_event_text_is_escaped_so_it_cannot_ping_or_link() -> None:
    message = render_message(_event(summary="cost <!channel> & <https://evil.example|click>", details={}))
    summary = message["blocks"][1]["text"]["text"]
    assert summary == "cost &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert "<!channel>" not in message["text"]


def test_no_figures_or_items_means_no_empty_sections() -> None:
    message = render_message(_event(details={}, summary=""))
    assert [b["type"] for b in message["blocks"]] == ["header", "context"]


def test_long_header_is_cut_to_150_characters_with_an_ellipsis() -> None:
    header = render_message(_event(title="A" * 400))["blocks"][0]["text"]["text"]
    assert len(header) == MAX_HEADER_CHARS
    assert header.endswith("…")


def test_long_summary_and_fallback_text_are_cut() -> None:
    message = render_message(_event(summary="word " * 2_000))
    assert len(message["blocks"][1]["text"]["text"]) <= MAX_SECTION_CHARS
    assert len(message["text"]) <= MAX_TEXT_CHARS


def test_more_than_ten_figures_are_split_across_sections() -> None:
    figures = {f"Figure {n}": f"{n} USD" for n in range(1, 24)}  # none zero: a zero figure is not shown
    sections = [b for b in render_message(_event(details={"figures": figures}))["blocks"] if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]
    assert sections[2]["fields"][-1]["text"] == "*Figure 23*\n23 USD"


def test_long_figure_value_is_cut_to_the_field_limit() -> None:
    section = render_message(_event(details={"figures": {"Huge": "9" * 5_000}}))["blocks"][2]
    assert len(section["fields"][0]["text"]) == MAX_FIELD_CHARS


def test_long_item_list_is_capped_and_says_how_many_more() -> None:
    items = [f"resource-{n}" for n in range(500)]
    sections = render_message(_event(details={"items": items}))["blocks"][2:-1]
    text = "\n".join(s["text"]["text"] for s in sections)
    assert "• resource-0" in text
    assert "• resource-59" in text
    assert "resource-60" not in text
    assert "and 440 more" in text
    assert all(len(s["text"]["text"]) <= MAX_SECTION_CHARS for s in sections)


def test_items_that_are_not_a_list_are_ignored() -> None:
    message = render_message(_event(details={"items": "not a list"}))
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "context"]


def test_fit_blocks_keeps_50_with_a_note_and_the_context_last() -> None:
    many: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {n}"}} for n in range(80)]
    context: Block = {"type": "context", "elements": [{"type": "mrkdwn", "text": "dedup"}]}

    fitted = fit_blocks([*many, context])

    assert len(fitted) == MAX_BLOCKS
    assert fitted[-1] == context
    assert fitted[-2]["type"] == "context"
    assert "and 32 more blocks" in fitted[-2]["elements"][0]["text"]
    assert fitted[47]["text"]["text"] == "line 47"


def test_fit_blocks_enforces_per_block_limits_on_any_renderer_output() -> None:
    raw: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "H" * 300}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "S" * 4_000}, "block_id": "b" * 300},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "F" * 3_000}] * 12},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 14},
        {"type": "divider"},
    ]
    header, section, fields, context, divider = fit_blocks(raw)
    assert len(header["text"]["text"]) == MAX_HEADER_CHARS
    assert len(section["text"]["text"]) == MAX_SECTION_CHARS
    assert len(section["block_id"]) == 255
    assert len(fields["fields"]) == MAX_FIELDS
    assert all(len(f["text"]) == MAX_FIELD_CHARS for f in fields["fields"])
    assert len(context["elements"]) == 10
    assert divider == {"type": "divider"}


def test_a_kind_can_register_its_own_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    def digest(event: AlertEvent) -> list[Block]:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": f"digest for {event.team}"}}]

    monkeypatch.setitem(RENDERERS, AlertKind.DIGEST, digest)

    assert render_message(_event(kind=AlertKind.DIGEST))["blocks"] == digest(_event())
    assert render_message(_event())["blocks"][0]["type"] == "header"  # other kinds keep the default


def test_a_kind_can_register_a_renderer_by_dotted_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RENDERER_PATHS, AlertKind.REAPED, "costwarden.notifier.blocks.context_block_only")
    monkeypatch.setattr(blocks, "context_block_only", lambda event: [blocks.context_block(event)], raising=False)
    monkeypatch.delitem(RENDERERS, AlertKind.REAPED, raising=False)

    message = render_message(_event(kind=AlertKind.REAPED))

    assert [b["type"] for b in message["blocks"]] == ["context"]
    RENDERERS.pop(AlertKind.REAPED, None)  # loaded and cached by the call above


def test_truncation_note_from_publish_is_shown() -> None:
    event = _event(details={"truncated": "message exceeded the SNS size limit; shortened: items (kept 10 of 900)"})
    context = render_message(event)["blocks"][-1]
    assert "kept 10 of 900" in context["elements"][-1]["text"]
