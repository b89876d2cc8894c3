"""The notifier's per-channel records go through ``core.publish.send_once``: a channel already posted is skipped,
a failed post is released for Lambda's retry, a channel claimed by a live invocation is left to it, and a claim
left by an invocation that died is taken over once its lease (the invocation's remaining time) has passed."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.models.ports import LEASE_ATTRIBUTE
from costwarden.notifier.delivery import DeliveryError, deliver, delivered_pk
from costwarden.notifier.routing import Route
from costwarden.notifier.slack import PostResult, SlackPermanentError

from tests.support.alerts import alert_event

EVENT = alert_event(summary="vision spent more than usual.", details={}, dedup_key="cost#vision|#2026-11-25#warning")
ROUTES = [Route("team:vision", "https://hooks.slack.com/services/T/B/vision"), Route("oncall", "https://x/oncall")]
LOG = logging.getLogger("test.delivery")


class Slack:
    def __init__(self, failing: set[str] | None = None, raising: Exception | None = None) -> None:
        self.posted: list[str] = []
        self.failing = failing or set()
        self.raising = raising

    def __call__(self, route: Route, _message: dict[str, Any]) -> PostResult:
        if self.raising is not None:
            raise self.raising
        if route.channel in self.failing:
            raise SlackPermanentError(route.channel, "channel_is_archived", status=404)
        self.posted.append(route.channel)
        return PostResult(route.channel, 200, attempts=2, waited_seconds=0.0)


def test_posted_channels_are_recorded_and_skipped_on_the_retry() -> None:
    store, slack = MemoryStateStore(), Slack(failing={"oncall"})
    with pytest.raises(DeliveryError) as caught:
        deliver(EVENT, ROUTES, post=slack, store=store, log=LOG)
    assert caught.value.report.posted == ["team:vision"]
    record = store.get(delivered_pk(EVENT.dedup_key), "team:vision")
    assert record is not None and record["attempts"] == 2 and record["kind"] == "cost_anomaly"
    assert LEASE_ATTRIBUTE not in record
    assert store.get(delivered_pk(EVENT.dedup_key), "oncall") is None  # released for the retry
    retry = Slack()
    report = deliver(EVENT, ROUTES, post=retry, store=store, log=LOG)
    assert (report.posted, report.skipped, retry.posted) == (["oncall"], ["team:vision"], ["oncall"])


def test_a_live_claim_is_left_to_its_invocation_and_a_dead_one_is_taken_over() -> None:
    store = MemoryStateStore()
    pk = delivered_pk(EVENT.dedup_key)
    store.put(pk, "oncall", {"status": "in_progress", LEASE_ATTRIBUTE: time.time() + 600})
    live = deliver(EVENT, ROUTES, post=(slack := Slack()), store=store, log=LOG, lease=timedelta(seconds=60))
    assert (live.posted, live.skipped, slack.posted) == (["team:vision"], ["oncall"], ["team:vision"])
    store.put(pk, "oncall", {"status": "in_progress", LEASE_ATTRIBUTE: time.time() - 1})  # its invocation died
    dead = deliver(EVENT, ROUTES, post=(slack := Slack()), store=store, log=LOG)
    assert (dead.posted, dead.skipped, slack.posted) == (["oncall"], ["team:vision"], ["oncall"])


def test_an_error_that_is_not_slack_propagates_and_leaves_no_claim() -> None:
    store = MemoryStateStore()
    with pytest.raises(ZeroDivisionError):
        deliver(EVENT, ROUTES, post=Slack(raising=ZeroDivisionError()), store=store, log=LOG)
    assert store.items == {}
