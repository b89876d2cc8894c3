"""Is this request from Slack, and new? Checked before anything else reads the body.

Slack signs every request (v0): ``X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{ts}:{raw body}")>``
with ``X-Slack-Request-Timestamp: {ts}``. The signature is compared in constant time (``hmac.compare_digest``);
a timestamp more than ``max_age`` seconds away from now (either way) is refused, so a captured request cannot be
replayed later; within that window each action is processed once (``claim_once``: a conditional put in the state
table), so a replay inside the window is a no-op.

What a refusal says is deliberately poor: one generic reason per status, never the expected signature, the
computed one, the secret's length, or which part differed. Nothing that would help forge a request is logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from costwarden.models.ports import StateStore

VERSION = "v0"
SIGNATURE_HEADER = "x-slack-signature"
TIMESTAMP_HEADER = "x-slack-request-timestamp"
#: Slack's documented replay window.
MAX_AGE_SECONDS = 300
#: The "processed once" markers: partition in the state table, and how long they live (> the replay window).
SEEN_PK = "interact#seen"
SEEN_TTL_DAYS = 1
#: Slack bodies are small (a block_actions payload is a few KB); anything far larger is not from Slack.
MAX_BODY_BYTES = 64 * 1024


class Rejected(Exception):  # noqa: N818 - reads as what happened
    """The request is refused with ``status`` (401: not from Slack; 400: malformed). ``reason`` is generic."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def unauthorized() -> Rejected:
    return Rejected(401, "invalid request signature")


def bad_request() -> Rejected:
    return Rejected(400, "bad request")


def _header(headers: Mapping[str, str], name: str) -> str:
    """Header lookup ignoring case (API Gateway and Function URLs lower-case names; tests may not)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack computes for ``body`` at ``timestamp`` (tests sign with it too)."""
    base = VERSION.encode() + b":" + timestamp.encode() + b":" + body
    return f"{VERSION}=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def verify_request(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, now: float, max_age: int = MAX_AGE_SECONDS
) -> None:
    """Raise ``Rejected`` unless ``body`` carries a valid, fresh Slack v0 signature."""
    if not secret:
        raise unauthorized()  # a missing secret must never make every signature "valid"
    if len(body) > MAX_BODY_BYTES:
        raise bad_request()
    timestamp = _header(headers, TIMESTAMP_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12 or not given:
        raise unauthorized()
    if abs(now - int(timestamp)) > max_age:
        raise unauthorized()
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise unauthorized()


def claim_once(state: StateStore, action_key: str, *, now_iso: str) -> bool:
    """True the first time ``action_key`` is seen (this call recorded it); False for a replay: do nothing then."""
    digest = hashlib.sha256(action_key.encode()).hexdigest()
    return state.put_if_absent(SEEN_PK, digest, {"seen_at": now_iso}, ttl_days=SEEN_TTL_DAYS)
