"""One alert to every channel it is routed to, at most once per channel.

Whole-message duplicates (SNS delivering the same message twice) are stopped before this runs, by Powertools
idempotency in the handler. This module handles the other half: an alert routed to several channels where one
post fails. Every channel is tried, each once through ``core.publish.send_once`` (record pk
``dedup#slack#<dedup_key>``, sk = channel name: claimed, posted, completed; released if the post fails); then, if
any channel failed, ``DeliveryError`` is raised so the invocation fails and the record is retried (and finally
dead-lettered). A retry skips the channels already recorded, so the team that already got
the message does not get it again while on-call is retried.

People (``notifier.people``, optional): a critical alert names its team's owners in the team's channel (the one
point where mentions enter a message: ``people.with_mentions`` on the posted message, whatever the kind's layout);
after the channels, the resource's person gets a direct message (``people.send_direct``, sk ``dm:<user>`` on the
same record). Neither ever raises nor delays the channel post beyond a cached lookup: what could not be done is
logged (``people problem``) and listed in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from costwarden.core.publish import LEASE, Outcome, send_once
from costwarden.models.alert import AlertEvent
from costwarden.models.ports import StateStore
from costwarden.notifier.blocks import render_message
from costwarden.notifier.people import People, mentions, send_direct, with_mentions
from costwarden.notifier.routing import ONCALL_CHANNEL, Route
from costwarden.notifier.slack import PostResult, SlackError, SlackPermanentError
from costwarden.redaction import redact

#: Per-channel delivery records outlive Lambda's retries (6 h) and a DLQ redrive a few days later.
DELIVERED_TTL_DAYS = 7


class _Log(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...

    def error(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


def delivered_pk(dedup_key: str) -> str:
    return f"dedup#slack#{dedup_key}"


@dataclass
class DeliveryReport:
    dedup_key: str
    posted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[SlackError] = field(default_factory=list)
    #: Slack user ids sent a direct message, and why others were not (``notifier.people``).
    direct_messages: list[str] = field(default_factory=list)
    people_skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "dedup_key": self.dedup_key,
            "posted": self.posted,
            "skipped_already_posted": self.skipped,
            "failed": [{"channel": e.channel, "reason": e.reason, "status": e.status} for e in self.failed],
        }
        if self.direct_messages or self.people_skipped:
            result |= {"direct_messages": self.direct_messages, "people_skipped": self.people_skipped}
        return result


class DeliveryError(Exception):
    """Some channels failed. Carries the report (channel names and Slack's answers, redacted, never URLs)."""

    def __init__(self, report: DeliveryReport) -> None:
        self.report = report
        self.permanent = all(isinstance(error, SlackPermanentError) for error in report.failed)
        failures = ", ".join(str(error) for error in report.failed)
        super().__init__(redact(f"alert {report.dedup_key!r} not delivered to every channel: {failures}"))


def deliver(
    event: AlertEvent,
    routes: list[Route],
    *,
    post: Callable[[Route, dict[str, Any]], PostResult],
    store: StateStore,
    log: _Log,
    extra_blocks: Callable[[AlertEvent, str], list[dict[str, Any]]] | None = None,
    lease: timedelta = LEASE,
    people: People | None = None,
) -> DeliveryReport:
    """Post ``event`` to each route not yet recorded as delivered (``core.publish.send_once`` per channel); raise
    ``DeliveryError`` if any failed.

    ``extra_blocks(event, channel)``: blocks appended per route (the Slack app's buttons, which name the channel
    they were sent to); None without the app. ``lease``: how long a channel's claim holds (the handler passes the
    invocation's remaining time, as Powertools does for its own record). ``people``: mentions and direct messages
    (``notifier.people``); None: channels only."""
    message = render_message(event)
    pk = delivered_pk(event.dedup_key)
    report = DeliveryReport(dedup_key=event.dedup_key)
    names = _mentions(event, people, log) if people is not None else ""

    def post_to(route: Route) -> PostResult:
        extra = extra_blocks(event, route.channel) if extra_blocks is not None else []
        full = {**message, "blocks": [*message["blocks"], *extra]} if extra else message
        return post(route, full if route.channel == ONCALL_CHANNEL else with_mentions(full, names))

    def record(result: PostResult) -> dict[str, Any]:
        return {"posted_at": datetime.now(UTC).isoformat(), "attempts": result.attempts, "kind": event.kind.value}

    for route in routes:
        once = send_once(
            route,
            key=(pk, route.channel),
            store=store,
            publish=post_to,
            ttl_days=DELIVERED_TTL_DAYS,
            now=datetime.now(UTC),
            record=record,
            lease=lease,
        )
        if once.outcome in (Outcome.ALREADY_SENT, Outcome.IN_PROGRESS):
            report.skipped.append(route.channel)
            note = "already posted" if once.outcome is Outcome.ALREADY_SENT else "being posted by another invocation"
            log.info(f"{note} to this channel; skipped", extra={"channel": route.channel})
            continue
        if once.error is not None:
            if not isinstance(once.error, SlackError):
                raise once.error  # not a Slack answer: a bug, not a delivery failure (the claim is released)
            error = once.error
            report.failed.append(error)
            log.error(
                "slack post failed",
                extra={
                    "channel": route.channel,
                    "status": error.status,
                    "slack_error": error.reason,
                    "permanent": isinstance(error, SlackPermanentError),
                    "attempts": error.attempts,
                    "dedup_key": event.dedup_key,
                },
            )
            continue
        report.posted.append(route.channel)
        attempts = once.returned.attempts if isinstance(once.returned, PostResult) else None
        log.info(
            "posted to slack", extra={"channel": route.channel, "attempts": attempts, "dedup_key": event.dedup_key}
        )
    if people is not None:
        try:
            _send_direct(event, people, report, lease=lease, log=log)
        except Exception as error:  # the state table or a bug in the people path: the channels have the alert
            log.error("people problem", extra={"problem": f"direct messages stopped: {type(error).__name__}"})
    if report.failed:
        raise DeliveryError(report)
    return report


def _mentions(event: AlertEvent, people: People, log: _Log) -> str:
    """The owners to name (``people.mentions``); ``""`` when even that failed (a state-table error on the lookup
    cache): the channel post goes out without them."""
    try:
        return mentions(event, people)
    except Exception as error:
        log.error("people problem", extra={"problem": f"mentions left out: {type(error).__name__}"})
        return ""


def _send_direct(event: AlertEvent, people: People, report: DeliveryReport, *, lease: timedelta, log: _Log) -> None:
    """The direct messages of ``event`` (after its channels), and every people problem of the invocation logged."""
    direct = send_direct(
        event, people, record_pk=delivered_pk(event.dedup_key), ttl_days=DELIVERED_TTL_DAYS, lease=lease
    )
    report.direct_messages.extend(direct.sent)
    report.people_skipped.extend(direct.skipped)
    for user in direct.sent:
        log.info("direct message sent", extra={"user": user, "dedup_key": event.dedup_key})
    for problem in dict.fromkeys([*people.problems, *direct.skipped]):
        log.info("people problem", extra={"problem": redact(problem), "dedup_key": event.dedup_key})
