"""``post_message`` alone against the Slack stand-in: classification, retry bounds, the deadline."""

from __future__ import annotations

import socket

import pytest
from costwarden.demo.slack_standin import SlackStandIn, StandInResponse
from costwarden.notifier.slack import (
    PostResult,
    RetryPolicy,
    SlackPermanentError,
    SlackTransientError,
    post_message,
)

from tests.functional.notifier.support import Sleeps

MESSAGE = {"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]}
POLICY = RetryPolicy(attempt_timeout_seconds=0.5, reserve_seconds=1.0)


def _post(url: str, sleeps: Sleeps, remaining_ms: int = 60_000, policy: RetryPolicy = POLICY) -> PostResult:
    return post_message(url, MESSAGE, channel="default", remaining_ms=lambda: remaining_ms, policy=policy, sleep=sleeps)


def test_ok_is_delivered_first_time(slack: SlackStandIn) -> None:
    sleeps = Sleeps()
    result = _post(slack.url("/hook"), sleeps)
    assert (result.status, result.attempts, sleeps.waits) == (200, 1, [])
    assert slack.accepted("/hook")[0].body == MESSAGE
    assert slack.accepted("/hook")[0].headers["Content-Type"].startswith("application/json")


def test_gateway_errors_are_retried_with_growing_bounded_backoff(slack: SlackStandIn) -> None:
    slack.script("/hook", StandInResponse.server_error(502), StandInResponse.server_error(504))
    sleeps = Sleeps()

    result = _post(slack.url("/hook"), sleeps)

    assert result.attempts == 3
    assert len(sleeps.waits) == 2
    assert all(0 < wait <= POLICY.max_delay_seconds for wait in sleeps.waits)


def test_429_without_retry_after_waits_about_a_second(slack: SlackStandIn) -> None:
    slack.script("/hook", StandInResponse(429, "rate_limited"))
    sleeps = Sleeps()

    _post(slack.url("/hook"), sleeps)

    assert 1.0 <= sleeps.waits[0] <= 2.0


def test_rate_limit_that_persists_is_transient_after_the_bound(slack: SlackStandIn) -> None:
    slack.script("/hook", *[StandInResponse.rate_limited(1)] * 10)
    sleeps = Sleeps()

    with pytest.raises(SlackTransientError) as caught:
        _post(slack.url("/hook"), sleeps, policy=RetryPolicy(max_retries=2, attempt_timeout_seconds=0.5))

    assert caught.value.status == 429
    assert caught.value.attempts == 3
    assert len(slack.posts_to("/hook")) == 3


def test_unexpected_200_body_is_a_permanent_error(slack: SlackStandIn) -> None:
    slack.script("/hook", StandInResponse(200, "<html>proxy login</html>"))

    with pytest.raises(SlackPermanentError, match="proxy login"):
        _post(slack.url("/hook"), Sleeps())


def test_no_text_is_what_the_stand_in_says_to_an_empty_message(slack: SlackStandIn) -> None:
    with pytest.raises(SlackPermanentError) as caught:
        post_message(slack.url("/hook"), {"text": ""}, channel="default", remaining_ms=lambda: 60_000, sleep=Sleeps())
    assert (caught.value.status, caught.value.reason) == (400, "no_text")


def test_connection_refused_is_retried_then_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()

    with pytest.raises(SlackTransientError) as caught:
        _post(f"http://127.0.0.1:{port}/hook", sleeps, policy=RetryPolicy(max_retries=2, attempt_timeout_seconds=0.5))

    assert len(sleeps.waits) == 2
    assert "127.0.0.1" not in str(caught.value)


def test_no_time_left_means_no_attempt(slack: SlackStandIn) -> None:
    with pytest.raises(SlackTransientError, match="no time left"):
        _post(slack.url("/hook"), Sleeps(), remaining_ms=500)
    assert slack.received == []
