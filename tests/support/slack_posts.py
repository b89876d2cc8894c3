"""The one check over every Slack post the demo and the tests make (issue 22).

A post passes when it is within Block Kit's limits (shared/reference/REFERENCE_FACTS.md: 50 blocks, header 150,
section text 3,000, 10 fields of 2,000, context 10 elements, block_id 255, top-level text 4,000; buttons: 75
characters of label, 2,000 of value, 3,000 of URL, 25 elements to an actions block) and its visible text (what a
person reads: the notification text, headers, sections, fields, context lines, button labels; not metadata, button
values or URLs) holds no internal dedup key (``cost#vision|#2026-11-19#critical``), no z-score and no field whose
value is zero (``notifier.blocks.zero_value``: ``$0``, ``0``).

``problems(message)`` is the check; ``every_slack_post_checked`` (imported by ``tests/conftest.py``, autouse)
applies it to every post the Slack stand-in records during a test, so a new test is checked without opting in. A
test that posts a malformed message on purpose (to see Slack's, or the stand-in's, refusal) asks for the
``slack_unchecked`` fixture. The demo's posts are checked by ``tests/e2e/test_slack_posts.py`` from its
``slack.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION_TEXT = 3_000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2_000
MAX_BLOCK_ID = 255
MAX_TEXT = 4_000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_BUTTON_URL = 3_000
MAX_ACTION_ELEMENTS = 25

#: A dedup key as ``core.keys`` writes them: a kind word, ``#``, more (``cost#vision|#...``, ``digest#2026-11-26``).
#: A channel name (`` #ml-vision``) has no word before its ``#``; a URL's fragment is inside ``<url|label>``, read
#: out before the check.
DEDUP_KEY = re.compile(r"(?<![\w/.-])[a-z][a-z_-]*#[\w|#:./-]+")
ZSCORE = re.compile(r"z[- ]?score", re.IGNORECASE)
LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")


def _shown(text: str) -> str:
    """Text as Slack shows it: ``<url|label>`` reads as its label."""
    return LINK.sub(lambda m: m.group(2), text)


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _visible(message: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) of everything a person reads in ``message``."""
    yield "text", str(message.get("text") or "")
    for n, block in enumerate(message.get("blocks") or []):
        kind = block.get("type")
        yield f"block {n} ({kind})", _text_of(block.get("text"))
        for m, field in enumerate(block.get("fields") or []):
            yield f"block {n} field {m}", _text_of(field)
        for m, element in enumerate(block.get("elements") or []):
            yield f"block {n} element {m}", _text_of(element) if kind == "context" else _text_of(element.get("text"))


def _limits(message: Mapping[str, Any]) -> Iterator[str]:
    blocks = message.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        yield f"{len(blocks)} blocks (at most {MAX_BLOCKS})"
    if len(str(message.get("text") or "")) > MAX_TEXT:
        yield f"text of {len(message['text'])} characters (at most {MAX_TEXT})"
    for n, block in enumerate(blocks):
        kind, text = block.get("type"), _text_of(block.get("text"))
        if kind == "header" and len(text) > MAX_HEADER:
            yield f"block {n}: header of {len(text)} characters (at most {MAX_HEADER})"
        if kind == "section" and len(text) > MAX_SECTION_TEXT:
            yield f"block {n}: section text of {len(text)} characters (at most {MAX_SECTION_TEXT})"
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS or any(len(_text_of(f)) > MAX_FIELD_TEXT for f in fields):
            yield f"block {n}: {len(fields)} fields (at most {MAX_FIELDS} of {MAX_FIELD_TEXT} characters)"
        if len(str(block.get("block_id") or "")) > MAX_BLOCK_ID:
            yield f"block {n}: block_id over {MAX_BLOCK_ID} characters"
        elements = block.get("elements") or []
        if kind == "context" and (
            len(elements) > MAX_CONTEXT_ELEMENTS or any(len(_text_of(e)) > MAX_CONTEXT_TEXT for e in elements)
        ):
            yield f"block {n}: context of {len(elements)} elements (at most {MAX_CONTEXT_ELEMENTS})"
        if kind == "actions":
            if len(elements) > MAX_ACTION_ELEMENTS:
                yield f"block {n}: {len(elements)} actions (at most {MAX_ACTION_ELEMENTS})"
            for m, element in enumerate(elements):
                if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
                    yield f"block {n} button {m}: label over {MAX_BUTTON_TEXT} characters"
                if len(str(element.get("value") or "")) > MAX_BUTTON_VALUE:
                    yield f"block {n} button {m}: value over {MAX_BUTTON_VALUE} characters"
                if len(str(element.get("url") or "")) > MAX_BUTTON_URL:
                    yield f"block {n} button {m}: url over {MAX_BUTTON_URL} characters"


def problems(message: Mapping[str, Any]) -> list[str]:
    """Everything wrong with one Slack message (empty: it passes)."""
    from costwarden.notifier.blocks import zero_value

    found = list(_limits(message))
    for where, raw in _visible(message):
        text = _shown(raw)
        if key := DEDUP_KEY.search(text):
            found.append(f"{where}: internal key {key.group(0)!r} in visible text")
        if ZSCORE.search(text):
            found.append(f"{where}: z-score in visible text")
        if " field " in where and "\n" in raw:
            label, _, value = raw.partition("\n")
            if zero_value(_shown(value).strip("*_ ")):
                found.append(f"{where}: zero-value field {label.strip('*')!r}: {value!r}")
    return found


def assert_clean(messages: list[Mapping[str, Any]]) -> None:
    """Every message passes ``problems``; the failure names the message and what is wrong."""
    bad = {n: p for n, message in enumerate(messages) if (p := problems(message))}
    assert not bad, "Slack posts that break the rules (issue 22): " + "; ".join(
        f"post {n} ({str(messages[n].get('text', ''))[:80]!r}): {', '.join(p)}" for n, p in bad.items()
    )


@pytest.fixture
def slack_unchecked() -> None:
    """Asked for by a test that posts a malformed Slack message on purpose: its posts are not checked."""


@pytest.fixture(autouse=True)
def every_slack_post_checked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every post any ``SlackStandIn`` records during the test passes ``problems`` (checked after the test)."""
    from costwarden.demo.slack_standin import ReceivedRequest, SlackStandIn

    seen: list[ReceivedRequest] = []
    original = SlackStandIn._record

    def record(self: SlackStandIn, received: ReceivedRequest) -> None:
        seen.append(received)
        original(self, received)

    monkeypatch.setattr(SlackStandIn, "_record", record)
    yield
    if "slack_unchecked" in request.fixturenames:
        return
    assert_clean([r.body for r in seen if isinstance(r.body, dict)])
