"""The alert as an e-mail subscriber of the alert topic reads it (issue 22): plain text, made from the Slack message.

One rendering, two media: the text is built from ``render_message(event)``, the very blocks Slack gets (every kind's
own layout, the digest's tables included), so the e-mail says what the Slack message says and a new kind or layout
needs nothing here. Per block: the header becomes the first line (underlined), sections their text, fields
``Label: value`` lines, context one line joined with `` · ``, link buttons ``label: url``; buttons that act (Extend,
Acknowledge, ...) are left out, they only work in Slack. Mrkdwn is undone: ``<url|label>`` reads ``label (url)``,
``<@U123>`` reads ``@U123``, ``*bold*``/``_italic_``/`` `code` `` lose their marks, ``&amp;`` is ``&`` again, and
emoji shortcodes (``:warning:``) go.

Why SNS, not SES: the README already has teams subscribe an address to the alert topic and filter it by the
``kind``/``severity``/``team`` attributes; SNS's ``MessageStructure=json`` gives that subscription this text while the
Lambda, SQS and HTTPS subscribers keep the JSON event, with no new service, identity verification or sandbox exit.
SNS e-mail is plain text only (no HTML part); an HTML e-mail would need SES, and would say nothing the text does not.
"""

from __future__ import annotations

import re
from typing import Any

from costwarden.models.alert import AlertEvent
from costwarden.notifier.blocks import render_message

#: Longest e-mail body (characters): far inside SNS's 256 KB next to the JSON event (``adapters.sns``).
MAX_EMAIL_CHARS = 60_000
FOOTER = (
    "Sent by Costwarden to the alert topic's e-mail subscribers (filter on the kind, severity and team attributes). "
    "The same alert is in Slack, with its buttons."
)

_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE = re.compile(r"<([^<>|]+)>")
_EMOJI = re.compile(r"(?<![\w:]):[a-z][a-z0-9_+-]*:(?![\w:]) ?")


def _mark(char: str) -> re.Pattern[str]:
    """``*bold*``, ``_italic_``, ``~strike~``: the mark around non-blank text, never inside a word (``expires_at``)."""
    c = re.escape(char)
    return re.compile(rf"(?<![\w{c}]){c}(\S(?:[^\n]*?\S)?){c}(?![\w{c}])")


#: The marks undone, in order; inline code last.
_MARKS = (*(_mark(char) for char in "*_~"), re.compile(r"`([^`\n]+)`"))


def _bare(match: re.Match[str]) -> str:
    target = match.group(1)
    if target.startswith("@"):
        return target  # a user mention: @U123
    if target.startswith("!subteam^"):
        return "@" + target.removeprefix("!subteam^")
    if target.startswith("!"):
        return "@" + target[1:]
    return target


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn as plain text (links spelled out, marks and emoji shortcodes removed, entities decoded)."""
    text = mrkdwn.replace("```", "")
    text = _LINK.sub(lambda m: m.group(2) if m.group(2) == m.group(1) else f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE.sub(_bare, text)
    text = _EMOJI.sub("", text)
    for mark in _MARKS:
        text = mark.sub(r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _text(element: Any) -> str:
    if isinstance(element, dict) and isinstance(element.get("text"), str):
        return plain(element["text"]) if element.get("type") == "mrkdwn" else element["text"]
    if isinstance(element, dict) and isinstance(element.get("text"), dict):
        return _text(element["text"])
    return ""


def _field(field: Any) -> str:
    """``*Label*\\nvalue`` (a figure) as ``Label: value``."""
    label, _, value = _text(field).partition("\n")
    return f"{label}: {value}" if value else label


def _link(element: Any) -> str | None:
    """A link button as ``label: url``; None for a button that acts (it only works in Slack)."""
    if isinstance(element, dict) and element.get("type") == "button" and isinstance(element.get("url"), str):
        return f"{_text(element) or 'Link'}: {element['url']}"
    return None


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "header":
        title = " ".join(_EMOJI.sub("", _text(block)).split())  # plain_text: no mrkdwn to undo
        return f"{title}\n{'=' * min(len(title), 78)}"
    if kind == "divider":
        return "-" * 40
    if kind == "context":
        return " · ".join(text for text in (_text(e) for e in block.get("elements") or []) if text)
    if kind == "actions":
        return "\n".join(link for link in (_link(e) for e in block.get("elements") or []) if link)
    if kind == "image":
        return f"{block.get('alt_text', 'image')}: {block.get('image_url', '')}"
    parts = [_text(block)] if block.get("text") else []
    parts.extend(_field(f) for f in block.get("fields") or [])
    accessory = _link(block.get("accessory"))
    if accessory:
        parts.append(accessory)
    return "\n".join(part for part in parts if part)


def email_text(event: AlertEvent) -> str:
    """The plain-text e-mail body of ``event``: its Slack message, block by block, then a short footer."""
    message = render_message(event)
    paragraphs = [text for text in (_block_text(b) for b in message["blocks"] if isinstance(b, dict)) if text.strip()]
    body = "\n\n".join([*paragraphs, "--", FOOTER])
    if len(body) > MAX_EMAIL_CHARS:
        body = body[: MAX_EMAIL_CHARS - 80].rstrip() + "\n\n[shortened: the full alert is in Slack]\n\n" + FOOTER
    return body
