"""Authorization rests on what the target *is*, read fresh (issue 23): a genuinely signed block_actions payload from
an nlp member whose button names nlp (and nlp's channel) but whose target belongs to vision is refused for every
action kind — audited with a basis naming both teams, answered ephemerally, and nothing changes (read back from
moto). The button's value is not only Costwarden's: anyone holding one of the app's webhook URLs can post a button
of any value, and Slack then signs the press genuinely."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from costwarden.core.episodes import DEDUP_PK
from costwarden.core.keys import IDLE_KEEP_PK
from costwarden.interact.actions import OTHER_TEAM

from tests.functional.interact.world import World, in_days

NLP_MEMBER = "U0ALICE01"
SERIES = "vision|training"
EPISODE = {"severity": "warning", "start": "2026-11-30", "last": "2026-11-30"}


def _nlp_button(action: str, target: str, days: int = 0) -> dict[str, Any]:
    """A button that claims team nlp and nlp's channel, aimed at ``target``."""
    value: dict[str, Any] = {"a": action, "t": "nlp", "c": "ml-nlp", "r": target}
    if days:
        value["d"] = days
    return value


def _refused(world: World, action: str) -> dict[str, Any]:
    """The one audit record of the press: unauthorized, naming both teams; the presser told why, ephemerally."""
    [audit] = world.audit()
    assert audit["action"].split(" ")[0] == action
    assert audit["status"] == "unauthorized" and audit["who"] == NLP_MEMBER
    assert audit["basis"] == "the button names team 'nlp' but the target belongs to team 'vision'"
    assert audit["team"] == "vision"  # the target's own team, not the button's claim
    [reply] = world.replies()
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert reply["text"] == OTHER_TEAM.format(hint="nlp")
    return audit


def _acted(world: World) -> list[dict[str, Any]]:
    """Audit records the one action path wrote today (sk ``<run id>#<arn>``), as opposed to press records."""
    today = in_days(0)[:10]
    return [i for i in world.state.query(f"audit#{today}") if not str(i["sk"]).startswith("interact#")]


def _vision_instance(world: World, **tags: str) -> tuple[str, str]:
    return world.instance(team="vision", **tags)


def _state_of(world: World, instance_id: str) -> str:
    described = world.ec2.describe_instances(InstanceIds=[instance_id])
    return str(described["Reservations"][0]["Instances"][0]["State"]["Name"])


def test_extend_of_another_teams_instance_is_refused(world: World) -> None:
    instance_id, arn = _vision_instance(world, ttl_until=(expiry := in_days(1)))
    world.press(_nlp_button("extend", arn, 7), user=NLP_MEMBER)
    _refused(world, "extend")
    assert world.tags(instance_id)["ttl_until"] == expiry
    assert _acted(world) == []  # the one action path never ran: no reaper-shaped audit record of a change


def _episode_unchanged(world: World) -> None:
    item = world.state.get(DEDUP_PK, SERIES)
    assert item is not None
    assert {k: v for k, v in item.items() if k not in {"pk", "sk", "expiration"}} == EPISODE


@pytest.mark.parametrize("action", ["snooze", "ack", "planned"])
def test_snooze_ack_or_planned_on_another_teams_episode_is_refused(world: World, action: str) -> None:
    """One case per episode action: Snooze, Acknowledge, It was planned (planned spend)."""
    world.state.put(DEDUP_PK, SERIES, dict(EPISODE))
    world.press(_nlp_button(action, SERIES), user=NLP_MEMBER)
    _refused(world, action)
    _episode_unchanged(world)


def test_enforce_on_another_teams_series_is_refused_even_for_oncall(world: World) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    dev, _ = _vision_instance(world, environment="development")
    world.press(_nlp_button("enforce", "vision|"), user=NLP_MEMBER)
    _refused(world, "enforce")
    # On-call may enforce any configured team's limit, but not through a button whose team is another's.
    world.press(_nlp_button("enforce", "vision|"), user="U0ONCALL1")
    oncall = max(world.audit(), key=lambda a: str(a["sk"]))
    assert oncall["status"] == "unauthorized" and "target belongs to team 'vision'" in oncall["basis"]
    assert _state_of(world, dev) == "running"
    assert world.state.get("hardlimit", "vision") is None and world.state.get("hardlimit", "nlp") is None
    for role in ("nlp-launcher", "nlp-notebooks"):
        assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


def test_lift_of_another_teams_limit_is_refused(world: World) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}]}
    iam.put_role_policy(RoleName="nlp-launcher", PolicyName="costwarden-hard-limit", PolicyDocument=json.dumps(deny))
    record = {"active": True, "by": "U0ONCALL1", "attached": ["nlp-launcher"], "policy_name": "costwarden-hard-limit"}
    world.state.put("hardlimit", "vision", dict(record))
    world.press(_nlp_button("lift", "vision|"), user=NLP_MEMBER)
    _refused(world, "lift")
    assert iam.list_role_policies(RoleName="nlp-launcher")["PolicyNames"] == ["costwarden-hard-limit"]
    stored = world.state.get("hardlimit", "vision")
    assert stored is not None and stored["active"] is True and "lifted_by" not in stored


def test_hold_of_another_teams_limit_is_refused_even_for_oncall(world: World) -> None:
    # vision's armed grace timer stays armed: a Hold through a button claiming nlp records nothing on either team.
    armed = {"active": False, "armed_at": in_days(0)}
    world.state.put("hardlimit", "vision", dict(armed))
    world.press(_nlp_button("hold", "vision|"), user=NLP_MEMBER)
    _refused(world, "hold")
    world.press(_nlp_button("hold", "vision|"), user="U0ONCALL1")
    oncall = max(world.audit(), key=lambda a: str(a["sk"]))
    assert oncall["status"] == "unauthorized" and "target belongs to team 'vision'" in oncall["basis"]
    stored = world.state.get("hardlimit", "vision")
    assert stored is not None and {k: stored[k] for k in armed} == armed and "held_by" not in stored
    assert world.state.get("hardlimit", "nlp") is None


def test_idle_keep_of_another_teams_instance_is_refused(world: World) -> None:
    _instance_id, arn = _vision_instance(world)
    world.press(_nlp_button("idle_keep", arn, 14), user=NLP_MEMBER)
    _refused(world, "idle_keep")
    assert world.state.get(IDLE_KEEP_PK, arn) is None
    assert world.state.query(IDLE_KEEP_PK) == []


def test_idle_stop_of_another_teams_instance_is_refused(world: World) -> None:
    instance_id, arn = _vision_instance(world)
    world.press(_nlp_button("idle_stop", arn), user=NLP_MEMBER)
    _refused(world, "idle_stop")
    assert _state_of(world, instance_id) == "running"
    assert _acted(world) == []


def test_the_target_teams_member_in_the_wrong_channel_is_refused(world: World) -> None:
    """The channel is checked against where the *target's* team is routed, not the channel the button names."""
    instance_id, arn = _vision_instance(world, ttl_until=(expiry := in_days(1)))
    forged = {"a": "extend", "t": "vision", "c": "ml-nlp", "r": arn, "d": 3}  # claims the channel it is pressed in
    world.press(forged, user="U0CAROL01", channel="ml-nlp")
    [audit] = world.audit()
    assert audit["status"] == "unauthorized"
    assert audit["basis"] == "pressed in channel 'ml-nlp'; team vision's alerts go to ml-vision"
    assert world.tags(instance_id)["ttl_until"] == expiry


def test_a_resource_of_no_configured_team_is_refused_fail_closed(world: World) -> None:
    instance_id, arn = world.instance(team="ghost", ttl_until=(expiry := in_days(1)))
    world.press({"a": "extend", "t": "ghost", "c": "ml-nlp", "r": arn, "d": 3}, user="U0ONCALL1")
    [audit] = world.audit()
    assert audit["status"] == "unauthorized" and "'ghost' is not a configured team" in audit["basis"]
    assert world.tags(instance_id)["ttl_until"] == expiry


def test_the_slash_command_is_authorized_on_the_team_it_names(world: World) -> None:
    world.command("plan vision 2026-12-08 2026-12-09 500 sweep", user=NLP_MEMBER, channel="ml-nlp")
    assert world.state.query("plan#vision") == []
    [audit] = world.audit()
    assert audit["status"] == "unauthorized" and audit["team"] == "vision"
    assert "team vision's alerts go to ml-vision" in audit["basis"]
