"""Posting one message to one Slack incoming webhook, with retries that fit inside the function's time.

slack_sdk's ``WebhookClient`` does the HTTP and runs its retry loop; by default it retries connection errors only
and never raises on 4xx/5xx (ENVIRONMENT.md). So this module gives it three retry handlers that share one budget:

* 429: wait ``Retry-After`` (plus up to 1 s of jitter), as slack_sdk's ``RateLimitErrorRetryHandler`` does;
* 500/502/503/504: exponential backoff with full jitter (``ServerErrorRetryHandler`` widened to the gateway codes);
* timeouts and connection errors (``ConnectionErrorRetryHandler`` widened to read timeouts).

A retry is only taken if its wait plus a whole attempt (the per-attempt timeout) still ends before the Lambda
deadline minus a reserve; otherwise the last answer stands. At most ``max_retries`` retries in all.

Then the answer is classified:

* 200 ``ok``: delivered.
* 429, 5xx, timeouts, connection errors left after the retries: ``SlackTransientError``.
* any other answer (400 ``invalid_payload``, 403 ``action_prohibited``, 404 ``channel_not_found``, 410
  ``channel_is_archived``, ...): ``SlackPermanentError`` — retrying cannot help.

Both are raised (this module does not log; the caller logs channel, status and Slack's error string): the
handler fails, Lambda retries the SNS record (asynchronous invocation, twice) and then hands it to the
dead-letter queue. Nothing is dropped silently.

Webhook URLs are credentials. They never appear in our log lines or exceptions (only the channel name and Slack's
error string), and slack_sdk gets its own logger at WARNING with a redacting filter: at DEBUG/INFO slack_sdk logs
the full URL ("Sending a request - url: ...", "A retry handler found: ... POST <url>"), and it decides whether to
format those lines from its logger's *own* level (``logger.level <= DEBUG``, true for an unset level), so the
default ``slack_sdk.webhook.client`` logger would leak the URL as soon as anything enabled DEBUG.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import RemoteDisconnected
from typing import Any, cast
from urllib.error import URLError

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
_URL = re.compile(r"https?://\S+")


class _RedactUrls(logging.Filter):
    """Replace anything that looks like a URL in a record with ``<webhook-url>`` (defence in depth)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _URL.search(message):
            record.msg = _URL.sub("<webhook-url>", message)
            record.args = None
        return True


#: The logger slack_sdk is given. Its own level is WARNING so slack_sdk never even formats its URL-bearing
#: debug/info lines; errors still propagate (redacted) to the function's log.
SDK_LOGGER = logging.getLogger("costwarden.notifier.slack_sdk")
SDK_LOGGER.setLevel(logging.WARNING)
SDK_LOGGER.addFilter(_RedactUrls())


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on one post. The defaults suit a notifier with a 60 s Lambda timeout."""

    max_retries: int = 4
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    attempt_timeout_seconds: float = 10.0
    #: Seconds left untouched before the Lambda deadline (logging, the idempotency record, other channels).
    reserve_seconds: float = 3.0
    #: Jitter added to Retry-After (slack_sdk adds up to 1 s too), so clients held back together do not return together.
    rate_limit_jitter_seconds: float = 1.0


class SlackError(Exception):
    """A post that did not deliver. Carries the channel name and Slack's answer, never the URL."""

    def __init__(self, channel: str, reason: str, status: int | None = None, attempts: int = 1) -> None:
        self.channel = channel
        self.reason = reason
        self.status = status
        self.attempts = attempts
        super().__init__(f"Slack {channel}: {reason}" + (f" (HTTP {status})" if status is not None else ""))


class SlackTransientError(SlackError):
    """Rate limited, server error, timeout or connection error, still failing after the retries that fitted."""


class SlackPermanentError(SlackError):
    """Slack refused the message (invalid_payload, channel_not_found, channel_is_archived, 403, ...)."""


@dataclass
class PostResult:
    channel: str
    status: int
    attempts: int
    waited_seconds: float


@dataclass
class _Budget:
    """Shared by the three retry handlers of one post: the deadline, the sleep function and the tally."""

    policy: RetryPolicy
    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    waits: list[float] = field(default_factory=list)

    def fits(self, delay: float) -> bool:
        return self.clock() + delay + self.policy.attempt_timeout_seconds + self.policy.reserve_seconds <= self.deadline

    def wait(self, state: RetryState, delay: float) -> None:
        state.next_attempt_requested = True
        self.waits.append(delay)
        self.sleep(delay)
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                break
    return 1.0


class _BudgetedWait(RetryHandler):
    """Waits the delay its ``_can_retry`` chose, through the shared budget (so every wait fits the deadline)."""

    budget: _Budget
    _delay: float = 0.0

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self.budget.wait(state, self._delay)


class _RateLimitRetry(_BudgetedWait, RateLimitErrorRetryHandler):
    def __init__(self, budget: _Budget) -> None:
        super().__init__(max_retry_count=budget.policy.max_retries)
        self.budget = budget
        self._delay = 0.0

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error) or response is None:
            return False
        self._delay = _retry_after(response) + random.uniform(0, self.budget.policy.rate_limit_jitter_seconds)  # noqa: S311
        return self.budget.fits(self._delay)


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    """Full jitter: uniform in [0, min(max, base * 2^attempt)], with a small floor so a retry is never instant."""
    ceiling = min(policy.max_delay_seconds, policy.base_delay_seconds * (2**attempt))
    return max(random.uniform(0, ceiling), policy.base_delay_seconds / 10)  # noqa: S311


class _BackoffMixin(_BudgetedWait):
    def _fits(self, state: RetryState) -> bool:
        self._delay = _backoff(self.budget.policy, state.current_attempt)
        return self.budget.fits(self._delay)


class _ServerErrorRetry(_BackoffMixin, ServerErrorRetryHandler):
    def __init__(self, budget: _Budget) -> None:
        ServerErrorRetryHandler.__init__(self, max_retry_count=budget.policy.max_retries)
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in RETRYABLE_STATUSES and self._fits(state)


class _ConnectionRetry(_BackoffMixin, ConnectionErrorRetryHandler):
    def __init__(self, budget: _Budget) -> None:
        ConnectionErrorRetryHandler.__init__(
            self,
            max_retry_count=budget.policy.max_retries,
            error_types=[URLError, TimeoutError, ConnectionError, RemoteDisconnected],
        )
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None or error is None:
            return False
        retryable = isinstance(error, tuple(self.error_types_to_do_retries))
        return retryable and self._fits(state)


def post_message(
    url: str,
    message: dict[str, Any],
    *,
    channel: str,
    remaining_ms: Callable[[], int],
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> PostResult:
    """Post ``message`` to the webhook ``url``; return on ``ok``, raise ``SlackError`` otherwise.

    ``remaining_ms`` is the Lambda context's ``get_remaining_time_in_millis``: every retry must end before it runs out.
    """
    policy = policy or RetryPolicy()
    deadline = clock() + remaining_ms() / 1000
    budget = _Budget(policy=policy, deadline=deadline, clock=clock, sleep=sleep)
    timeout = min(policy.attempt_timeout_seconds, deadline - clock() - policy.reserve_seconds)
    if timeout <= 0:
        raise SlackTransientError(channel, "no time left in this invocation to post")
    client = WebhookClient(
        url,
        # urllib takes float seconds; slack_sdk only passes the value through.
        timeout=cast(int, timeout),
        logger=SDK_LOGGER,
        retry_handlers=[_RateLimitRetry(budget), _ServerErrorRetry(budget), _ConnectionRetry(budget)],
    )
    try:
        response = client.send_dict(message)
    except Exception as error:  # timeouts and connection errors left after the retries
        reason = _URL.sub("<webhook-url>", f"{type(error).__name__}: {error}")
        raise SlackTransientError(channel, reason, attempts=len(budget.waits) + 1) from None
    attempts = len(budget.waits) + 1
    body = (response.body or "").strip()
    if response.status_code == 200 and body == "ok":
        return PostResult(channel=channel, status=200, attempts=attempts, waited_seconds=sum(budget.waits))
    # Slack's error strings are short identifiers; cut anything longer (an HTML error page from a proxy).
    reason = _URL.sub("<webhook-url>", body[:200]) or "(empty answer)"
    if response.status_code == 429 or response.status_code >= 500:
        raise SlackTransientError(channel, reason, response.status_code, attempts=attempts)
    raise SlackPermanentError(channel, reason, response.status_code, attempts=attempts)
