"""The idle finder's Keep and Stop buttons on moto (issue 23), signed presses end to end.

Keep records ``{until, reason, by}`` in the state table and the idle finder leaves the resource out until the keep
expires; Stop goes through the one action path (Trigger SLACK): a stoppable type is stopped — never terminated —
and the guards decide (production and protected refused), the audit showing their decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from costwarden.adapters.state import MemoryStateStore
from costwarden.core.keys import IDLE_KEEP_PK
from costwarden.interact.actions import KEEP_REASON, KEEP_USAGE, Context, keep
from costwarden.settings import parse_settings

from tests.functional.idle.idle_env import IdleAccount, constant, idle_account
from tests.functional.interact.world import World

__all__ = ["idle_account"]

CAROL = "U0CAROL01"  # a vision member (world.SETTINGS)


def _press(world: World, action: str, arn: str, days: int = 0, user: str = CAROL) -> None:
    value: dict[str, Any] = {"a": action, "t": "vision", "c": "ml-vision", "r": arn}
    if days:
        value["d"] = days
    world.press(value, user=user, channel="ml-vision")


def _state_of(world: World, instance_id: str) -> str:
    described = world.ec2.describe_instances(InstanceIds=[instance_id])
    return str(described["Reservations"][0]["Instances"][0]["State"]["Name"])


def _acted(world: World) -> list[dict[str, Any]]:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return [i for i in world.state.query(f"audit#{today}") if not str(i["sk"]).startswith("interact#")]


def test_keep_records_reason_and_expiry_and_updates_the_message(world: World) -> None:
    instance_id, arn = world.instance(team="vision")
    before = datetime.now(UTC)
    _press(world, "idle_keep", arn, 14)
    record = world.state.get(IDLE_KEEP_PK, arn)
    assert record is not None
    until = datetime.fromisoformat(record["until"])
    assert timedelta(days=14) <= until - before < timedelta(days=14, minutes=5)
    assert record["reason"] == KEEP_REASON.format(days=14) and record["by"] == CAROL and record["team"] == "vision"
    [audit] = world.audit()
    assert audit["action"] == "idle_keep 14d" and audit["status"] == "done" and audit["basis"] == "member"
    assert audit["after"]["until"] == record["until"]
    [reply] = world.replies()
    assert reply["replace_original"] is True and "left out of the idle report until" in reply["text"]
    assert _state_of(world, instance_id) == "running"  # a keep changes nothing on the resource
    _press(world, "idle_keep", arn, 91)  # longer than the long keep: the expected-idle tag's job
    assert "A keep lasts 1 to 90 days" in world.replies()[-1]["text"]
    assert world.state.get(IDLE_KEEP_PK, arn) == record


def test_stop_stops_a_stoppable_instance_through_the_one_action_path(world: World) -> None:
    instance_id, arn = world.instance(team="vision", environment="development")
    _press(world, "idle_stop", arn)
    assert _state_of(world, instance_id) in ("stopping", "stopped")  # stopped, never terminated
    [audit] = world.audit()
    assert audit["status"] == "done" and audit["after"]["decision"]["status"] == "done"
    [acted] = _acted(world)
    assert acted["action"] == "stop" and acted["status"] == "done" and acted["arn"] == arn
    assert "-slack-" in acted["run_id"] and acted["dry_run"] is False
    _press(world, "idle_stop", arn)  # already stopped: nothing to do
    assert "nothing to do" in world.replies()[-1]["text"] and len(_acted(world)) == 1


def test_stop_is_refused_by_the_guards_for_production_and_protected(world: World) -> None:
    prod_id, prod = world.instance(team="vision", environment="production")
    kept_id, kept = world.instance(team="vision", environment="development", **{"costwarden:protect": "true"})
    _press(world, "idle_stop", prod)
    _press(world, "idle_stop", kept)
    assert _state_of(world, prod_id) == _state_of(world, kept_id) == "running"
    audits = sorted(world.audit(), key=lambda a: str(a["sk"]))
    assert [a["status"] for a in audits] == ["refused", "refused"]
    assert [a["after"]["decision"]["refused_by"] for a in audits] == ["production", "protect-tag"]
    assert "environment=production: never touched" in audits[0]["reply"]
    acted = {a["arn"]: a for a in _acted(world)}  # the one action path audited its guard decisions
    assert acted[prod]["status"] == acted[kept]["status"] == "skipped"
    assert all(r.get("response_type") == "ephemeral" for r in world.replies())


def test_stop_of_a_type_that_cannot_stop_is_refused(world: World) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    volume = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "team", "Value": "vision"}]}],
    )
    arn = f"arn:aws:ec2:us-east-1:123456789012:volume/{volume['VolumeId']}"
    _press(world, "idle_stop", arn)
    [audit] = world.audit()
    assert audit["status"] == "refused" and "ec2:volume cannot be stopped" in audit["reply"]
    assert ec2.describe_volumes(VolumeIds=[volume["VolumeId"]])["Volumes"][0]["State"] == "available"


class _Silent:
    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        raise AssertionError("keep itself never answers Slack")


def test_the_idle_finder_leaves_a_kept_resource_out_until_the_keep_expires(idle_account: IdleAccount) -> None:
    acc = idle_account
    box = acc.box("m5.xlarge", team="vision", environment="development")
    acc.cpu(box, constant(1.0))
    first = acc.idle(publish=False)
    [finding] = [f for f in first.findings if f.id == box]
    resource = next(r for r in first.scan.resources if r.arn == finding.arn)
    settings = parse_settings({})

    def keep_from(now: datetime) -> None:
        ctx = Context(settings, acc.state, acc.counted, _Silent(), None, now)
        assert keep(ctx, resource, 14, by=CAROL, reason="warm standby").status == "done"

    keep_from(acc.now - timedelta(days=14, hours=1))  # a keep that ran out an hour ago: reported again
    assert box in {f.id for f in acc.idle(publish=False).findings}
    keep_from(acc.now - timedelta(days=1))  # 13 days left
    kept = acc.idle(publish=False)
    assert box not in {f.id for f in kept.findings}
    assert kept.summary()["expected_idle"] == first.summary()["expected_idle"] + 1


def test_a_malformed_keep_record_keeps_nothing() -> None:
    from costwarden.idle.keeps import active_keeps

    store = MemoryStateStore()
    now = datetime(2026, 12, 7, tzinfo=UTC)
    store.put(IDLE_KEEP_PK, "arn:a", {"until": "next week"})
    store.put(IDLE_KEEP_PK, "arn:b", {"until": 12})
    store.put(IDLE_KEEP_PK, "arn:c", {"until": "2026-12-08T00:00:00"})  # no offset: UTC
    store.put(IDLE_KEEP_PK, "arn:d", {"until": "2026-12-06T00:00:00+00:00"})  # over
    assert set(active_keeps(store, now)) == {"arn:c"}


def test_keep_command_records_the_pressers_own_reason(world: World) -> None:
    _instance_id, arn = world.instance(team="vision")
    world.command(f"keep {arn} 30 warm standby for the demo", user=CAROL, channel="ml-vision")
    record = world.state.get(IDLE_KEEP_PK, arn)
    assert record is not None and record["reason"] == "warm standby for the demo" and record["by"] == CAROL
    world.command(f"keep {arn} 30 mine now", user="U0ALICE01", channel="ml-vision")  # an nlp member
    assert world.state.get(IDLE_KEEP_PK, arn) == record
    replies = [r.body or {} for r in world.slack.posts_to("/commands/T0TEAM/99/xyz")]
    assert replies[-1]["text"].startswith("Not yours") and replies[-1]["response_type"] == "ephemeral"
    for text in (f"keep {arn}", f"keep {arn} soon because", f"keep {arn} 9999 because", f"keep {arn} 1 \x07"):
        world.command(text, user=CAROL, channel="ml-vision")
    texts = [(r.body or {})["text"] for r in world.slack.posts_to("/commands/T0TEAM/99/xyz")][-4:]
    assert texts[:3] == [KEEP_USAGE, KEEP_USAGE, KEEP_USAGE] and texts[3].startswith("<reason>: printable text")
    world.command("keep arn:aws:ec2:moon_1:123456789012:instance/i-1 3 because", user=CAROL, channel="ml-vision")
    last = world.slack.posts_to("/commands/T0TEAM/99/xyz")[-1].body or {}
    assert "not a resource ARN" in last["text"]
    statuses = [a["status"] for a in sorted(world.audit(), key=lambda a: str(a["sk"]))]
    assert statuses == ["done", "unauthorized", *["refused"] * 5]
