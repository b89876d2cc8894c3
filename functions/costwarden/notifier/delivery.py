"""One alert to every channel it is routed to, at most once per channel.

Whole-message duplicates (SNS delivering the same message twice) are stopped before this runs, by Powertools
idempotency in the handler. This module handles the other half: an alert routed to several channels where one
post fails. Every channel is tried; each success is recorded in the state table (pk ``dedup#slack#<dedup_key>``,
sk = channel name); then, if any channel failed, ``DeliveryError`` is raised so the invocation fails and the record
is retried (and finally dead-lettered). A retry skips the channels already recorded, so the team that already got
the message does not get it again while on-call is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from costwarden.models.alert import AlertEvent
from costwarden.models.ports import StateStore
from costwarden.notifier.blocks import render_message
from costwarden.notifier.routing import Route
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "dedup_key": self.dedup_key,
            "posted": self.posted,
            "skipped_already_posted": self.skipped,
            "failed": [{"channel": e.channel, "reason": e.reason, "status": e.status} for e in self.failed],
        }


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
) -> DeliveryReport:
    """Post ``event`` to each route not yet recorded as delivered; raise ``DeliveryError`` if any failed.

    ``extra_blocks(event, channel)``: blocks appended per route (the Slack app's buttons, which name the channel
    they were sent to); None without the app."""
    message = render_message(event)
    pk = delivered_pk(event.dedup_key)
    already = {str(item["sk"]) for item in store.query(pk)}
    report = DeliveryReport(dedup_key=event.dedup_key)
    for route in routes:
        if route.channel in already:
            report.skipped.append(route.channel)
            log.info("already posted to this channel; skipped", extra={"channel": route.channel})
            continue
        try:
            extra = extra_blocks(event, route.channel) if extra_blocks is not None else []
            result = post(route, {**message, "blocks": [*message["blocks"], *extra]} if extra else message)
        except SlackError as error:
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
        store.put(
            pk,
            route.channel,
            {"posted_at": datetime.now(UTC).isoformat(), "attempts": result.attempts, "kind": event.kind.value},
            ttl_days=DELIVERED_TTL_DAYS,
        )
        report.posted.append(route.channel)
        log.info(
            "posted to slack",
            extra={"channel": route.channel, "attempts": result.attempts, "dedup_key": event.dedup_key},
        )
    if report.failed:
        raise DeliveryError(report)
    return report
