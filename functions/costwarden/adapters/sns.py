"""Publishing alert events to the alert topic: the one ``publish()`` every producer uses.

SNS limits (shared/reference/REFERENCE_FACTS.md): message <= 262,144 bytes, Subject < 100 characters with no line
breaks or control characters. An event that would be too large is cut down (long lists and strings in ``details``
shortened, with a note) rather than rejected: a guardrail that drops its own alert because it had too much to say
is worse than one that says "and 4,000 more".

E-mail subscribers (issue 22): given an ``email`` renderer, ``publish`` sends ``MessageStructure=json`` with two
keys, ``default`` (the JSON event: every protocol without a key of its own, so the notifier's Lambda, SQS, HTTPS and
``email-json`` get exactly what they got before) and ``email`` (plain text; SNS e-mail has no HTML part).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from costwarden.adapters import aws
from costwarden.models.alert import AlertEvent

MAX_MESSAGE_BYTES = 262_144
#: Headroom for the SNS envelope around our body when delivered to HTTP/SQS subscribers is not counted by SNS,
#: but we keep a little margin for attributes.
TARGET_MESSAGE_BYTES = MAX_MESSAGE_BYTES - 2_048
MAX_SUBJECT_CHARS = 99
TRUNCATION_NOTE_KEY = "truncated"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ASCII_FALLBACKS = {"\u2014": "-", "\u2013": "-", "\u2192": "->", "\u2026": "...", "\u00d7": "x"}


def subject_for(event: AlertEvent) -> str:
    """``[CRITICAL] title`` as plain ASCII on one line, at most 99 characters (e-mail subscribers see it)."""
    text = f"[{event.severity.value.upper()}] {event.title}"
    for char, replacement in _ASCII_FALLBACKS.items():
        text = text.replace(char, replacement)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > MAX_SUBJECT_CHARS:
        text = text[: MAX_SUBJECT_CHARS - 3].rstrip() + "..."
    return text


def _size(event: AlertEvent) -> int:
    return len(event.to_json().encode("utf-8"))


def _json_size(value: Any) -> int:
    return len(json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _shrink(value: Any, budget: int) -> Any:
    """Shorten one details value to roughly ``budget`` bytes of JSON, keeping its type where possible."""
    if isinstance(value, list):
        kept: list[Any] = []
        used = 2
        for item in value:
            cost = _json_size(item) + 1
            if used + cost > budget:
                break
            kept.append(item)
            used += cost
        return kept
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        used = 2
        for key, item in value.items():
            cost = _json_size({key: item})
            if used + cost > budget:
                break
            out[key] = item
            used += cost
        return out
    if isinstance(value, str):
        return value.encode("utf-8")[: max(budget - 16, 0)].decode("utf-8", "ignore") + " [truncated]"
    return value


def fit_to_sns(event: AlertEvent, limit: int = TARGET_MESSAGE_BYTES) -> AlertEvent:
    """Return ``event`` unchanged if it fits, else a copy with ``details`` cut down and a note saying what was cut."""
    if _size(event) <= limit:
        return event
    details = dict(event.details)
    cut: list[str] = []
    # Shrink the largest values first, halving each one's share until the whole message fits.
    for _ in range(40):
        candidate = event.model_copy(update={"details": {**details, TRUNCATION_NOTE_KEY: _note(cut)}})
        overflow = _size(candidate) - limit
        if overflow <= 0:
            return candidate
        key, value = max(details.items(), key=lambda kv: _json_size(kv[1]), default=(None, None))
        if key is None:
            break
        current = _json_size(value)
        # Cut by the overflow, and by at least a tenth so that the loop always makes progress.
        shrunk = _shrink(value, min(current - overflow - 64, current * 9 // 10))
        if shrunk == value:
            details.pop(key)
            cut.append(f"{key} (removed)")
        else:
            details[key] = shrunk
            original = len(event.details[key]) if isinstance(event.details.get(key), list | dict) else None
            cut.append(f"{key} (kept {len(shrunk)} of {original})" if original is not None else f"{key} (shortened)")
    summary = event.summary.encode("utf-8")[: limit // 2].decode("utf-8", "ignore")
    return event.model_copy(update={"summary": summary, "details": {TRUNCATION_NOTE_KEY: _note(["all details"])}})


def _note(cut: list[str]) -> str:
    unique = list(dict.fromkeys(cut))
    return "message exceeded the SNS size limit; shortened: " + ", ".join(unique) if unique else ""


def message_attributes(event: AlertEvent) -> dict[str, dict[str, str]]:
    """``kind``, ``severity`` and ``team`` as SNS message attributes, so subscribers can filter."""
    return {
        "kind": {"DataType": "String", "StringValue": event.kind.value},
        "severity": {"DataType": "String", "StringValue": event.severity.value},
        "team": {"DataType": "String", "StringValue": event.team},
    }


def structured_message(event: AlertEvent, email: str, limit: int = TARGET_MESSAGE_BYTES) -> tuple[AlertEvent, str]:
    """``(fitted event, Message)`` for ``MessageStructure=json``: ``default`` is the JSON event (what the Lambda,
    SQS, HTTPS and ``email-json`` subscribers get, unchanged), ``email`` the text for e-mail subscribers.

    SNS counts the whole structured message against its limit, the JSON event escaped inside it: the event is cut
    down (``fit_to_sns``) until the whole fits, never the e-mail's text below a readable size."""
    text = email.encode("utf-8")[: limit // 4].decode("utf-8", "ignore")
    budget = limit - _json_size(text) - 64
    fitted = event
    for _ in range(8):
        fitted = fit_to_sns(event, budget)
        body = json.dumps({"default": fitted.to_json(), "email": text}, ensure_ascii=False)
        overflow = len(body.encode("utf-8")) - limit
        if overflow <= 0:
            return fitted, body
        budget -= overflow + 1_024
    raise ValueError(f"alert {event.dedup_key!r} cannot be fitted into an SNS message")


def publish(
    event: AlertEvent,
    topic_arn: str,
    sns_client: Any | None = None,
    *,
    email: Callable[[AlertEvent], str] | None = None,
) -> str:
    """Publish one alert event to the alert topic and return the SNS message id.

    ``email`` renders the text e-mail subscribers get (``services.topic`` passes ``notifier.email.email_text``);
    without it every protocol gets the JSON event. Failures raise (after botocore's standard retries): callers decide
    whether to go on and report, never to drop.
    """
    sns = sns_client or aws.client("sns")
    structure: dict[str, str] = {}
    if email is None:
        fitted = fit_to_sns(event)
        message = fitted.to_json()
    else:
        fitted, message = structured_message(event, email(event))
        structure["MessageStructure"] = "json"
    response = sns.publish(
        TopicArn=topic_arn,
        Message=message,
        Subject=subject_for(fitted),
        MessageAttributes=message_attributes(fitted),
        **structure,
    )
    return str(response["MessageId"])
