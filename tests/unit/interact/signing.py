"""Sign requests the way Slack does, with a test secret (shared by the interact tests)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from costwarden.interact.verify import signature

SECRET = b"8f742231b10e8888abcd99yyyzzz85a5"  # a test secret (Slack's documented example shape)


def signed_headers(body: bytes, timestamp: int, secret: bytes = SECRET) -> dict[str, str]:
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(secret, str(timestamp), body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def button_body(
    value: dict[str, object],
    *,
    user: str = "U0ALICE01",
    channel: str = "ml-nlp",
    action_ts: str = "1764628000.000100",
    response_url: str = "https://hooks.slack.com/actions/T1/1/abc",
    blocks: list[dict[str, object]] | None = None,
) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": "C0CHANNEL1", "name": channel},
        "container": {"type": "message", "message_ts": "1764627000.000200"},
        "response_url": response_url,
        "message": {"blocks": blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": "alert"}}]},
        "actions": [
            {"action_id": f"cw_{value['a']}", "value": json.dumps(value), "action_ts": action_ts, "type": "button"}
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(
    text: str,
    *,
    user: str = "U0ALICE01",
    channel: str = "ml-nlp",
    trigger: str = "13345224609.738474920.8088930838d88f008e0",
    response_url: str = "https://hooks.slack.com/commands/T1/2/def",
) -> bytes:
    return urlencode(
        {
            "command": "/costwarden",
            "text": text,
            "user_id": user,
            "channel_id": "C0CHANNEL1",
            "channel_name": channel,
            "trigger_id": trigger,
            "response_url": response_url,
        }
    ).encode()
