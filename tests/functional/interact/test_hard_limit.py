"""Hard limit at 200 %: Enforce (on-call only) stops dev/experiment EC2 through the guards and attaches the deny
policy to the team's launch roles; Lift removes exactly that, leaving the roles' own policies alone (moto IAM)."""

from __future__ import annotations

import json

import boto3

from tests.functional.interact.world import World

SERIES = "nlp|"


def _press(world: World, action: str, user: str = "U0ONCALL1") -> None:
    world.press({"a": action, "t": "nlp", "c": "ml-nlp", "r": SERIES}, user=user)


def _state(world: World, instance_id: str) -> str:
    described = world.ec2.describe_instances(InstanceIds=[instance_id])
    return str(described["Reservations"][0]["Instances"][0]["State"]["Name"])


def test_enforce_then_lift_leaves_no_policy_behind(world: World) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    own = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    iam.put_role_policy(RoleName="nlp-launcher", PolicyName="team-own", PolicyDocument=own)
    dev, _ = world.instance(environment="development")
    exp, _ = world.instance(environment="experiment")
    prod, _ = world.instance(environment="production")
    kept, _ = world.instance(environment="experiment", **{"costwarden:protect": "true"})
    other, _ = world.instance(environment="experiment", team="vision")

    _press(world, "enforce")
    assert (_state(world, dev), _state(world, exp)) == ("stopped", "stopped")
    assert {_state(world, i) for i in (prod, kept, other)} == {"running"}
    for role in ("nlp-launcher", "nlp-notebooks"):
        assert "costwarden-hard-limit" in iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName="nlp-notebooks", PolicyName="costwarden-hard-limit")["PolicyDocument"]
    [statement] = document["Statement"]
    assert statement["Effect"] == "Deny" and "ec2:RunInstances" in statement["Action"]
    assert statement["Condition"] == {"StringEquals": {"aws:RequestTag/team": "nlp"}}
    reply = world.replies()[-1]
    assert "2 instance(s) stopped, deny-launch on 2 role(s)" in reply["text"]
    assert reply["blocks"][-1]["block_id"] == "costwarden_lift"  # the message now offers Lift
    [audit] = world.audit()
    skipped = {d["id"]: d["reason"] for d in audit["after"]["decisions"] if d["status"] == "skipped"}
    assert "never touched" in skipped[prod] and "protected" in skipped[kept]

    _press(world, "lift")
    for role in ("nlp-launcher", "nlp-notebooks"):
        assert "costwarden-hard-limit" not in iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert iam.list_role_policies(RoleName="nlp-launcher")["PolicyNames"] == ["team-own"]  # untouched
    assert "deny-launch removed from 2 role(s)" in world.replies()[-1]["text"]
    assert [a["action"] for a in sorted(world.audit(), key=lambda a: a["sk"])] == ["enforce", "lift"]


def test_enforce_is_on_call_only(world: World) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    dev, _ = world.instance(environment="development")
    _press(world, "enforce", user="U0ALICE01")  # a team member, not on-call
    assert _state(world, dev) == "running"
    assert iam.list_role_policies(RoleName="nlp-launcher")["PolicyNames"] == []
    assert world.replies()[-1]["text"].startswith("Not yours")
    assert "on-call only" in world.audit()[0]["basis"]


def test_above_the_cap_nothing_is_stopped_nor_denied(world: World) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    ids = [world.instance(environment="experiment")[0] for _ in range(4)]  # cap is 3
    _press(world, "enforce")
    assert {_state(world, i) for i in ids} == {"running"}
    assert iam.list_role_policies(RoleName="nlp-launcher")["PolicyNames"] == []
    assert "above reaper.max_actions_per_run (3)" in world.replies()[-1]["text"]


def test_hold_records_and_lift_without_enforce_is_refused(world: World) -> None:
    _press(world, "hold")
    _press(world, "lift")
    item = world.state.get("hardlimit", "nlp")
    assert item is not None and item["held_by"] == "U0ONCALL1" and item["active"] is False
    assert "No hard limit is enforced" in world.replies()[-1]["text"]
