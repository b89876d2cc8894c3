"""Each action end to end on moto: signed button payload → tag change / episode state → audit → message updated
through the Slack stand-in. Plus who may press, the lifetime cap, production/protected refusals, replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from costwarden.core.episodes import DEDUP_PK
from costwarden.models.expiry import parse_expires_at

from tests.functional.interact.world import World, in_days


def _extend(arn: str, days: int, team: str = "nlp", channel: str = "ml-nlp") -> dict[str, object]:
    return {"a": "extend", "t": team, "c": channel, "r": arn, "d": days}


def test_extend_rewrites_the_configured_key_audits_and_updates_the_message(world: World) -> None:
    expiry = in_days(1)
    instance_id, arn = world.instance(ttl_until=expiry)
    answer = world.press(_extend(arn, 3))
    assert answer["statusCode"] == 200 and answer["body"] == ""
    new = world.tags(instance_id)["ttl_until"]
    assert parse_expires_at(new).expired_from - parse_expires_at(expiry).expired_from == timedelta(days=3)
    assert "expires_at" not in world.tags(instance_id)  # the configured key, not the default one
    [audit] = world.audit()
    assert audit["who"] == "U0ALICE01" and audit["action"] == "extend 3d" and audit["status"] == "done"
    assert audit["before"] == {"ttl_until": expiry} and audit["after"] == {"ttl_until": new}
    assert audit["message_ts"] == "1764627000.000200" and audit["channel"] == "ml-nlp"
    [reply] = world.replies()
    assert reply["replace_original"] is True
    assert [b["type"] for b in reply["blocks"]] == ["section", "context"]  # buttons gone, note added
    assert f"ttl_until is now {new} by <@U0ALICE01>" in reply["blocks"][-1]["elements"][0]["text"]


def test_replay_is_acknowledged_and_does_nothing(world: World) -> None:
    expiry = in_days(1)
    instance_id, arn = world.instance(ttl_until=expiry)
    world.press(_extend(arn, 1), action_ts="1764628000.000100")
    after_first = world.tags(instance_id)["ttl_until"]
    # the same action_ts again: Slack's retry, or a captured request re-sent within the window
    answer = world.press(_extend(arn, 1), action_ts="1764628000.000100")
    assert answer["statusCode"] == 200
    assert world.tags(instance_id)["ttl_until"] == after_first
    assert len(world.audit()) == 1 and len(world.worked) == 1


def test_bad_signature_and_stale_request_are_refused_before_anything(world: World) -> None:
    _instance_id, arn = world.instance(ttl_until=in_days(1))
    assert world.press(_extend(arn, 7), secret="not-the-secret")["statusCode"] == 401
    assert world.press(_extend(arn, 7), age=301)["statusCode"] == 401
    assert world.worked == [] and world.audit() == [] and world.slack.received == []


def test_lifetime_cap_bites_and_is_named(world: World) -> None:
    instance_id, arn = world.instance(ttl_until=in_days(8))
    world.press(_extend(arn, 7))  # launch was just now; the cap is 10 days from launch
    value = world.tags(instance_id)["ttl_until"]
    launched = world.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    cap = launched["LaunchTime"].astimezone(UTC) + timedelta(days=10)
    assert abs(parse_expires_at(value).expired_from - cap) < timedelta(seconds=2)
    [reply] = world.replies()
    assert "capped: reaper.max_lifetime_days is 10 (from launch" in reply["text"]
    world.press(_extend(arn, 1))  # at the cap: refused, said so, audited
    assert world.tags(instance_id)["ttl_until"] == value
    assert "already at its lifetime cap" in world.replies()[-1]["text"]
    assert [a["status"] for a in sorted(world.audit(), key=lambda a: a["sk"])] == ["done", "refused"]


def test_production_and_protected_resources_are_refused(world: World) -> None:
    expiry = in_days(1)
    prod_id, prod = world.instance(ttl_until=expiry, environment="production")
    kept_id, kept = world.instance(ttl_until=expiry, **{"costwarden:protect": "true"})
    world.press(_extend(prod, 3))
    world.press(_extend(kept, 3))
    assert world.tags(prod_id)["ttl_until"] == world.tags(kept_id)["ttl_until"] == expiry
    replies = [r["text"] for r in world.replies()]
    assert "environment=production: never touched" in replies[0]
    assert "protected by costwarden:protect=true" in replies[1]
    assert all(r.get("response_type") == "ephemeral" for r in world.replies())
    assert {a["status"] for a in world.audit()} == {"refused"}


def test_member_of_another_team_gets_not_yours_and_is_audited(world: World) -> None:
    instance_id, arn = world.instance(ttl_until=(expiry := in_days(1)))
    world.press(_extend(arn, 3), user="U0CAROL01")
    assert world.tags(instance_id)["ttl_until"] == expiry
    [reply] = world.replies()
    assert reply["response_type"] == "ephemeral" and reply["text"].startswith("Not yours")
    [audit] = world.audit()
    assert audit["status"] == "unauthorized" and audit["who"] == "U0CAROL01"
    assert "not a member of nlp" in audit["basis"]


def test_wrong_channel_is_refused_even_for_a_member(world: World) -> None:
    instance_id, arn = world.instance(ttl_until=(expiry := in_days(1)))
    world.press(_extend(arn, 3), channel="random")
    assert world.tags(instance_id)["ttl_until"] == expiry
    assert world.audit()[0]["status"] == "unauthorized"


def test_oncall_and_user_group_members_may_act(world: World) -> None:
    _instance_id, arn = world.instance(ttl_until=in_days(1))
    world.press(_extend(arn, 1), user="U0ONCALL1")
    world.press(_extend(arn, 1), user="U0DAVE001")  # member through the user group (usergroups.users.list)
    assert [a["basis"] for a in sorted(world.audit(), key=lambda a: a["sk"])] == ["oncall", "member"]
    assert ("usergroups.users.list", "S0NLPGRP1") in world.slack.api_calls


def test_anomaly_acknowledge_snooze_planned(world: World) -> None:
    series = "nlp|training"
    world.state.put(DEDUP_PK, series, {"severity": "warning", "start": "2026-11-30", "last": "2026-11-30"})
    for action in ("ack", "snooze", "planned"):
        world.press({"a": action, "t": "nlp", "c": "ml-nlp", "r": series})
    item = world.state.get(DEDUP_PK, series)
    assert item is not None
    assert item["acknowledged_by"] == item["snoozed_by"] == item["planned_by"] == "U0ALICE01"
    assert item["quiet"] is True and item["severity"] == "warning"
    texts = [r["text"] for r in world.replies()]
    assert texts == [
        "Acknowledged by <@U0ALICE01>",
        "Snoozed for this episode by <@U0ALICE01>",
        "Marked as planned by <@U0ALICE01>",
    ]
    assert [a["action"] for a in sorted(world.audit(), key=lambda a: a["sk"])] == ["ack", "snooze", "planned"]


def test_ack_on_an_ended_episode_is_refused(world: World) -> None:
    world.press({"a": "ack", "t": "nlp", "c": "ml-nlp", "r": "nlp|gone"})
    assert "episode is over" in world.replies()[0]["text"]


def test_slash_command_declares_planned_spend(world: World) -> None:
    start = datetime.now(UTC).date()
    end = start + timedelta(days=1)
    answer = world.command(f"plan nlp {start} {end} 2000 hyper-parameter sweep")
    assert answer["statusCode"] == 200 and "Working on it" in answer["body"]
    [item] = world.state.query("plan#nlp")
    assert item["usd"] == 2000 and item["by"] == "U0ALICE01" and item["reason"] == "hyper-parameter sweep"
    [reply] = [r.body for r in world.slack.posts_to("/commands/T0TEAM/99/xyz")]
    assert reply is not None and "+2,000 USD" in reply["text"] and reply["response_type"] == "ephemeral"
    world.command(f"plan nlp {start} {end} lots sweep")
    assert "<usd> must be a number" in world.slack.posts_to("/commands/T0TEAM/99/xyz")[-1].body["text"]  # type: ignore[index]
    world.command(f"plan nlp {start} {end} 10 sweep", user="U0CAROL01")
    assert world.slack.posts_to("/commands/T0TEAM/99/xyz")[-1].body["text"].startswith("Not yours")  # type: ignore[index]
    assert len(world.state.query("plan#nlp")) == 1
