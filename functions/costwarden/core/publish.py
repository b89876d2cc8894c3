"""Publish once: the one protocol by which every capability sends an alert at most once per dedup record.

Claim, publish, complete (the Powertools idempotency protocol, docs/architecture.md "Publish once"):

1. **claim** the record ``(pk, sk)`` with one conditional write: an in-progress item carrying a short lease
   (``LEASE_ATTRIBUTE``, epoch seconds). It succeeds when no item is there, or when the item is a claim whose lease
   ended (its holder crashed between claim and complete). A complete record, or a live claim, makes it fail.
2. **publish** the event.
3. **complete**: overwrite the claim with the caller's record (no lease) and the caller's long TTL. If publishing
   raised, **release** instead: delete the claim, so the next run tries again.

A crash after the claim therefore delays the alert by the lease at most (never by the whole TTL, as a bare
``put_if_absent`` marker did), and a crash after publishing repeats it at most once, after the lease (never on
every run, as "publish, then remember" did). The lease is longer than a Lambda can live (15 minutes), so a claim
whose holder is still running is never taken over.

``send_once`` is the whole protocol; ``send_once_each`` is the same protocol over several records that make one
event (the reaper's tag violations: one alert per team naming only the violations not reported before).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NotRequired, TypedDict, Unpack

from costwarden.models.ports import LEASE_ATTRIBUTE, StateStore

#: ``(pk, sk)`` of a dedup record in the state table.
StoreKey = tuple[str, str]
#: How long an in-progress claim holds: longer than a Lambda invocation can run (15 minutes), so only a dead holder
#: loses its claim; short against every caller's schedule (hourly at the most often), so the next run re-claims.
LEASE = timedelta(minutes=15)
#: What a complete record holds: fixed data, a function of what the publisher returned, or None (``sent_at``).
Record = Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None
#: The status field of an in-progress claim (a complete record carries the caller's data only).
IN_PROGRESS = "in_progress"


class Outcome(StrEnum):
    SENT = "sent"
    """Published by this call (and the records completed)."""
    ALREADY_SENT = "already_sent"
    """Every record is complete: sent before, within its TTL. Nothing published."""
    IN_PROGRESS = "in_progress"
    """Another run holds a live claim on a record (and none was claimed here). Nothing published."""
    FAILED = "failed"
    """The publisher raised: the claims were released, ``error`` says why."""


@dataclass(frozen=True)
class Sent[T, I]:
    """What one ``send_once`` / ``send_once_each`` call did."""

    outcome: Outcome
    event: T | None = None
    """The event published (or attempted); None when nothing was due."""
    error: Exception | None = None
    claimed: list[I] = field(default_factory=list)
    """The items whose records this call claimed (``send_once_each``)."""
    returned: object = None
    """What the publisher returned (SNS's message id, a Slack post's result)."""

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


class Once[T](TypedDict):
    """The protocol's options, declared once for ``send_once`` and ``send_once_each`` (the first forwards them)."""

    store: StateStore
    """Where the records are claimed, completed and released."""
    publish: Callable[[T], object]
    """Sends the event (its return value is what ``record`` may read)."""
    ttl_days: float
    """How long a complete record is kept: the caller's dedup window."""
    now: datetime
    """The run's clock (the claim's lease and ``sent_at`` are dated by it)."""
    record: NotRequired[Record]
    """What the complete record holds (default ``{"sent_at": now}``), or a function of what the publisher returned
    (the notifier records a post's attempts)."""
    always: NotRequired[bool]
    """Publish even when the record is complete or held (an action taken is always told), touching the record only
    when this call claimed it. Default False."""
    lease: NotRequired[timedelta]
    """How long a claim holds (default ``LEASE``; the notifier passes the invocation's remaining time)."""


def send_once[T](event: T, *, key: StoreKey, **once: Unpack[Once[T]]) -> Sent[T, StoreKey]:
    """Publish ``event`` unless the record ``key`` says it was already sent; see the module docstring and ``Once``."""
    return send_once_each([key], key=_same, build=lambda _claimed: event, **once)


def _same(key: StoreKey) -> StoreKey:
    return key


def send_once_each[T, I](
    items: Sequence[I], *, key: Callable[[I], StoreKey], build: Callable[[list[I]], T], **once: Unpack[Once[T]]
) -> Sent[T, I]:
    """Claim each item's record, publish ONE event built from the items claimed (``build``), then complete every
    claim, or release every claim if publishing fails. Nothing claimed (and not ``always``): nothing published."""
    store, now, record = once["store"], once["now"], once.get("record")
    claims = _Claims(store, now, once.get("lease", LEASE))
    claimed: list[I] = []
    held = False
    for item in items:
        refused = claims.take(key(item))
        if refused is None:
            claimed.append(item)
        held = held or refused is Outcome.IN_PROGRESS
    if not claimed and not once.get("always", False):
        return Sent(Outcome.IN_PROGRESS if held else Outcome.ALREADY_SENT)
    try:
        event = build(claimed or list(items))
    except BaseException:  # a bug in the caller's builder: the claims go, the error stays the caller's
        _release(store, key, claimed)
        raise
    try:
        returned = once["publish"](event)
    except Exception as error:  # the caller records it; the claims go, so the next run tries again
        _release(store, key, claimed)
        return Sent(Outcome.FAILED, event, error, claimed)
    if record is None:
        done: dict[str, Any] = {"sent_at": now.isoformat()}
    else:
        done = dict(record(returned) if callable(record) else record)
    for item in claimed:
        store.put(*key(item), done, ttl_days=once["ttl_days"])
    return Sent(Outcome.SENT, event, None, claimed, returned)


def _release[I](store: StateStore, key: Callable[[I], StoreKey], claimed: Sequence[I]) -> None:
    for item in claimed:
        store.delete(*key(item))


@dataclass
class _Claims:
    store: StateStore
    now: datetime
    lease: timedelta

    def take(self, key: StoreKey) -> Outcome | None:
        """None when this call now holds the claim; else why not: the record is complete (ALREADY_SENT) or another
        run holds a live claim (IN_PROGRESS)."""
        pk, sk = key
        data = {
            "status": IN_PROGRESS,
            "claimed_at": self.now.isoformat(),
            LEASE_ATTRIBUTE: (self.now + self.lease).timestamp(),
        }
        # The claim lives as long as the lease matters; DynamoDB's TTL sweep is lazy, the lease test is not.
        if self.store.claim(pk, sk, data, now=self.now.timestamp(), ttl_days=_days(self.lease) + 1):
            return None
        held = self.store.get(pk, sk)
        return Outcome.IN_PROGRESS if held is None or LEASE_ATTRIBUTE in held else Outcome.ALREADY_SENT


def _days(span: timedelta) -> float:
    return span.total_seconds() / 86_400
