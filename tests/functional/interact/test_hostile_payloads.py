"""Hostile signed requests, first: what a careless or malicious workspace member (or anyone holding one of the app's
webhook URLs, whose buttons Slack then signs genuinely) can send. Each gets a plain answer, never a traceback or 500.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

import pytest
from costwarden.cli.run import LocalContext
from costwarden.handlers import interact
from costwarden.interact.verify import signature

from tests.functional.interact.world import SIGNING, World


def _signed_event(body: bytes, *, base64_body: str | None = None) -> dict[str, object]:
    stamp = str(int(time.time()))
    return {
        "version": "2.0",
        "headers": {
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature(SIGNING.encode(), stamp, body),
            "content-type": "application/x-www-form-urlencoded",
        },
        "body": base64_body if base64_body is not None else body.decode(),
        "isBase64Encoded": base64_body is not None,
    }


def test_payload_nested_20000_deep_is_a_400(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    body = urlencode({"payload": "[" * 20_000 + "]" * 20_000}).encode()
    body = body[: 64 * 1024 - 1] if len(body) >= 64 * 1024 else body
    answer = interact.handler(_signed_event(body), LocalContext(function_name="interact"))
    assert answer["statusCode"] == 400 and answer["body"] == "bad request"
    assert "Traceback" not in capsys.readouterr().err


def test_deeply_nested_payload_within_the_size_limit_is_a_400(world: World) -> None:
    payload = "[" * 15_000 + "]" * 15_000  # urlencoded: 90 KB, over the limit, so also try the raw form
    body = b"payload=" + payload.encode()
    assert len(body) < 64 * 1024
    answer = interact.handler(_signed_event(body), LocalContext(function_name="interact"))
    assert answer["statusCode"] == 400 and world.worked == []


def test_button_value_nested_deep_is_a_400(world: World) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE01"},
        "channel": {"id": "C0NLP0001", "name": "ml-nlp"},
        "response_url": world.slack.url("/actions/T0TEAM/1234/abcdef"),
        "actions": [{"action_id": "cw", "value": "[" * 1000 + "]" * 1000, "action_ts": "1.1"}],
    }
    answer = world.request(urlencode({"payload": json.dumps(payload)}).encode())
    assert answer["statusCode"] == 400 and world.worked == []


def test_base64_flag_with_a_body_that_is_not_base64_is_a_400(world: World) -> None:
    body = b"payload=%7B%7D"
    answer = interact.handler(_signed_event(body, base64_body="%%% not base64 %%%"), LocalContext(function_name="x"))
    assert answer["statusCode"] == 400 and world.worked == []


def test_base64_body_that_decodes_is_still_verified(world: World) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions"})}).encode()
    answer = interact.handler(
        _signed_event(body, base64_body=base64.b64encode(body).decode()), LocalContext(function_name="interact")
    )
    assert answer["statusCode"] == 400  # decoded, verified, then refused as malformed: not a signature failure


def test_slash_command_with_no_text_gets_the_usage(world: World) -> None:
    answer = world.command("")
    assert answer["statusCode"] == 200
    [reply] = [r.body for r in world.slack.posts_to("/commands/T0TEAM/99/xyz")]
    assert reply is not None and reply["text"].startswith("usage:") and reply["response_type"] == "ephemeral"
    [audit] = world.audit()
    assert audit["status"] == "refused"


@pytest.mark.parametrize("expires_at", ["9999-12-30T12:00:00Z", "9999-12-31T00:00:00+01:00", "9999-12-31"])
def test_extend_near_the_end_of_time_is_answered_and_audited(world: World, expires_at: str) -> None:
    instance_id, arn = world.instance(ttl_until=expires_at)
    answer = world.press({"a": "extend", "t": "nlp", "c": "ml-nlp", "r": arn, "d": 7})
    assert answer["statusCode"] == 200
    assert world.tags(instance_id)["ttl_until"] == expires_at  # nothing changed
    [reply] = world.replies()
    assert reply.get("text") or reply.get("blocks")
    [audit] = world.audit()
    assert audit["status"] in {"refused", "failed"} and audit["action"] == "extend 7d"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:ec2:moon 1:123456789012:instance/i-0123456789abcdef0",
        "arn:aws:ec2::123456789012:instance/i-0123456789abcdef0",
        "arn:aws:ec2:us-east-1:123456789012:instance/",
        "not-an-arn",
    ],
)
def test_extend_with_a_malformed_arn_is_answered_and_audited(world: World, arn: str) -> None:
    answer = world.press({"a": "extend", "t": "nlp", "c": "ml-nlp", "r": arn, "d": 1})
    assert answer["statusCode"] == 200
    [reply] = world.replies()
    assert "Traceback" not in json.dumps(reply)
    [audit] = world.audit()
    assert audit["status"] in {"refused", "failed"}
