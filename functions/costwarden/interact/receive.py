"""The first three seconds: verify, parse, claim — then acknowledge. Pure (the state store is a port).

``receive`` answers what Slack must see within 3 s; the work (authorization with its group look-ups, AWS calls,
the message update) runs afterwards, in a second invocation (``handlers/interact.py``). A replay inside the
signature window is acknowledged like the original (Slack retries a request it thinks was lost) and does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from costwarden.core.slack_urls import WebhookAllowance
from costwarden.interact.payload import Button, Interaction, parse_body
from costwarden.interact.verify import Rejected, claim_once, verify_request
from costwarden.models.ports import StateStore


@dataclass(frozen=True)
class Ack:
    """The HTTP answer to Slack, and the interaction to work on afterwards (None: nothing to do)."""

    status: int
    body: str
    work: Interaction | None = None


def receive(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secret: bytes,
    state: StateStore,
    now: datetime,
    max_age: int,
    allowance: WebhookAllowance | None = None,
) -> Ack:
    """Verify and claim one request; never raises for what the sender controls."""
    try:
        verify_request(secret, headers, body, now=now.timestamp(), max_age=max_age)
        interaction = parse_body(body, allowance)
    except Rejected as rejected:
        return Ack(rejected.status, rejected.reason)
    if not claim_once(state, interaction.replay_key, now_iso=now.isoformat()):
        return Ack(200, "")  # a replay: acknowledged, not processed again
    if interaction.kind == "slash_command":
        return Ack(200, '{"response_type": "ephemeral", "text": "Working on it..."}', interaction)
    return Ack(200, "", interaction)


def to_event(interaction: Interaction) -> dict[str, Any]:
    """The interaction as the JSON the worker invocation receives."""
    data = asdict(interaction)
    data["message_blocks"] = list(interaction.message_blocks)
    return {"costwarden_interaction": data}


def from_event(event: Mapping[str, Any]) -> Interaction | None:
    """The worker's interaction, or None when ``event`` is not one (an HTTP request)."""
    data = event.get("costwarden_interaction")
    if not isinstance(data, dict):
        return None
    button = data.get("button")
    return Interaction(
        **{**data, "button": Button(**button) if button else None, "message_blocks": tuple(data["message_blocks"])}
    )
