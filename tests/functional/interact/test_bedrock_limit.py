"""The Bedrock hard limit from Slack: *Deny Bedrock* (on-call only) attaches the deny on the team's profiles to the
team's profile role, read fresh (a role tagged for another team gets nothing); *Lift Bedrock deny* removes exactly
it (moto IAM, the Slack stand-in, the real interact handler)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from costwarden.core.keys import BEDROCK_PROFILES_PK
from costwarden.interact.buttons import action_blocks
from costwarden.settings import Settings

from tests.functional.interact.world import SETTINGS, World
from tests.support.alerts import alert_event
from tests.support.bedrock import TRUST, profile_arn

PROFILE = profile_arn("nlp-chat")
BEDROCK = {"hard_limit": {"nlp": "approve"}, "roles": {"nlp": ["nlp-bedrock", "nlp-borrowed"]}}


@pytest.fixture
def bedrock_world(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({**SETTINGS, "bedrock": BEDROCK}))
    iam = boto3.client("iam", region_name="us-east-1")
    for role, team in (("nlp-bedrock", "nlp"), ("nlp-borrowed", "vision")):
        iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=[{"Key": "team", "Value": team}]
        )
    world.state.put(BEDROCK_PROFILES_PK, "nlp", {"profiles": [PROFILE]})
    return world


def _press(world: World, action: str, user: str = "U0ONCALL1", team: str = "nlp") -> Any:
    return world.press({"a": action, "t": team, "c": "ml-nlp", "r": team}, user=user)


def _policies(role: str) -> list[str]:
    return list(boto3.client("iam", region_name="us-east-1").list_role_policies(RoleName=role)["PolicyNames"])


def test_deny_then_lift_touches_exactly_the_teams_profile_role(bedrock_world: World) -> None:
    _press(bedrock_world, "bedrock_deny")
    reply = bedrock_world.replies()[-1]
    assert "Bedrock denied for nlp: 1 profile(s) on 1 role(s)" in reply["text"]
    assert reply["blocks"][-1]["block_id"] == "costwarden_bedrock_lift"
    assert _policies("nlp-bedrock") == ["costwarden-bedrock-deny"]
    assert _policies("nlp-borrowed") == [] and _policies("nlp-launcher") == []
    iam = boto3.client("iam", region_name="us-east-1")
    document = iam.get_role_policy(RoleName="nlp-bedrock", PolicyName="costwarden-bedrock-deny")["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == [PROFILE]

    _press(bedrock_world, "bedrock_lift")
    assert _policies("nlp-bedrock") == []
    assert "Bedrock deny lifted for nlp: removed from 1 role(s)" in bedrock_world.replies()[-1]["text"]
    actions = [(a["action"], a["status"]) for a in sorted(bedrock_world.audit(), key=lambda a: a["sk"])]
    assert actions == [("bedrock_deny", "done"), ("bedrock_lift", "done")]


def test_deny_is_on_call_only_and_a_member_changes_nothing(bedrock_world: World) -> None:
    _press(bedrock_world, "bedrock_deny", user="U0ALICE01")
    assert _policies("nlp-bedrock") == []
    [audit] = bedrock_world.audit()
    assert (audit["status"], audit["basis"]) == ("unauthorized", "on-call only")


def test_a_team_whose_roles_are_not_its_own_is_refused(bedrock_world: World) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.tag_role(RoleName="nlp-bedrock", Tags=[{"Key": "team", "Value": "vision"}])  # re-tagged since the alert
    _press(bedrock_world, "bedrock_deny")
    assert _policies("nlp-bedrock") == [] and _policies("nlp-borrowed") == []
    assert "Refused: no role of nlp carries its tag" in bedrock_world.replies()[-1]["text"]


def test_the_alert_offers_deny_to_on_call_only_when_critical_and_approve() -> None:
    settings = Settings.model_validate({**SETTINGS, "bedrock": BEDROCK})
    critical = alert_event(kind="bedrock", severity="critical", team="nlp", dedup_key="bedrock#nlp#2026-12-07#critical")
    [block] = action_blocks(critical, "oncall", settings)
    [button] = block["elements"]
    assert (button["text"]["text"], button["style"]) == ("Deny Bedrock", "danger")
    assert button["confirm"]["title"]["text"] == "Deny Bedrock for nlp?"
    assert action_blocks(critical, "ml-nlp", settings) == []
    warning = alert_event(kind="bedrock", severity="warning", team="nlp", dedup_key="bedrock#nlp#2026-12-07#warning")
    assert action_blocks(warning, "oncall", settings) == []
