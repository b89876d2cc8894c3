"""Slack v0 request signing: valid, wrong secret, tampered body, stale timestamp, replay — hostile cases first."""

from __future__ import annotations

import logging

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.interact.payload import parse_body
from costwarden.interact.verify import Rejected, claim_once, verify_request

from tests.unit.interact.signing import SECRET, button_body, signed_headers

NOW = 1_764_628_000
VALUE = {"a": "ack", "t": "nlp", "c": "ml-nlp", "r": "nlp|training"}


def _reject(headers: dict[str, str], body: bytes, secret: bytes = SECRET, now: float = NOW) -> Rejected:
    with pytest.raises(Rejected) as caught:
        verify_request(secret, headers, body, now=now)
    return caught.value


def test_valid_signature_passes() -> None:
    body = button_body(VALUE)
    verify_request(SECRET, signed_headers(body, NOW), body, now=NOW)
    verify_request(SECRET, {k.lower(): v for k, v in signed_headers(body, NOW).items()}, body, now=NOW + 299)


def test_wrong_secret_is_401() -> None:
    body = button_body(VALUE)
    assert _reject(signed_headers(body, NOW, secret=b"another-secret"), body).status == 401


def test_tampered_body_is_401() -> None:
    body = button_body(VALUE)
    headers = signed_headers(body, NOW)
    tampered = button_body({**VALUE, "t": "vision"})
    assert _reject(headers, tampered).status == 401


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_stale_or_future_timestamp_is_401(age: int) -> None:
    body = button_body(VALUE)
    assert _reject(signed_headers(body, NOW - age), body).status == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "١٧٦٤٦٢٨٠٠٠", "X-Slack-Signature": "v0=00"},  # non-ASCII digits
        {"X-Slack-Request-Timestamp": str(NOW), "X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": str(NOW), "X-Slack-Signature": "v0=é"},
    ],
)
def test_missing_or_malformed_headers_are_401(headers: dict[str, str]) -> None:
    assert _reject(headers, b"payload=x").status == 401


def test_empty_secret_never_validates() -> None:
    body = button_body(VALUE)
    assert _reject(signed_headers(body, NOW, secret=b""), body, secret=b"").status == 401


def test_oversized_body_is_400() -> None:
    body = b"payload=" + b"x" * 70_000
    assert _reject(signed_headers(body, NOW), body).status == 400


def test_refusal_says_nothing_that_helps_forge(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = button_body(VALUE)
    good = signed_headers(body, NOW)["X-Slack-Signature"]
    error = _reject(signed_headers(body, NOW, secret=b"wrong"), body)
    assert good not in str(error) and good.removeprefix("v0=")[:8] not in str(error)
    assert str(error) == "401 invalid request signature"
    assert caplog.records == []


def test_replay_is_a_no_op() -> None:
    state = MemoryStateStore()
    interaction = parse_body(button_body(VALUE))
    assert claim_once(state, interaction.replay_key, now_iso="2026-12-01T22:00:00+00:00") is True
    again = parse_body(button_body(VALUE))
    assert claim_once(state, again.replay_key, now_iso="2026-12-01T22:00:01+00:00") is False
    other = parse_body(button_body(VALUE, action_ts="1764628001.000100"))
    assert claim_once(state, other.replay_key, now_iso="2026-12-01T22:00:02+00:00") is True


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"payload=%7Bnot-json",
        b"payload=%5B%5D",
        b"\xff\xfe",
        button_body({"a": "format_disk", "t": "nlp", "c": "ml-nlp", "r": "x"}),
        button_body({**VALUE, "d": "7"}),
        button_body(VALUE, user="u-lower"),
        button_body(VALUE, response_url="https://evil.example.com/actions/x"),
        button_body(VALUE, response_url="https://hooks.slack.com@evil.example.com/actions/x"),
        button_body(VALUE, response_url="http://hooks.slack.com/actions/x"),
    ],
)
def test_malformed_bodies_are_400_not_tracebacks(body: bytes) -> None:
    with pytest.raises(Rejected) as caught:
        parse_body(body)
    assert caught.value.status == 400
