"""The Bedrock guard's infrastructure: hourly, light, cdk-nag clean, and its IAM checked offline like the reaper's
(every action, ARN and condition key against the Service Authorization Reference; the deny's role permissions on
exactly the listed roles with a tag condition, never ``*`` roles; sizes within IAM's inline-policy limit)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from costwarden.bedrock.iam import deny_statements, policy_statements
from costwarden.settings import Settings, SettingsError, parse_settings

from infra.bedrock import MAX_DENY_CHARS, check_settings
from tests.infra.iam_reference import check, statements_of
from tests.support.bedrock import settings_doc

ROLES = {"nlp": ["nlp-bedrock", "nlp-batch"], "vision": ["vision-bedrock"]}
CONTEXT: dict[str, Any] = {
    **settings_doc(hard_limit={"nlp": "auto", "vision": "approve"}, roles=ROLES),
    "tags": {"team_key": "squad"},
}


def test_the_guards_and_the_deny_statements_match_the_service_authorization_reference() -> None:
    settings = parse_settings(CONTEXT)
    guard = policy_statements(settings, partition="aws", account="123456789012", regions=["us-east-1", "eu-west-1"])
    slack = deny_statements(settings, partition="aws", account="123456789012")
    problems = check(statements_of(guard, "guard") + statements_of(slack, "slack"))
    assert problems == [], "\n".join(map(str, problems))


def test_role_policy_changes_are_scoped_to_the_listed_tagged_roles_never_star() -> None:
    settings = parse_settings(CONTEXT)
    [deny] = deny_statements(settings, partition="aws", account="123456789012")
    arns = ["arn:aws:iam::123456789012:role/" + r for r in ("nlp-batch", "nlp-bedrock", "vision-bedrock")]
    assert deny["Action"] == ["iam:DeleteRolePolicy", "iam:ListRoleTags", "iam:PutRolePolicy"]
    assert deny["Resource"] == arns
    assert deny["Condition"] == {"StringEquals": {"aws:ResourceTag/squad": ["nlp", "vision"]}}
    # The hourly function denies only for ``auto`` teams: vision (approve) is pressed in Slack, by the app's role.
    [*_, own] = policy_statements(settings, partition="aws", account="1", regions=["us-east-1"])
    assert own["Resource"] == ["arn:aws:iam::1:role/nlp-batch", "arn:aws:iam::1:role/nlp-bedrock"]
    no_limit = parse_settings(settings_doc())
    assert all(
        "iam:" not in json.dumps(s) for s in policy_statements(no_limit, partition="aws", account="1", regions=["x"])
    )


def _long_roles(teams: int) -> dict[str, Any]:
    roles = {f"team-{n:03d}": [f"team-{n:03d}-" + "r" * 55] for n in range(teams)}  # 64-character role names
    return settings_doc(hard_limit=dict.fromkeys(roles, "auto"), roles=roles)


def test_every_roles_list_the_settings_accept_fits_iams_inline_policy_limit() -> None:
    teams = 1
    while True:  # as many 64-character roles as the 3,000-byte settings variable holds
        try:
            parse_settings(_long_roles(teams + 1))
        except SettingsError:
            break
        teams += 1
    settings = parse_settings(_long_roles(teams))
    size = len(json.dumps(deny_statements(settings, partition="aws", account="123456789012"), separators=(",", ":")))
    assert teams >= 20 and size <= MAX_DENY_CHARS
    check_settings(settings)
    too_many = Settings.model_validate(_long_roles(100))  # past the variable's limit: refused here too
    with pytest.raises(ValueError, match=r"^bedrock.roles: the deny's IAM statements for 100 role\(s\) take \d+ ch"):
        check_settings(too_many)


def test_approve_without_on_call_is_refused_at_synth_naming_the_team() -> None:
    context = {**settings_doc(hard_limit={"nlp": "approve"}, roles=ROLES), "interact": {"enabled": False}}
    with pytest.raises(ValueError, match=r"^bedrock.hard_limit is approve for 'nlp' but the Slack app"):
        check_settings(parse_settings(context))
