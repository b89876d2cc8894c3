"""``hard_limit: auto`` on moto (issue 23 item 4): the critical alert arms one EventBridge Scheduler one-time
schedule and announces "enforced at HH:MM UTC unless someone presses Hold" with *Hold*; the schedule's invocation
of the Slack app's function enforces through the one action path unless held; *Hold* (on-call only) records who and
until when and deletes the schedule; *Lift* removes what the timer enforced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from costwarden.handlers import interact
from costwarden.handlers.context import LocalContext
from costwarden.interact.authz import ONCALL_ROUTE
from costwarden.interact.buttons import action_blocks
from costwarden.interact.hardlimit_timer import TIMER_EVENT_KEY, schedule_name
from costwarden.interact.payload import decode_button
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.services.hardlimit_timer import announce_hard_limit
from costwarden.settings import Settings, load_settings

from tests.functional.interact.world import SETTINGS, World

GROUP = "Costwarden-hard-limit"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:costwarden-interact"
SERIES = "nlp|"


@pytest.fixture
def auto(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The world with nlp on ``auto`` (2 h of grace) and the timer deployed (group, target, role)."""
    raw = {**SETTINGS, "budgets": {"hard_limit": {"nlp": "auto"}, "hard_limit_grace_hours": 2}}
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(raw))
    load_settings.cache_clear()
    boto3.client("scheduler", region_name="us-east-1").create_schedule_group(Name=GROUP)
    monkeypatch.setenv("HARD_LIMIT_TIMER_GROUP", GROUP)
    monkeypatch.setenv("HARD_LIMIT_TIMER_TARGET", FUNCTION)
    monkeypatch.setenv("HARD_LIMIT_TIMER_ROLE", "arn:aws:iam::123456789012:role/costwarden-timer")
    yield load_settings()


def _critical(day: str = "2026-12-07") -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.COST_ANOMALY,
        severity=Severity.CRITICAL,
        team="nlp",
        title="nlp at 3.1x",
        summary="s",
        dedup_key=f"cost#{SERIES}#{day}#critical",
    )


def _schedule() -> dict[str, Any]:
    return boto3.client("scheduler", region_name="us-east-1").get_schedule(Name=schedule_name("nlp"), GroupName=GROUP)


def _state(world: World, instance_id: str) -> str:
    described = world.ec2.describe_instances(InstanceIds=[instance_id])
    return str(described["Reservations"][0]["Instances"][0]["State"]["Name"])


def _fire() -> dict[str, Any]:
    """What Scheduler does at the schedule's time: invoke the target with the schedule's own Input."""
    payload = json.loads(_schedule()["Target"]["Input"])
    return interact.handler(payload, LocalContext(function_name="interact"))


def _timer_audit(world: World) -> list[dict[str, Any]]:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return list(world.state.query(f"audit#{today}", "hardlimit-timer#"))


def test_the_alert_arms_one_schedule_and_announces_its_time_with_hold(world: World, auto: Settings) -> None:
    now = datetime(2026, 12, 7, 9, 14, 30, tzinfo=UTC)
    event = announce_hard_limit(_critical(), auto, world.state, now=now)
    assert event.details["hard_limit"] == {"status": "armed", "at": "2026-12-07T11:15:00+00:00"}
    schedule = _schedule()
    assert schedule["ScheduleExpression"] == "at(2026-12-07T11:15:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC" and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == FUNCTION and schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert set(json.loads(schedule["Target"]["Input"])[TIMER_EVENT_KEY]) == {"team", "token"}
    notice, actions = action_blocks(event, ONCALL_ROUTE, auto)[-2:]
    assert "enforced at 11:15 UTC (2026-12-07) unless someone on-call presses *Hold*" in notice["elements"][0]["text"]
    assert [decode_button(e["value"]).action for e in actions["elements"]][-2:] == ["hold", "lift"]
    assert "enforce" not in [decode_button(e["value"]).action for e in actions["elements"]]
    # a second critical alert while armed: the same time, the same schedule
    again = announce_hard_limit(_critical("2026-12-08"), auto, world.state, now=now + timedelta(minutes=30))
    assert again.details["hard_limit"]["at"] == "2026-12-07T11:15:00+00:00"
    assert _schedule()["ScheduleExpression"] == "at(2026-12-07T11:15:00)"


def test_the_timer_enforces_unless_held_and_lift_removes_it(world: World, auto: Settings) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    dev, _ = world.instance(environment="development")
    prod, _ = world.instance(environment="production")
    announce_hard_limit(_critical(), auto, world.state)
    assert _fire()["status"] == "done"
    assert (_state(world, dev), _state(world, prod)) == ("stopped", "running")
    assert "costwarden-hard-limit" in iam.list_role_policies(RoleName="nlp-launcher")["PolicyNames"]
    [audit] = _timer_audit(world)
    assert (audit["who"], audit["status"], audit["target"]) == ("grace timer", "done", SERIES)
    assert "1 instance(s) stopped, deny-launch on 2 role(s)" in audit["reply"]
    assert _fire()["status"] == "ignored"  # at-least-once delivery: a second invocation does nothing
    world.press({"a": "lift", "t": "nlp", "c": "ml-nlp", "r": SERIES}, user="U0ONCALL1")
    assert iam.list_role_policies(RoleName="nlp-launcher")["PolicyNames"] == []
    assert "deny-launch removed from 2 role(s)" in world.replies()[-1]["text"]


def test_hold_records_who_and_until_when_deletes_the_schedule_and_the_timer_then_does_nothing(
    world: World, auto: Settings
) -> None:
    dev, _ = world.instance(environment="development")
    announce_hard_limit(_critical(), auto, world.state)
    payload = json.loads(_schedule()["Target"]["Input"])
    world.press({"a": "hold", "t": "nlp", "c": "ml-nlp", "r": SERIES}, user="U0ONCALL1")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        _schedule()
    item = world.state.get("hardlimit", "nlp")
    assert item is not None and item["held_by"] == "U0ONCALL1" and item["active"] is False
    held = datetime.fromisoformat(item["held_until"]) - datetime.fromisoformat(item["held_at"])
    assert held == timedelta(hours=24)
    assert "Hard limit held for nlp until" in world.replies()[-1]["text"]
    # the schedule was deleted; had it fired anyway (a delete that failed), the hold stops it
    assert interact.handler(payload, LocalContext(function_name="interact"))["status"] == "held"
    assert _state(world, dev) == "running"
    assert [a["status"] for a in _timer_audit(world)] == ["held"]
    # a new critical alert during the hold arms nothing and says who held it
    event = announce_hard_limit(_critical("2026-12-08"), auto, world.state)
    assert event.details["hard_limit"]["status"] == "held"
    with pytest.raises(ClientError, match="ResourceNotFound"):
        _schedule()
    notice = action_blocks(event, "ml-nlp", auto)[0]["elements"][0]["text"]
    assert notice.startswith("Hard limit held by <@U0ONCALL1> until")


def test_hold_is_on_call_only(world: World, auto: Settings) -> None:
    announce_hard_limit(_critical(), auto, world.state)
    world.press({"a": "hold", "t": "nlp", "c": "ml-nlp", "r": SERIES}, user="U0ALICE01")  # nlp's member, not on-call
    assert world.replies()[-1]["text"].startswith("Not yours")
    assert _schedule()["Name"] == schedule_name("nlp")  # still armed
    item = world.state.get("hardlimit", "nlp")
    assert item is not None and "held_by" not in item


def test_without_the_timer_deployed_the_alert_says_so_and_offers_enforce(
    world: World, auto: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARD_LIMIT_TIMER_ROLE")
    event = announce_hard_limit(_critical(), auto, world.state)
    assert event.details["hard_limit"] == {"status": "failed", "error": "the grace timer is not deployed"}
    notice, actions = action_blocks(event, ONCALL_ROUTE, auto)[-2:]
    assert "NOT armed" in notice["elements"][0]["text"]
    assert "enforce" in [decode_button(e["value"]).action for e in actions["elements"]]


def test_a_forged_timer_payload_does_nothing(world: World, auto: Settings) -> None:
    dev, _ = world.instance(environment="development")
    announce_hard_limit(_critical(), auto, world.state)
    forged = {TIMER_EVENT_KEY: {"team": "nlp", "token": "not-the-armed-one"}}
    assert interact.handler(forged, LocalContext(function_name="interact"))["status"] == "ignored"
    assert interact.handler({TIMER_EVENT_KEY: "nlp"}, LocalContext(function_name="interact"))["status"] == "ignored"
    assert _state(world, dev) == "running"
