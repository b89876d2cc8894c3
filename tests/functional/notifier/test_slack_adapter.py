"""``post_message`` alone against the Slack stand-in: classification, retry bounds, the deadline."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from typing import Any

import pytest
from costwarden.demo.slack_standin import SlackStandIn, StandInResponse
from costwarden.notifier.slack import (
    InvocationLimits,
    PostResult,
    RetryPolicy,
    SlackPermanentError,
    SlackTransientError,
    post_message,
)

from tests.functional.notifier.support import ConnectProxy, DripServer, Sleeps, SteppingClock

MESSAGE = {"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]}
POLICY = RetryPolicy(attempt_timeout_seconds=1.5, reserve_seconds=1.0)


def _post(
    url: str,
    sleeps: Callable[[float], None],
    remaining_ms: int = 60_000,
    policy: RetryPolicy = POLICY,
    channel: str = "default",
    **more: Any,
) -> PostResult:
    """``MESSAGE`` posted to ``url`` with ``remaining_ms`` left in the invocation; ``more``: clock, limits."""
    return post_message(
        url, MESSAGE, channel=channel, remaining_ms=lambda: remaining_ms, policy=policy, sleep=sleeps, **more
    )


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


# -- a total deadline per post, and one retry of an unanswered post per invocation ------------------------------


DRIP_POLICY = RetryPolicy(attempt_timeout_seconds=5.0, post_timeout_seconds=30.0, reserve_seconds=1.0)


@pytest.mark.parametrize("drip_headers", [True, False], ids=["status-line-drips", "body-drips"])
def test_a_drip_feeding_webhook_meets_the_total_deadline_and_is_retried_once(drip_headers: bool) -> None:
    """A byte every 10 ms never trips a socket timeout; the post's own deadline (clock-driven) ends each attempt."""
    sleeps = Sleeps()
    with DripServer(drip_headers=drip_headers) as drip:
        with pytest.raises(SlackTransientError) as caught:
            _post(drip.url("/hook"), sleeps, policy=DRIP_POLICY, clock=SteppingClock())
        requests, sent = drip.requests, drip.bytes_sent

    assert "deadline" in caught.value.reason
    assert (caught.value.attempts, requests, len(sleeps.waits)) == (2, 2, 1)
    assert sent < 2 * DripServer().max_bytes  # cut off by the deadline, not by the server running out


def test_one_invocation_retries_one_unanswered_post_at_most() -> None:
    """Slow Slack cannot turn one alert into a dozen posts: after one retry of an unanswered post, none more."""
    sleeps = Sleeps()
    limits = InvocationLimits()
    with DripServer() as drip:
        for channel in ("team:vision", "oncall", "default"):
            with pytest.raises(SlackTransientError, match="deadline"):
                url = drip.url(f"/{channel}")
                _post(url, sleeps, 600_000, DRIP_POLICY, channel, clock=SteppingClock(), limits=limits)
        requests = drip.requests

    assert requests == 1 + 1 + 1 + 1  # three posts, one retry between them
    assert limits.unanswered_retries == 0


def test_the_deadline_holds_with_the_real_clock() -> None:
    """The same with time.monotonic: 0.3 s per attempt against a server that would drip for 8 s."""
    policy = RetryPolicy(attempt_timeout_seconds=0.3, post_timeout_seconds=5.0, reserve_seconds=0.0)
    with DripServer(interval=0.02, max_bytes=400) as drip:
        with pytest.raises(SlackTransientError) as caught:
            _post(drip.url("/hook"), Sleeps(), policy=policy)
        requests, sent = drip.requests, drip.bytes_sent

    assert "deadline" in caught.value.reason
    assert requests == 2
    assert sent < 400


def test_a_post_never_outlives_its_own_total_budget(slack: SlackStandIn) -> None:
    """Rate limited again and again: retries stop when the next wait plus an attempt would pass the post's budget."""
    slack.script("/hook", *[StandInResponse.rate_limited(retry_after=4)] * 10)
    clock = SteppingClock(step=0.0)
    sleeps = Sleeps()

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        clock.now += seconds

    policy = RetryPolicy(max_retries=10, attempt_timeout_seconds=2.0, post_timeout_seconds=15.0, reserve_seconds=0.0)
    with pytest.raises(SlackTransientError) as caught:
        _post(slack.url("/hook"), sleep, 600_000, policy, clock=clock)

    assert caught.value.status == 429
    assert sum(sleeps.waits) + policy.attempt_timeout_seconds <= policy.post_timeout_seconds
    assert len(slack.posts_to("/hook")) == len(sleeps.waits) + 1 < 10


# -- proxies: the HTTPS_PROXY slack_sdk honours is honoured by the bounded exchange too ---------------------------


def test_a_configured_proxy_tunnels_the_post(slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    port = int(slack.base_url.rsplit(":", 1)[1])
    with ConnectProxy(target_port=port) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("://", "://ops:s%40fe@"))
        result = _post(f"http://slack.invalid:{port}/hook", Sleeps())  # only the proxy knows where that is

    assert result.status == 200
    (connect, auth), *_ = proxy.connects
    assert connect == f"CONNECT slack.invalid:{port} HTTP/1.1"
    assert auth == "Basic " + base64.b64encode(b"ops:s@fe").decode()
    assert slack.accepted("/hook")[0].body == MESSAGE


def test_loopback_and_no_proxy_hosts_go_direct(slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there: a tunnel would fail

    assert _post(slack.url("/hook"), Sleeps()).status == 200
