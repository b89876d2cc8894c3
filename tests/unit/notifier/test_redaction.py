"""``costwarden.redaction``: the one function every error and log path uses to hide webhook paths and tokens."""

from __future__ import annotations

import logging

import pytest
from costwarden.redaction import REDACTED, RedactingFilter, redact
from hypothesis import assume, given
from hypothesis import strategies as st

TOKEN = "s3cr3tPastedToken"


@pytest.mark.parametrize(
    "text",
    [
        f"https://hooks.slack.com/services/T0/B0/{TOKEN}",
        f"url: https://hooks.slack.com/services/T0/B0/{TOKEN}  # vision, body: {{}}",
        f"URL can't contain control characters. '/services/T0/B0/{TOKEN}  ' (found at least ' ')",
        f"URL can't contain control characters. '/services/T0/B0/s3cr3t\x07{TOKEN}' (found at least '\\x07')",
        f"repr: '/services/T0/B0/s3cr3t\\x07{TOKEN}'",
        f"hooks.slack.com/services/T0/B0/{TOKEN}",
        f"hooks.slack-gov.com/services/T0/B0/{TOKEN}",
        f"services/T0/B0/{TOKEN}",
        f"POST /workflows/T0/A0/123/{TOKEN} HTTP/1.1",
        f"/triggers/T0/123/{TOKEN}",
        f"T00000000/B00000000/{TOKEN}",
        f"http://127.0.0.1:8080/hook/{TOKEN}",
        f"https://user:{TOKEN}@example.com/",
        f'{{"default": "https://hooks.slack.com/services/T0/B0/{TOKEN}"}}',
        f"xoxb-1234-5678-{TOKEN}",
        f"xapp-1-A0-{TOKEN}",
    ],
)
def test_webhook_paths_and_tokens_are_redacted(text: str) -> None:
    redacted = redact(text)
    assert TOKEN not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Slack team:vision: invalid_payload (HTTP 400)",
        "cannot read secret 'costwarden/slack-webhooks': ResourceNotFoundException",
        "costwarden.budgets.monthly_usd.vision: budgets must be positive",
        "alert 'cost_anomaly#vision#2026-11-25' not delivered",
        "AWS services in use: 12",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_host_of_a_url_stays_readable() -> None:
    assert redact(f"could not reach https://hooks.slack.com/services/T0/B0/{TOKEN}") == (
        f"could not reach https://hooks.slack.com/{REDACTED}"
    )
    assert redact('Could not connect to the endpoint URL: "http://127.0.0.1:5000/"') == (
        'Could not connect to the endpoint URL: "http://127.0.0.1:5000/"'
    )


_TOKENS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=40)
_SURROUNDINGS = st.text(max_size=30)
_SHAPES = st.sampled_from(
    [
        "https://hooks.slack.com/services/T0/B0/{t}",
        "hooks.slack.com/services/T0/B0/{t}",
        "/services/T0/B0/{t}",
        "https://hooks.slack.com/workflows/T0/A0/1/{t}",
        "http://127.0.0.1:9/x/{t}",
    ]
)


@given(token=_TOKENS, shape=_SHAPES, before=_SURROUNDINGS, after=_SURROUNDINGS)
def test_property_a_webhook_token_never_survives_whatever_surrounds_it(
    token: str, shape: str, before: str, after: str
) -> None:
    assume(token not in before + after and token not in REDACTED)
    text = before + " " + shape.format(t=token) + after

    assert token not in redact(text)
    assert redact(redact(text)) == redact(text)


def test_filter_redacts_message_args_and_extras() -> None:
    record = logging.LogRecord(
        "slack_sdk",
        logging.ERROR,
        __file__,
        1,
        "Sending a request - url: %s",
        (f"https://hooks.slack.com/services/T0/B0/{TOKEN}",),
        None,
    )
    record.slack_error = f"InvalidURL: '/services/T0/B0/{TOKEN}  '"

    assert RedactingFilter().filter(record) is True

    assert TOKEN not in record.getMessage()
    assert TOKEN not in record.slack_error
