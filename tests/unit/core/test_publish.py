"""``core.publish.send_once``: claim → publish → complete, on the in-memory store, at every crash point.

A "crash" is simulated by a publisher (or a store) that raises where a dying Lambda would stop; the next call is
the next run. The same protocol runs on DynamoDB in tests/functional/core/test_publish_dynamo.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from costwarden.adapters.state import TTL_ATTRIBUTE, MemoryStateStore
from costwarden.core.publish import LEASE, Outcome, send_once, send_once_each
from costwarden.models.ports import LEASE_ATTRIBUTE

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
KEY = ("dedup#test", "week-49")


class CrashError(Exception):
    """Where the process would die."""


class Outbox:
    """A publisher that records what it sent, or raises ``fail`` instead."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def __call__(self, event: str) -> str:
        if self.fail is not None:
            raise self.fail
        self.sent.append(event)
        return "message-id"


def once(store: MemoryStateStore, outbox: Outbox, now: datetime = NOW, **kwargs: Any) -> Any:
    return send_once("alert", key=KEY, store=store, publish=outbox, ttl_days=21, now=now, **kwargs)


def test_first_call_publishes_and_completes_with_the_long_ttl() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    result = once(store, outbox, record={"dedup_key": "k", "at": "t"})
    assert result.outcome is Outcome.SENT and result.sent and result.event == "alert"
    assert outbox.sent == ["alert"]
    item = store.get(*KEY)
    assert item is not None
    assert LEASE_ATTRIBUTE not in item and "status" not in item  # complete: the caller's record only
    assert (item["dedup_key"], item["at"]) == ("k", "t")
    assert item[TTL_ATTRIBUTE] > datetime.now(UTC).timestamp() + 20 * 86_400


def test_default_record_says_when_it_was_sent() -> None:
    store = MemoryStateStore()
    once(store, Outbox())
    assert store.get(*KEY)["sent_at"] == NOW.isoformat()  # type: ignore[index]


def test_already_complete_is_skipped_for_the_whole_ttl() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    once(store, outbox)
    later = once(store, outbox, now=NOW + timedelta(days=20))
    assert later.outcome is Outcome.ALREADY_SENT and not later.sent and later.event is None
    assert outbox.sent == ["alert"]


def test_a_marker_written_before_the_protocol_counts_as_complete() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    store.put(*KEY, {"sent_at": "2026-12-01T00:00:00+00:00"}, ttl_days=21)  # the old put_if_absent marker
    assert once(store, outbox).outcome is Outcome.ALREADY_SENT
    assert outbox.sent == []


def test_crash_before_the_claim_leaves_nothing_behind() -> None:
    store, outbox = MemoryStateStore(), Outbox()

    def dying_claim(*_args: Any, **_kwargs: Any) -> bool:
        raise CrashError

    store.claim = dying_claim  # type: ignore[method-assign]
    with pytest.raises(CrashError):
        once(store, outbox)
    assert store.items == {} and outbox.sent == []
    del store.claim  # the next run, a healthy process
    assert once(store, outbox).sent
    assert outbox.sent == ["alert"]


def test_publish_failure_releases_the_claim_so_the_next_run_sends() -> None:
    store = MemoryStateStore()
    failed = once(store, Outbox(fail=RuntimeError("SNS throttled")))
    assert failed.outcome is Outcome.FAILED and not failed.sent
    assert isinstance(failed.error, RuntimeError) and str(failed.error) == "SNS throttled"
    assert failed.event == "alert"
    assert store.get(*KEY) is None
    outbox = Outbox()
    assert once(store, outbox, now=NOW + timedelta(minutes=1)).sent
    assert outbox.sent == ["alert"]


def test_crash_after_claim_before_publish_delays_the_alert_by_the_lease_only() -> None:
    store = MemoryStateStore()
    with pytest.raises(BaseException, match="killed"):  # not an Exception: the process dies, nothing is released
        once(store, Outbox(fail=KeyboardInterrupt("killed")))  # type: ignore[arg-type]
    claim = store.get(*KEY)
    assert claim is not None and claim["status"] == "in_progress"
    assert claim[LEASE_ATTRIBUTE] == (NOW + LEASE).timestamp()
    outbox = Outbox()
    within = once(store, outbox, now=NOW + LEASE - timedelta(seconds=1))
    assert within.outcome is Outcome.IN_PROGRESS and outbox.sent == []  # a live claim is never taken over
    after = once(store, outbox, now=NOW + LEASE + timedelta(seconds=1))
    assert after.sent and outbox.sent == ["alert"]  # re-claimed: lost for the lease, not for 21 days
    assert LEASE_ATTRIBUTE not in store.get(*KEY)  # type: ignore[operator]


def test_crash_after_publish_before_complete_repeats_once_after_the_lease() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    real_put = store.put

    def dying_put(pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> None:
        if LEASE_ATTRIBUTE not in data:  # the claim is written; the process dies before the complete record
            raise CrashError
        real_put(pk, sk, data, ttl_days)

    store.put = dying_put  # type: ignore[method-assign]
    with pytest.raises(CrashError):
        once(store, outbox)
    assert outbox.sent == ["alert"]
    store.put = real_put  # type: ignore[method-assign]
    assert once(store, outbox, now=NOW + timedelta(minutes=5)).outcome is Outcome.IN_PROGRESS
    assert once(store, outbox, now=NOW + LEASE + timedelta(minutes=1)).sent
    assert outbox.sent == ["alert", "alert"]  # the documented duplicate, once
    assert once(store, outbox, now=NOW + timedelta(days=1)).outcome is Outcome.ALREADY_SENT


def test_crash_after_complete_changes_nothing() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    assert once(store, outbox).sent
    assert once(store, outbox, now=NOW + LEASE * 4).outcome is Outcome.ALREADY_SENT
    assert outbox.sent == ["alert"]


def test_always_publishes_but_touches_only_a_record_it_claimed() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    once(store, outbox)
    before = store.get(*KEY)
    assert once(store, outbox, always=True).sent
    assert outbox.sent == ["alert", "alert"]
    assert store.get(*KEY) == before
    failed = once(store, Outbox(fail=RuntimeError("down")), always=True)
    assert failed.outcome is Outcome.FAILED and store.get(*KEY) == before  # a complete record is never released


def test_a_failing_builder_releases_its_claims() -> None:
    store = MemoryStateStore()

    def broken(_items: list[str]) -> str:
        raise ValueError("bad alert")

    with pytest.raises(ValueError, match="bad alert"):
        send_once_each(["a"], key=lambda i: ("p", i), build=broken, store=store, publish=Outbox(), ttl_days=1, now=NOW)
    assert store.items == {}


def each(store: MemoryStateStore, items: list[str], outbox: Outbox, now: datetime = NOW) -> Any:
    return send_once_each(
        items,
        key=lambda item: (f"dedup#v#{item}", "bad"),
        build=",".join,
        store=store,
        publish=outbox,
        ttl_days=90,
        now=now,
    )


def test_each_names_only_the_items_not_sent_before() -> None:
    store, outbox = MemoryStateStore(), Outbox()
    assert each(store, ["a", "b"], outbox).claimed == ["a", "b"]
    result = each(store, ["a", "b", "c", "c"], outbox)
    assert result.sent and result.claimed == ["c"]  # a repeated item is claimed once
    assert outbox.sent == ["a,b", "c"]
    assert each(store, ["a", "c"], outbox).outcome is Outcome.ALREADY_SENT


def test_each_releases_every_claim_when_publishing_fails() -> None:
    store = MemoryStateStore()
    assert each(store, ["a", "b"], Outbox(fail=RuntimeError("down"))).outcome is Outcome.FAILED
    assert store.items == {}
    outbox = Outbox()
    assert each(store, ["b", "a"], outbox).sent
    assert outbox.sent == ["b,a"]
