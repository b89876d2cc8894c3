"""Who may press what: team members (ids, owners, user groups through the Slack stand-in), on-call, right channel."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from costwarden.adapters.slack_app import SlackAppError, SlackGroupsApi
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.interact.authz import ONCALL_ROUTE, authorize, authorize_target, series_team
from costwarden.interact.payload import Button, Interaction
from costwarden.settings import Settings, SettingsError, parse_settings

SETTINGS = parse_settings(
    {
        "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"], "oncall_groups": ["S0ONCALLG"]},
        "teams": {
            "nlp": {
                "owners": ["lead@example.com", "U0ALICE01", "S0NLPGRP1"],
                "channel": "ml-nlp",
                "slack": {"users": ["W0BOB0001"]},
            },
            "vision": {"owners": ["U0CAROL01"], "channel": "ml-vision"},
        },
    }
)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.usergroups = {"S0NLPGRP1": ["U0DAVE001"], "S0ONCALLG": ["U0ERIN001"]}
        yield standin


def _check(user: str, team: str = "nlp", channel: str = "ml-nlp", groups: SlackGroupsApi | None = None) -> str:
    verdict = authorize(SETTINGS, user_id=user, team=team, routed_channel="ml-nlp", channel_name=channel, groups=groups)
    return verdict.basis if verdict.allowed else "no: " + verdict.basis


def test_owner_and_listed_user_are_members() -> None:
    assert _check("U0ALICE01") == "member"
    assert _check("W0BOB0001") == "member"


def test_member_of_another_team_is_refused() -> None:
    assert _check("U0CAROL01").startswith("no: not a member of nlp")


def test_oncall_user_may_act_on_any_team() -> None:
    assert _check("U0ONCALL1") == "oncall"


def test_user_group_members_resolved_through_slack(slack: SlackStandIn) -> None:
    groups = SlackGroupsApi(slack.bot_token, base_url=slack.api_url)
    assert _check("U0DAVE001", groups=groups) == "member"
    assert _check("U0ERIN001", groups=groups) == "oncall"
    assert _check("U0CAROL01", groups=groups).startswith("no:")
    calls = len(slack.api_calls)
    assert _check("U0DAVE001", groups=groups) == "member"
    assert len(slack.api_calls) == calls  # cached per container: one request per group, not per press


def test_unresolvable_group_fails_closed(slack: SlackStandIn) -> None:
    wrong_token = SlackGroupsApi("xoxb-wrong", base_url=slack.api_url)
    verdict = _check("U0DAVE001", groups=wrong_token)
    assert verdict.startswith("no:") and "S0NLPGRP1 not resolved (SlackAppError)" in verdict
    with pytest.raises(SlackAppError, match="invalid_auth") as caught:
        wrong_token.members("S0NLPGRP1")
    assert "xoxb" not in str(caught.value) and "xoxb" not in repr(wrong_token)
    assert _check("U0DAVE001", groups=None).startswith("no:")


def test_only_from_the_channel_the_alert_was_routed_to() -> None:
    assert _check("U0ALICE01", channel="random").startswith("no: pressed in channel 'random'")
    assert _check("U0ONCALL1", channel="random").startswith("no:")
    verdict = authorize(SETTINGS, user_id="U0ALICE01", team="nlp", routed_channel="", channel_name="", groups=None)
    assert not verdict.allowed


def test_oncall_only_actions_refuse_team_members() -> None:
    verdict = authorize(
        SETTINGS,
        user_id="U0ALICE01",
        team="nlp",
        routed_channel="ml-nlp",
        channel_name="ml-nlp",
        groups=None,
        oncall_only=True,
    )
    assert not verdict.allowed and verdict.basis.startswith("on-call only")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"teams": {"nlp": {"slack": {"users": ["alice"]}}}}, "teams.nlp.slack.users[0]"),
        ({"teams": {"nlp": {"slack": {"groups": ["U0ALICE01"]}}}}, "teams.nlp.slack.groups[0]"),
        ({"interact": {"oncall_users": ["S0GROUP01"]}}, "interact.oncall_users[0]"),
        ({"interact": {"app_secret_name": "xoxb-123-456"}}, "interact.app_secret_name"),
        ({"interact": {"max_request_age_seconds": 900}}, "interact.max_request_age_seconds"),
        ({"reaper": {"max_lifetime_days": 0}}, "reaper.max_lifetime_days"),
    ],
)
def test_bad_interact_settings_are_named(raw: dict[str, object], where: str) -> None:
    with pytest.raises(SettingsError, match=where.replace("[", r"\[").replace(".", r"\.")) as caught:
        parse_settings(raw)
    assert "xoxb-123" not in str(caught.value)


def test_defaults_keep_the_app_off() -> None:
    assert Settings().interact.enabled is False


# -- authorize_target: the target's own team decides, the button's is a hint (issue 23) -------------------------
@dataclass
class _Ctx:
    settings: Settings
    groups: SlackGroupsApi | None = None


def _pressed(user: str, channel: str, *, hint: str | None = "nlp", rendered: str = "ml-nlp") -> Interaction:
    button = Button("extend", hint, rendered, "arn:aws:ec2:us-east-1:123456789012:instance/i-1", 1) if hint else None
    kind = "block_actions" if button else "slash_command"
    return Interaction(kind, user, "C0NLP0001", channel, "https://hooks.slack.com/actions/T/1/x", "1.2", button)


def _target(user: str, team: str, channel: str = "ml-nlp", **kw: Any) -> str:
    oncall_only = kw.pop("oncall_only", False)
    verdict = authorize_target(_Ctx(SETTINGS), _pressed(user, channel, **kw), target_team=team, oncall_only=oncall_only)
    return verdict.basis if verdict.allowed else "no: " + verdict.basis


def test_a_button_naming_another_team_than_its_target_is_refused_whoever_presses() -> None:
    for user in ("U0ALICE01", "U0ONCALL1"):
        assert _target(user, "vision") == "no: the button names team 'nlp' but the target belongs to team 'vision'"
    assert _target("U0ALICE01", "nlp") == "member"


def test_the_channel_is_the_target_teams_whatever_the_button_says() -> None:
    assert _target("U0CAROL01", "vision", hint="vision", rendered="ml-vision") == (
        "no: pressed in channel 'ml-nlp'; team vision's alerts go to ml-vision"
    )
    assert _target("U0CAROL01", "vision", "ml-vision", hint="vision", rendered="ml-nlp") == "member"


def test_on_call_only_actions_may_come_from_the_oncall_rendering_and_need_on_call() -> None:
    assert _target("U0ONCALL1", "nlp", "cw-oncall", rendered=ONCALL_ROUTE, oncall_only=True) == "oncall"
    assert _target("U0ALICE01", "nlp", "cw-oncall", rendered=ONCALL_ROUTE, oncall_only=True).startswith(
        "no: on-call only"
    )
    assert _target("U0ONCALL1", "nlp", "cw-oncall", rendered=ONCALL_ROUTE).startswith("no: pressed in channel")


def test_an_unconfigured_team_and_a_slash_command_without_hint() -> None:
    assert (
        _target("U0ONCALL1", "ghost", hint="ghost")
        == "no: the target's team 'ghost' is not a configured team (teams.*)"
    )
    assert _target("U0ALICE01", "nlp", hint=None) == "member"
    assert _target("U0ALICE01", "vision", hint=None).startswith("no: pressed in channel 'ml-nlp'")


def test_series_team_is_the_part_before_the_bar() -> None:
    assert series_team("nlp#x|training") == "nlp#x" and series_team("vision|") == "vision" and series_team("a") == "a"
