"""Posting one message to one Slack incoming webhook, with retries and deadlines that fit inside the function's time.

slack_sdk's ``WebhookClient`` runs the retry loop; by default it retries connection errors only and never raises on
4xx/5xx (ENVIRONMENT.md). So this module gives it three retry handlers that share one budget:

* 429: wait ``Retry-After`` (plus up to 1 s of jitter), as slack_sdk's ``RateLimitErrorRetryHandler`` does;
* 500/502/503/504: exponential backoff with full jitter (``ServerErrorRetryHandler`` widened to the gateway codes);
* a request that never left (connection refused or timed out, send failed): the same backoff;
* a request that was sent but got no complete answer (deadline passed, connection dropped): Slack may have posted
  it, so it is retried **at most once per invocation** (``InvocationLimits``, shared by every post of the
  invocation): slow Slack cannot turn one alert into a dozen posts.

Deadlines. A socket timeout bounds each *read*, not an answer: a server that sends one byte per second never trips
it. So every attempt has a wall-clock deadline (``attempt_timeout_seconds``), checked before every read of the
answer, and every post (all its attempts and waits) ends within ``post_timeout_seconds`` and before the Lambda
deadline minus a reserve. A retry is only taken if its wait plus a whole attempt still fits; otherwise the last
answer stands. At most ``max_retries`` retries in all. The HTTP exchange itself is ours (``_exchange``, http.client
under ``WebhookClient._perform_http_request_internal``): urllib offers no way to bound a whole response.

Then the answer is classified:

* 200 ``ok``: delivered.
* 429, 5xx, timeouts, connection errors left after the retries: ``SlackTransientError``.
* any other answer (400 ``invalid_payload``, 403 ``action_prohibited``, 404 ``channel_not_found``, 410
  ``channel_is_archived``, ...) and a URL that cannot be sent at all: ``SlackPermanentError`` — retrying cannot help.

Both are raised (this module does not log; the caller logs channel, status and Slack's error string): the
handler fails, Lambda retries the SNS record (asynchronous invocation, twice) and then hands it to the
dead-letter queue. Nothing is dropped silently.

Webhook URLs are credentials. A URL with whitespace, control or non-ASCII characters is refused before anything
is sent (urllib would echo its path in the error); every ``SlackError`` reason goes through ``redact``; and
slack_sdk gets its own logger at WARNING with the redacting filter: at DEBUG/INFO slack_sdk logs the full URL
("Sending a request - url: ...", "A retry handler found: ... POST <url>"), and it decides whether to format those
lines from its logger's *own* level (``logger.level <= DEBUG``, true for an unset level), so the default
``slack_sdk.webhook.client`` logger would leak the URL as soon as anything enabled DEBUG.
"""

from __future__ import annotations

import base64
import http.client
import io
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast
from urllib.error import HTTPError
from urllib.parse import unquote, urlsplit
from urllib.request import Request, proxy_bypass

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient, WebhookResponse

from costwarden.core.slack_urls import has_unsafe_characters
from costwarden.redaction import RedactingFilter, redact

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Longest answer read from a webhook (Slack answers ``ok`` or a short error string; a proxy's page is cut).
MAX_ANSWER_BYTES = 64 * 1024

#: The logger slack_sdk is given. Its own level is WARNING so slack_sdk never even formats its URL-bearing
#: debug/info lines; errors still propagate (redacted by the one redaction filter) to the function's log.
SDK_LOGGER = logging.getLogger("costwarden.notifier.slack_sdk")
SDK_LOGGER.setLevel(logging.WARNING)
SDK_LOGGER.addFilter(RedactingFilter())


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on one post. The defaults suit a notifier with a 60 s Lambda timeout (two channels, one retry each)."""

    max_retries: int = 4
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    #: Wall-clock limit of one attempt, connect to last byte of the answer (not a per-read socket timeout).
    attempt_timeout_seconds: float = 10.0
    #: Wall-clock limit of one post: every attempt and every wait between them.
    post_timeout_seconds: float = 25.0
    #: Seconds left untouched before the Lambda deadline (logging, the idempotency record, other channels).
    reserve_seconds: float = 3.0
    #: Jitter added to Retry-After (slack_sdk adds up to 1 s too), so clients held back together do not return together.
    rate_limit_jitter_seconds: float = 1.0


@dataclass
class InvocationLimits:
    """What every post of one Lambda invocation shares.

    A post that was sent but never answered may well have been posted by Slack; retrying it risks a duplicate, and
    when Slack is slow every retry is slow too. So one such retry per invocation, whichever channel needs it.
    """

    unanswered_retries: int = 1


class SlackError(Exception):
    """A post that did not deliver. Carries the channel name and Slack's answer (redacted), never the URL."""

    def __init__(self, channel: str, reason: str, status: int | None = None, attempts: int = 1) -> None:
        self.channel = redact(channel)
        self.reason = redact(reason)
        self.status = status
        self.attempts = attempts
        suffix = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"Slack {self.channel}: {self.reason}{suffix}")


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


_NO_ANSWER = "no complete answer within the attempt's deadline; Slack may have posted it"


class _NotSentError(ConnectionError):
    """The request never reached Slack whole (connect failed or timed out, sending failed): safe to retry."""


class _UnansweredError(TimeoutError):
    """The request was sent but no complete answer came (deadline passed, connection dropped): Slack may have it."""


@dataclass
class _Budget:
    """Shared by the retry handlers and the transport of one post: deadlines, sleep, clock and the tally."""

    policy: RetryPolicy
    #: The post's end: its own total limit or the Lambda deadline minus the reserve, whichever comes first.
    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    limits: InvocationLimits
    waits: list[float] = field(default_factory=list)

    def fits(self, delay: float) -> bool:
        return self.clock() + delay + self.policy.attempt_timeout_seconds <= self.deadline

    def attempt_deadline(self) -> float:
        return min(self.clock() + self.policy.attempt_timeout_seconds, self.deadline)

    def wait(self, state: RetryState, delay: float) -> None:
        state.next_attempt_requested = True
        self.waits.append(delay)
        self.sleep(delay)
        state.increment_current_attempt()


# -- the HTTP exchange, bounded by a wall-clock deadline ------------------------------------------------------


class _DeadlineReader(io.RawIOBase):
    """Reads a socket, but refuses to start a read after the deadline, and never waits past it in one."""

    def __init__(self, sock: socket.socket, deadline: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._clock = clock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise _UnansweredError(_NO_ANSWER)
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What ``http.client.HTTPResponse`` reads the answer from: the connection's socket behind a ``_DeadlineReader``."""

    def __init__(self, sock: socket.socket, deadline: float, clock: Callable[[], float]) -> None:
        self._reader = _DeadlineReader(sock, deadline, clock)

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(self._reader)


@lru_cache(maxsize=1)
def _default_context() -> ssl.SSLContext:
    """Certificate-verifying TLS, built once per container (loading the CA bundle is the slow part)."""
    return ssl.create_default_context()


def _connection(
    url: str, timeout: float, context: ssl.SSLContext | None, proxy: str | None
) -> http.client.HTTPConnection:
    """A connection to the webhook's host (through an ``HTTPS_PROXY`` tunnel when slack_sdk found one, as its urllib
    path did; ``NO_PROXY`` and loopback hosts go direct)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port
    if host in _LOCAL_HOSTS or proxy_bypass(host):  # NO_PROXY, and never a proxy for the local stand-in
        proxy = None
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}") if proxy else None
    if parts.scheme == "https":
        context = context or _default_context()
        if via is None:
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            via.hostname or "", via.port, timeout=timeout, context=context
        )
    elif via is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(via.hostname or "", via.port, timeout=timeout)
    headers = {}
    if via.username:
        credentials = f"{unquote(via.username)}:{unquote(via.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials).decode()
    connection.set_tunnel(host, port, headers=headers)
    return connection


def _headers(request: Request) -> dict[str, str]:
    """The request's headers as slack_sdk named them (urllib's ``Request`` stores ``Content-type``)."""
    return {"-".join(part.capitalize() for part in name.split("-")): value for name, value in request.header_items()}


def _exchange(
    url: str,
    request: Request,
    *,
    deadline: float,
    clock: Callable[[], float],
    context: ssl.SSLContext | None,
    proxy: str | None,
) -> WebhookResponse:
    """One POST, connect to last byte, ending by ``deadline``. Non-2xx answers raise ``HTTPError`` as urllib does."""
    remaining = deadline - clock()
    if remaining <= 0:
        raise _NotSentError("no time left for another attempt")
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _connection(url, remaining, context, proxy)
    try:
        try:
            connection.request("POST", path, body=request.data, headers=_headers(request))
        except (OSError, http.client.HTTPException) as error:
            raise _NotSentError(f"could not send the request ({type(error).__name__})") from None
        try:
            answer = http.client.HTTPResponse(cast(socket.socket, _DeadlineSocket(connection.sock, deadline, clock)))
            answer.begin()
            body = answer.read(MAX_ANSWER_BYTES)
        except _UnansweredError:
            raise
        except TimeoutError:
            raise _UnansweredError(_NO_ANSWER) from None
        except (OSError, http.client.HTTPException) as error:
            raise _UnansweredError(
                f"the connection broke before a complete answer ({type(error).__name__}); Slack may have posted it"
            ) from None
    finally:
        connection.close()
    if not 200 <= answer.status < 300:
        raise HTTPError(redact(url), answer.status, answer.reason, answer.msg, io.BytesIO(body))
    charset = answer.msg.get_content_charset() or "utf-8"
    return WebhookResponse(
        url=url, status_code=answer.status, body=body.decode(charset, "replace"), headers=dict(answer.msg.items())
    )


class _DeadlineWebhookClient(WebhookClient):
    """slack_sdk's client (its retry loop and handlers), with each attempt's HTTP exchange bounded by the budget.

    ``_perform_http_request_internal`` is slack_sdk's one-attempt step (urllib there): overriding it is the only place
    a whole-answer deadline fits. The drip-feeding server tests fail if slack_sdk ever stops calling it.
    """

    def __init__(self, url: str, budget: _Budget, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._budget = budget

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        return _exchange(
            url,
            req,
            deadline=self._budget.attempt_deadline(),
            clock=self._budget.clock,
            context=self.ssl,
            proxy=self.proxy,
        )


# -- retry handlers -------------------------------------------------------------------------------------------


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

    def prepare_for_next_attempt(self, *, state: RetryState, **_: object) -> None:
        """The SDK's hook (also given the request, response and error: not needed to wait)."""
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

    def _can_retry(self, *, state: RetryState, response: HttpResponse | None = None, **_: object) -> bool:
        return response is not None and response.status_code in RETRYABLE_STATUSES and self._fits(state)


class _ConnectionRetry(_BackoffMixin, ConnectionErrorRetryHandler):
    """Not sent: retry within the bounds. Sent but unanswered: retry only if the invocation's one such retry is left."""

    def __init__(self, budget: _Budget) -> None:
        ConnectionErrorRetryHandler.__init__(
            self, max_retry_count=budget.policy.max_retries, error_types=[_NotSentError, _UnansweredError]
        )
        self.budget = budget

    def _can_retry(
        self, *, state: RetryState, response: HttpResponse | None = None, error: Exception | None = None, **_: object
    ) -> bool:
        if response is not None or error is None:
            return False
        if isinstance(error, _NotSentError):
            return self._fits(state)
        if isinstance(error, _UnansweredError) and self.budget.limits.unanswered_retries > 0 and self._fits(state):
            self.budget.limits.unanswered_retries -= 1
            return True
        return False


def _sendable(url: str) -> str | None:
    """Why ``url`` cannot be posted to at all (without repeating it), or None."""
    if has_unsafe_characters(url):
        return "the webhook URL has whitespace, control or non-ASCII characters; fix the secret"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook URL is not an http(s) URL; fix the secret"
    return None


def post_message(
    url: str,
    message: dict[str, Any],
    *,
    channel: str,
    remaining_ms: Callable[[], int],
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    limits: InvocationLimits | None = None,
) -> PostResult:
    """Post ``message`` to the webhook ``url``; return on ``ok``, raise ``SlackError`` otherwise.

    ``remaining_ms`` is the Lambda context's ``get_remaining_time_in_millis``: every attempt must end before it runs
    out. ``limits`` is shared by the posts of one invocation (a fresh one when not given: one post on its own).
    """
    policy = policy or RetryPolicy()
    problem = _sendable(url)
    if problem is not None:
        raise SlackPermanentError(channel, problem, attempts=0)
    start = clock()
    deadline = min(start + remaining_ms() / 1000 - policy.reserve_seconds, start + policy.post_timeout_seconds)
    if deadline <= clock():
        raise SlackTransientError(channel, "no time left in this invocation to post", attempts=0)
    budget = _Budget(policy=policy, deadline=deadline, clock=clock, sleep=sleep, limits=limits or InvocationLimits())
    client = _DeadlineWebhookClient(
        url,
        budget,
        # slack_sdk keeps the value only to hand it to urllib, which our transport replaces.
        timeout=cast(int, policy.attempt_timeout_seconds),
        logger=SDK_LOGGER,
        retry_handlers=[_RateLimitRetry(budget), _ServerErrorRetry(budget), _ConnectionRetry(budget)],
    )
    try:
        response = client.send_dict(message)
    except (_NotSentError, _UnansweredError) as error:  # left after the retries that fitted
        raise SlackTransientError(channel, str(error), attempts=len(budget.waits) + 1) from None
    except Exception as error:  # anything else slack_sdk raised (never with the URL: SlackError redacts)
        reason = f"{type(error).__name__}: {error}"
        raise SlackTransientError(channel, reason, attempts=len(budget.waits) + 1) from None
    attempts = len(budget.waits) + 1
    body = (response.body or "").strip()
    if response.status_code == 200 and body == "ok":
        return PostResult(channel=channel, status=200, attempts=attempts, waited_seconds=sum(budget.waits))
    # Slack's error strings are short identifiers; cut anything longer (an HTML error page from a proxy).
    reason = body[:200] or "(empty answer)"
    if response.status_code == 429 or response.status_code >= 500:
        raise SlackTransientError(channel, reason, response.status_code, attempts=attempts)
    raise SlackPermanentError(channel, reason, response.status_code, attempts=attempts)
