"""Alert event -> Slack Block Kit message. Pure: no I/O.

What a message looks like (default renderer)::

    [header]   :rotating_light: nlp: spend 2.6x its baseline yesterday          (plain_text, <= 150 chars)
    [section]  nlp spent 4,210 USD yesterday against ...                         (mrkdwn, <= 3,000 chars)
    [section]  *Spend*      *Baseline*     *Ratio* ...                           (fields: <= 10 x 2,000 chars)
               4,210 USD    1,620 USD      2.6x
    [section]  • Amazon SageMaker +2,310 USD                                     (details["items"], as a list)
               • Amazon EC2 +240 USD
    [section]  *Root causes by usage type*                                       (details["sections"], each a list)
               • +$2,100 in USE1-ml.p3.8xlarge-Hosting
    [section]  *What to do:* Stop or scale down ...                              (details["next_step"])
    [section]  <https://...|Open in Cost Explorer>                               (details["links"])
    [context]  CRITICAL · team nlp · cost anomaly · 2026-11-26 08:00 UTC

plus a top-level ``text`` (the notification and screen-reader fallback, <= 4,000 chars) and ``metadata`` (Slack's
message metadata, ``event_type`` ``costwarden_alert``): the dedup key, kind, team, severity and the kind's own
numbers (``details["metadata"]``, an anomaly's z-score). Machines read those there; people are not shown internal
keys or statistics.

A figure whose value is zero (``$0``, ``0``, ``$0/month``) is not shown: a field saying nothing takes the place of
one that does (``zero_value``; percentages stay: "0 % used" is news). The event keeps it for machines.

Renderers are a registry keyed by alert kind: one line in ``RENDERER_PATHS`` (a dotted path, imported on first
use) or ``RENDERERS[kind] = function`` gives a kind its own layout. Whatever a renderer returns passes through
``fit_blocks``, which enforces Slack's limits (REFERENCE_FACTS.md) by truncating, never by failing: at most 50
blocks (the last one then says how many were left out), header text <= 150, section text <= 3,000, <= 10 fields of
<= 2,000, context <= 10 elements, block_id <= 255.

Text from events is escaped for mrkdwn (``&``, ``<``, ``>``), so an alert cannot ping ``<!channel>`` or forge links.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from costwarden.models.alert import AlertEvent, AlertKind, Severity

MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3_000
MAX_FIELDS = 10
MAX_FIELD_CHARS = 2_000
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT_CHARS = 2_000
MAX_BLOCK_ID_CHARS = 255
MAX_TEXT_CHARS = 4_000
#: Items shown in a list before "... and N more": a Slack message is for reading, the full list is in the event.
MAX_LISTED_ITEMS = 60
#: Lines of one ``details["sections"]`` entry shown (the event keeps them all).
MAX_SECTION_LINES = 10
ELLIPSIS = "…"
#: Slack's message metadata ``event_type`` for every alert (alphanumeric and underscores).
METADATA_EVENT_TYPE = "costwarden_alert"
#: A displayed value that says nothing: zero money or a zero count, with an optional unit or rate after it.
_ZERO_VALUE = re.compile(r"^[+-]?\$?0(?:\.0+)?(?: ?USD)?(?:\s*/\s*[a-z]+)?$", re.IGNORECASE)

SEVERITY_EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.CRITICAL: ":rotating_light:",
}

Block = dict[str, Any]
Renderer = Callable[[AlertEvent], list[Block]]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def header_block(event: AlertEvent) -> Block:
    text = f"{SEVERITY_EMOJI[event.severity]} {' '.join(event.title.split())}"
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER_CHARS), "emoji": True}}


def summary_blocks(event: AlertEvent) -> list[Block]:
    if not event.summary.strip():
        return []
    return [{"type": "section", "text": _mrkdwn(truncate(escape(event.summary), MAX_SECTION_CHARS))}]


def zero_value(value: object) -> bool:
    """True for a figure that says nothing: ``$0``, ``0``, ``0 USD``, ``$0/month``, ``-$0`` (not ``0 %``)."""
    return bool(_ZERO_VALUE.match(" ".join(str(value).split())))


def figures_blocks(figures: Any) -> list[Block]:
    """``details["figures"]`` ({label: value}) as section fields, ten per section; zero values left out."""
    if not isinstance(figures, dict) or not figures:
        return []
    fields = [
        _mrkdwn(truncate(f"*{escape(str(label))}*\n{escape(str(value))}", MAX_FIELD_CHARS))
        for label, value in figures.items()
        if not zero_value(value)
    ]
    return [{"type": "section", "fields": fields[i : i + MAX_FIELDS]} for i in range(0, len(fields), MAX_FIELDS)]


def list_blocks(items: Any, limit: int = MAX_LISTED_ITEMS) -> list[Block]:
    """``details["items"]`` as bulleted lines, packed into as few sections as the 3,000-character limit allows."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        return []
    lines = [f"• {truncate(escape(' '.join(str(item).split())), 300)}" for item in items]
    if not lines:
        return []
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"_{ELLIPSIS} and {len(lines) - limit} more_")
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for line in shown:
        if chunk and size + len(line) + 1 > MAX_SECTION_CHARS:
            blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
    return blocks


def section_blocks(sections: Any) -> list[Block]:
    """``details["sections"]`` ([{"title", "lines"}]) as one section each: the bold title, then the lines."""
    if not isinstance(sections, list):
        return []
    blocks: list[Block] = []
    for section in sections:
        if not isinstance(section, dict) or not isinstance(section.get("lines"), list) or not section["lines"]:
            continue
        lines = [f"• {truncate(escape(' '.join(str(line).split())), 300)}" for line in section["lines"]]
        if len(lines) > MAX_SECTION_LINES:
            lines = [*lines[:MAX_SECTION_LINES], f"_{ELLIPSIS} and {len(lines) - MAX_SECTION_LINES} more_"]
        title = escape(" ".join(str(section.get("title", "")).split()))
        text = "\n".join([f"*{title}*", *lines]) if title else "\n".join(lines)
        blocks.append({"type": "section", "text": _mrkdwn(truncate(text, MAX_SECTION_CHARS))})
    return blocks


def next_step_blocks(step: Any) -> list[Block]:
    """``details["next_step"]``: the one line saying what to do."""
    if not isinstance(step, str) or not step.strip():
        return []
    text = f"*What to do:* {escape(' '.join(step.split()))}"
    return [{"type": "section", "text": _mrkdwn(truncate(text, MAX_SECTION_CHARS))}]


def _link_url(url: str) -> str | None:
    """A URL fit for ``<url|label>``: http(s), no whitespace and none of ``<``, ``>``, ``|`` (they end the link)."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "<>| \t\r\n"):
        return None
    return url.replace("&", "&amp;")


def link_text(url: str, label: str) -> str:
    """``<url|label>`` (Slack's link markup), the label escaped; an unusable URL gives the label alone."""
    safe = _link_url(url)
    shown = escape(" ".join(label.split())).replace("|", "/")
    return f"<{safe}|{shown}>" if safe else shown


def link_blocks(links: Any) -> list[Block]:
    """``details["links"]`` ([{"label", "url"}]) as one line of ``<url|label>`` links: never a raw URL in the text."""
    if not isinstance(links, list):
        return []
    shown = [
        link_text(link["url"], str(link.get("label") or "Open"))
        for link in links
        if isinstance(link, dict) and isinstance(link.get("url"), str)
    ]
    return [{"type": "section", "text": _mrkdwn(" · ".join(shown))}] if shown else []


def context_block(event: AlertEvent) -> Block:
    """Severity, team, kind and time: how a reader places the alert (its dedup key is in the message metadata)."""
    when = event.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
    elements = [
        _mrkdwn(f"*{event.severity.value.upper()}*"),
        _mrkdwn(f"team *{escape(event.team)}*"),
        _mrkdwn(event.kind.value.replace("_", " ")),
        _mrkdwn(when),
    ]
    note = event.details.get("truncated")
    if isinstance(note, str) and note:
        elements.append(_mrkdwn(f"_{escape(note)}_"))
    return {"type": "context", "elements": elements}


def default_blocks(event: AlertEvent) -> list[Block]:
    """Header, summary, figures as fields, items as a list, the sections, what to do, the links, context."""
    details = event.details
    return [
        header_block(event),
        *summary_blocks(event),
        *figures_blocks(details.get("figures")),
        *list_blocks(details.get("items")),
        *section_blocks(details.get("sections")),
        *next_step_blocks(details.get("next_step")),
        *link_blocks(details.get("links")),
        context_block(event),
    ]


def _metadata_value(value: Any) -> Any:
    """A value Slack's ``event_payload`` accepts (strings, numbers, booleans, objects and lists of them)."""
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _metadata_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_metadata_value(v) for v in value]
    return str(value)


def message_metadata(event: AlertEvent) -> dict[str, Any]:
    """Slack's message metadata for ``event``: what machines (the Slack app, a workflow) read, never shown."""
    payload: dict[str, Any] = {
        "dedup_key": event.dedup_key,
        "kind": event.kind.value,
        "team": event.team,
        "severity": event.severity.value,
    }
    own = event.details.get("metadata")
    if isinstance(own, dict):
        payload.update({str(k): _metadata_value(v) for k, v in own.items() if str(k) not in payload})
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": payload}


#: Kind -> renderer. Kinds not listed use ``default_blocks``.
RENDERERS: dict[AlertKind, Renderer] = {}

#: Kind -> dotted path of a renderer defined in another package, imported on first use. This is where a special
#: layout is registered with one line (e.g. ``AlertKind.DIGEST: "costwarden.digest.slack.render_digest"``): the
#: notifier process then loads it without importing anything at start, and the renderer module may itself import
#: the helpers of this module (``header_block``, ``figures_blocks``, ...) without an import cycle.
RENDERER_PATHS: dict[AlertKind, str] = {
    AlertKind.DIGEST: "costwarden.notifier.digest_blocks.digest_blocks",
}


def renderer_for(kind: AlertKind) -> Renderer:
    """The renderer for ``kind``: registered function, else registered dotted path, else ``default_blocks``."""
    if kind in RENDERERS:
        return RENDERERS[kind]
    path = RENDERER_PATHS.get(kind)
    if path is None:
        return default_blocks
    module_name, _, attribute = path.rpartition(".")
    renderer: Renderer = getattr(importlib.import_module(module_name), attribute)
    RENDERERS[kind] = renderer
    return renderer


def fallback_text(event: AlertEvent) -> str:
    """Top-level ``text``: what notifications, screen readers and old clients show."""
    text = f"{SEVERITY_EMOJI[event.severity]} [{event.severity.value.upper()}] {event.title} ({event.team})"
    if event.summary.strip():
        text += f": {event.summary}"
    return truncate(escape(text), MAX_TEXT_CHARS)


def fit_block(block: Block) -> Block:
    """One block within its per-block limits (text lengths, field and element counts, block_id)."""
    fitted = dict(block)
    kind = fitted.get("type")
    text = fitted.get("text")
    if isinstance(text, dict) and isinstance(text.get("text"), str):
        limit = MAX_HEADER_CHARS if kind == "header" else MAX_SECTION_CHARS
        fitted["text"] = {**text, "text": truncate(text["text"], limit)}
    if isinstance(fitted.get("fields"), list):
        fitted["fields"] = [
            {**field, "text": truncate(str(field.get("text", "")), MAX_FIELD_CHARS)}
            for field in fitted["fields"][:MAX_FIELDS]
        ]
    if kind == "context" and isinstance(fitted.get("elements"), list):
        fitted["elements"] = [
            {**element, "text": truncate(element["text"], MAX_CONTEXT_TEXT_CHARS)}
            if isinstance(element.get("text"), str)
            else element
            for element in fitted["elements"][:MAX_CONTEXT_ELEMENTS]
        ]
    if isinstance(fitted.get("block_id"), str):
        fitted["block_id"] = fitted["block_id"][:MAX_BLOCK_ID_CHARS]
    return fitted


def fit_blocks(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks, each within its limits. When cut, the last block says how many were left out.

    The final context block (severity, team, kind, time) is kept when blocks are cut: it is how a reader places
    the alert.
    """
    fitted = [fit_block(block) for block in blocks]
    if len(fitted) <= MAX_BLOCKS:
        return fitted
    tail = [fitted[-1]] if fitted[-1].get("type") == "context" else []
    body = fitted[: len(fitted) - len(tail)]
    keep = MAX_BLOCKS - 1 - len(tail)
    omitted = len(body) - keep
    note = {"type": "context", "elements": [_mrkdwn(f"_{ELLIPSIS} and {omitted} more blocks not shown_")]}
    return [*body[:keep], note, *tail]


def render_message(event: AlertEvent) -> dict[str, Any]:
    """The webhook payload for ``event``: ``{"text": ..., "blocks": [...], "metadata": {...}}`` within Slack's
    limits (the dedup key and the kind's statistics travel in ``metadata``, not in the visible text)."""
    return {
        "text": fallback_text(event),
        "blocks": fit_blocks(renderer_for(event.kind)(event)),
        "metadata": message_metadata(event),
    }
