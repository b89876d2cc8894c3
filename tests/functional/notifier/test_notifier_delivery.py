"""The notifier handler end to end in-process: SNS envelope -> moto (table, secret) -> local Slack stand-in."""

from __future__ import annotations

import json

import boto3
import pytest
from costwarden.demo.slack_standin import StandInResponse
from costwarden.handlers import notifier
from costwarden.models.alert import Severity
from costwarden.notifier.blocks import MAX_BLOCKS, MAX_FIELD_CHARS, MAX_FIELDS, MAX_HEADER_CHARS, MAX_SECTION_CHARS
from costwarden.notifier.delivery import DeliveryError
from costwarden.notifier.routing import WebhookAllowance
from costwarden.notifier.slack import RetryPolicy, SlackPermanentError, SlackTransientError

from tests.functional.notifier.support import (
    PATHS,
    SECRET,
    TABLE,
    DripServer,
    NotifierWorld,
    SteppingClock,
    make_event,
    sns_event,
)


def _accepted_paths(world: NotifierWorld) -> list[str]:
    return [request.path for request in world.slack.accepted()]


# -- routing --------------------------------------------------------------------------------------------------


def test_team_with_its_own_webhook_gets_the_alert_there_only(world: NotifierWorld) -> None:
    result = world.invoke(sns_event(make_event(team="vision", severity=Severity.WARNING)))

    assert _accepted_paths(world) == [PATHS["team:vision"]]
    assert result["results"][0]["posted"] == ["team:vision"]
    message = world.slack.accepted()[0].body
    assert message is not None
    assert message["blocks"][0]["type"] == "header"
    assert "vision: spend 1.7x its baseline" in message["blocks"][0]["text"]["text"]


def test_team_without_a_webhook_falls_back_to_default(world: NotifierWorld) -> None:
    world.invoke(sns_event(make_event(team="speech", dedup_key="cost_anomaly#speech#2026-11-25")))

    assert _accepted_paths(world) == [PATHS["default"]]


def test_critical_alert_also_goes_to_oncall(world: NotifierWorld) -> None:
    result = world.invoke(sns_event(make_event(severity=Severity.CRITICAL)))

    assert _accepted_paths(world) == [PATHS["team:vision"], PATHS["oncall"]]
    assert result["results"][0]["posted"] == ["team:vision", "oncall"]
    vision, oncall = world.slack.accepted()
    assert vision.body == oncall.body


def test_bad_secret_shape_fails_with_a_clear_error_that_names_no_url(world: NotifierWorld) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    bad = {"default": world.url("default"), "team": {"vision": world.url("team:vision")}}  # "team" is a typo
    secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps(bad))

    with pytest.raises(ValueError, match=r"keys\[1\] is not a known key") as caught:
        world.invoke(sns_event(make_event()))

    assert "127.0.0.1" not in str(caught.value)
    assert world.slack.received == []


# -- retries --------------------------------------------------------------------------------------------------


def test_429_is_retried_after_retry_after(world: NotifierWorld) -> None:
    world.slack.script(PATHS["team:vision"], StandInResponse.rate_limited(retry_after=3))

    world.invoke(sns_event(make_event()))

    assert [r.status for r in world.slack.posts_to(PATHS["team:vision"])] == [429, 200]
    assert len(world.sleeps.waits) == 1
    assert 3.0 <= world.sleeps.waits[0] <= 4.0  # Retry-After plus at most 1 s of jitter


def test_server_error_then_success(world: NotifierWorld) -> None:
    world.slack.script(PATHS["team:vision"], StandInResponse.server_error(500), StandInResponse.server_error(503))

    result = world.invoke(sns_event(make_event()))

    assert [r.status for r in world.slack.posts_to(PATHS["team:vision"])] == [500, 503, 200]
    assert len(world.sleeps.waits) == 2
    assert result["results"][0]["posted"] == ["team:vision"]


def test_timeout_is_retried(world: NotifierWorld) -> None:
    # The attempt timeout is 1.5 s in these tests; the stand-in answers the first POST after 3 s.
    world.slack.script(PATHS["team:vision"], StandInResponse.slow(3.0))

    result = world.invoke(sns_event(make_event()))

    assert len(world.slack.posts_to(PATHS["team:vision"])) == 2
    assert len(world.sleeps.waits) == 1
    assert result["results"][0]["posted"] == ["team:vision"]


def test_retries_stop_when_the_invocation_runs_out_of_time(world: NotifierWorld) -> None:
    # 3 s left: one attempt (1.5 s) plus the 1 s reserve fits, a retry after Retry-After: 30 does not.
    world.slack.script(PATHS["team:vision"], StandInResponse.rate_limited(retry_after=30))

    with pytest.raises(DeliveryError) as caught:
        world.invoke(sns_event(make_event()), timeout_ms=3_000)

    assert len(world.slack.posts_to(PATHS["team:vision"])) == 1
    assert world.sleeps.waits == []
    (failure,) = caught.value.report.failed
    assert isinstance(failure, SlackTransientError)
    assert failure.status == 429


def test_persistent_server_errors_give_up_after_the_retry_bound(world: NotifierWorld) -> None:
    world.slack.script(PATHS["team:vision"], *[StandInResponse.server_error(500)] * 20)

    with pytest.raises(DeliveryError) as caught:
        world.invoke(sns_event(make_event()))

    attempts = len(world.slack.posts_to(PATHS["team:vision"]))
    assert attempts == 1 + 4  # RetryPolicy.max_retries
    assert not caught.value.permanent


# -- permanent errors go to the DLQ (the invocation raises), never silently dropped -----------------------------


@pytest.mark.parametrize("error", ["invalid_payload", "channel_not_found", "channel_is_archived", "action_prohibited"])
def test_permanent_error_raises_without_retrying(
    world: NotifierWorld, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    world.slack.script(PATHS["team:vision"], StandInResponse.error(error))

    with pytest.raises(DeliveryError) as caught:
        world.invoke(sns_event(make_event()))

    assert len(world.slack.posts_to(PATHS["team:vision"])) == 1
    assert world.sleeps.waits == []
    assert caught.value.permanent
    (failure,) = caught.value.report.failed
    assert isinstance(failure, SlackPermanentError)
    assert failure.reason == error
    assert failure.channel == "team:vision"
    assert error in str(caught.value)


def test_failed_delivery_is_not_remembered_as_done(world: NotifierWorld) -> None:
    """After a failure, Lambda's retry (or a DLQ redrive) must post again, not be swallowed as a duplicate."""
    event = sns_event(make_event())
    world.slack.script(PATHS["team:vision"], StandInResponse.error("invalid_payload"))
    with pytest.raises(DeliveryError):
        world.invoke(event)

    result = world.invoke(event)

    assert result["results"][0]["posted"] == ["team:vision"]
    assert result["results"][0]["duplicate"] is False
    assert [r.status for r in world.slack.posts_to(PATHS["team:vision"])] == [400, 200]


# -- idempotency ----------------------------------------------------------------------------------------------


def test_same_sns_message_delivered_twice_posts_once(world: NotifierWorld) -> None:
    event = sns_event(make_event(severity=Severity.CRITICAL))

    first = world.invoke(event)
    second = world.invoke(event)

    assert _accepted_paths(world) == [PATHS["team:vision"], PATHS["oncall"]]
    assert first["results"][0]["duplicate"] is False
    assert second["results"][0]["duplicate"] is True
    assert second["results"][0]["posted"] == ["team:vision", "oncall"]  # the first delivery's result


def test_same_dedup_key_in_a_new_sns_message_posts_once(world: NotifierWorld) -> None:
    world.invoke(sns_event(make_event(), message_id="11111111-1111-1111-1111-111111111111"))
    world.invoke(sns_event(make_event(), message_id="22222222-2222-2222-2222-222222222222"))

    assert len(world.slack.accepted()) == 1


def test_idempotency_record_lives_in_the_state_table(world: NotifierWorld) -> None:
    world.invoke(sns_event(make_event()))

    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]
    idempotency = [item for item in items if item["pk"]["S"].startswith("idempotency#")]
    assert len(idempotency) == 1
    assert idempotency[0]["status"]["S"] == "COMPLETED"
    assert int(idempotency[0]["expiration"]["N"]) > 0


def test_partial_failure_retry_posts_only_to_the_channel_that_failed(world: NotifierWorld) -> None:
    event = sns_event(make_event(severity=Severity.CRITICAL))
    world.slack.script(PATHS["oncall"], StandInResponse.error("channel_is_archived"))

    with pytest.raises(DeliveryError) as caught:
        world.invoke(event)
    assert caught.value.report.posted == ["team:vision"]

    retry = world.invoke(event)  # Lambda's retry of the same record, after on-call was fixed

    assert retry["results"][0]["posted"] == ["oncall"]
    assert retry["results"][0]["skipped_already_posted"] == ["team:vision"]
    assert _accepted_paths(world) == [PATHS["team:vision"], PATHS["oncall"]]


# -- Block Kit limits -----------------------------------------------------------------------------------------


def test_oversized_event_respects_block_kit_limits(world: NotifierWorld) -> None:
    event = make_event(
        title="GPU fleet " * 40,
        summary="x" * 5_000,
        details={
            "figures": {f"Figure {n}": "9" * 2_500 for n in range(35)},
            "items": [f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x} expired" for n in range(2_000)],
        },
    )

    world.invoke(sns_event(event))

    (request,) = world.slack.accepted(PATHS["team:vision"])  # the stand-in rejects what Slack would reject
    message = request.body
    assert message is not None
    blocks = message["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= MAX_HEADER_CHARS
    assert len(message["text"]) <= 4_000
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= MAX_SECTION_CHARS
            assert len(block.get("fields", [])) <= MAX_FIELDS
            assert all(len(f["text"]) <= MAX_FIELD_CHARS for f in block.get("fields", []))
    assert blocks[-1]["type"] == "context"  # kept when the blocks are cut; the dedup key travels in the metadata
    assert message["metadata"]["event_payload"]["dedup_key"] == "cost_anomaly#vision#2026-11-25"


# -- slow Slack stays bounded ---------------------------------------------------------------------------------


def test_drip_feeding_slack_gets_at_most_one_retry_per_invocation(
    world: NotifierWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Team channel and on-call both drip: three requests in all (one retry), then the record is left to Lambda."""
    with DripServer(max_connections=10) as drip:
        secret = {**world.secret, "oncall": drip.url(PATHS["oncall"]), "teams": {"vision": drip.url("/vision")}}
        boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
            SecretId=SECRET, SecretString=json.dumps(secret)
        )
        notifier.reset_caches()
        monkeypatch.setattr(
            notifier, "webhook_allowance", WebhookAllowance.loopback(world.slack.base_url, drip.base_url)
        )
        monkeypatch.setattr(notifier, "clock", SteppingClock())
        monkeypatch.setattr(
            notifier,
            "retry_policy",
            RetryPolicy(attempt_timeout_seconds=5.0, post_timeout_seconds=20.0, reserve_seconds=1.0),
        )

        with pytest.raises(DeliveryError) as caught:
            world.invoke(sns_event(make_event(severity=Severity.CRITICAL)))
        requests = drip.requests

    assert requests == 3
    assert [failure.channel for failure in caught.value.report.failed] == ["team:vision", "oncall"]
    assert all("deadline" in failure.reason for failure in caught.value.report.failed)
    assert not caught.value.permanent
