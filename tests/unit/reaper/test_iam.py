"""The reaper's policy is built from the registry: nothing declared is missing, nothing destructive is unconditioned."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.resources import REGISTRY, Permission, ResourceType
from costwarden.resources.iam import (
    REGION_CONDITION,
    REGION_KEY,
    TAGGING_API_MARK,
    UNCONDITIONED_COMPANIONS,
    granted,
    mark_permissions,
    policy_statements,
    read_actions,
)
from costwarden.settings import parse_settings

ARGS: dict[str, Any] = {"partition": "aws", "account": "123456789012", "regions": ["us-east-1", "eu-west-1"]}


def allowed(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}


def test_every_declared_permission_is_granted_with_everything_enabled() -> None:
    cfg = parse_settings({"reaper": {"force_termination_protected": True, "missing_expiry": "mark"}})
    statements = policy_statements(cfg, **ARGS)
    declared = {a for t in REGISTRY.values() for p in (*t.permissions, *mark_permissions(t)) for a in p.actions}
    declared |= {a for t in REGISTRY.values() for a in t.read_permissions}
    assert declared <= allowed(statements)


def test_defaults_leave_out_force_and_mark() -> None:
    actions = allowed(policy_statements(parse_settings({}), **ARGS))
    assert "ec2:TerminateInstances" in actions
    assert "ec2:ModifyInstanceAttribute" not in actions
    assert "elasticmapreduce:SetTerminationProtection" not in actions
    assert "ec2:CreateTags" not in actions


@pytest.mark.parametrize("raw", [{}, {"reaper": {"force_termination_protected": True, "missing_expiry": "mark"}}])
def test_every_destructive_statement_carries_its_tag_conditions(raw: dict[str, Any]) -> None:
    statements = policy_statements(parse_settings(raw), **ARGS)
    read = set(read_actions())
    for statement in statements:
        if statement["Effect"] != "Allow" or set(statement["Action"]) <= read:
            continue
        if set(statement["Action"]) <= set(UNCONDITIONED_COMPANIONS):
            assert statement["Resource"] == "*" and "Condition" not in statement
            continue
        # The configured regions, named once per statement (issue 20: not one ARN per region).
        assert statement["Resource"] != "*" and all(r.split(":")[3] == "*" for r in statement["Resource"])
        condition = statement["Condition"]
        assert condition[REGION_CONDITION] == {REGION_KEY: ["eu-west-1", "us-east-1"]}
        (protect_key,) = condition["StringNotEqualsIgnoreCase"]
        assert protect_key.endswith("ResourceTag/costwarden:protect")
        assert condition["StringNotEqualsIgnoreCase"][protect_key] == "true"
        if "Null" in condition:
            (key,) = condition["Null"]
            assert key.endswith("ResourceTag/expires_at") and condition["Null"][key] == "false"
        else:
            assert list(condition["StringEquals"].values()) == ["experiment"]


def test_read_only_statement_has_no_destructive_action() -> None:
    for action in read_actions():
        verb = action.split(":")[1]
        assert verb.startswith(("Describe", "List", "Get")), action


def test_explicit_denies_for_protected_and_production() -> None:
    statements = policy_statements(parse_settings({}), **ARGS)
    denies = [s for s in statements if s["Effect"] == "Deny"]
    destructive = {a for _, p in granted(parse_settings({})) for a in p.actions}
    denied_protected = {a for s in denies if "Protected" in s["Sid"] for a in s["Action"]}
    denied_production = {a for s in denies if "Production" in s["Sid"] for a in s["Action"]}
    assert destructive == denied_protected == denied_production
    allow_prod = policy_statements(parse_settings({"reaper": {"allow_production": True}}), **ARGS)
    assert not [s for s in allow_prod if "Production" in s["Sid"]]


def test_autoscaling_uses_its_documented_condition_key() -> None:
    statements = policy_statements(parse_settings({}), **ARGS)
    (asg,) = [s for s in statements if s["Effect"] == "Allow" and "autoscaling:DeleteAutoScalingGroup" in s["Action"]]
    assert "autoscaling:ResourceTag/expires_at" in asg["Condition"]["Null"]


MARK_ALL = {"reaper": {"force_termination_protected": True, "missing_expiry": "mark"}}


def test_every_type_can_be_marked_in_mark_mode() -> None:
    """Mark mode tags every type it reports; a type without a tagging permission fails only in a real account."""
    cfg = parse_settings(MARK_ALL)
    marked = {t.name for t, p in granted(cfg) if p.purpose == "mark" and p.tag_conditions}
    assert marked == set(REGISTRY)


def test_types_marking_through_the_tagging_api_also_get_tag_tagresources() -> None:
    for rtype in REGISTRY.values():
        uses_api = type(rtype).tag is ResourceType.tag
        assert (TAGGING_API_MARK in mark_permissions(rtype)) == uses_api, rtype.name
    assert TAGGING_API_MARK in mark_permissions(REGISTRY["sagemaker:training-job"])
    statements = policy_statements(parse_settings(MARK_ALL), **ARGS)
    (tagging,) = [s for s in statements if "tag:TagResources" in s["Action"]]
    assert tagging == {
        "Sid": "ReaperMarkTagTagResources",
        "Effect": "Allow",
        "Action": ["tag:TagResources"],
        "Resource": "*",
    }
    assert not [s for s in statements if s["Effect"] == "Deny" and "tag:TagResources" in s["Action"]]


def test_sagemaker_jobs_get_add_tags_on_their_own_arns_with_conditions() -> None:
    statements = policy_statements(parse_settings(MARK_ALL), **ARGS)
    for kind in ("training-job", "processing-job"):
        (statement,) = [
            s
            for s in statements
            if s["Effect"] == "Allow" and "sagemaker:AddTags" in s["Action"] and f":{kind}/" in str(s["Resource"])
        ]
        assert statement["Condition"]["StringEquals"] == {"aws:ResourceTag/environment": "experiment"}
        assert statement["Condition"]["StringNotEqualsIgnoreCase"] == {"aws:ResourceTag/costwarden:protect": "true"}


def test_an_unconditioned_destructive_permission_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    rtype = REGISTRY["ec2:instance"]
    bad = (Permission(("ec2:TerminateInstances",), "*", tag_conditions=False),)
    monkeypatch.setattr(type(rtype), "permissions", bad)
    with pytest.raises(ValueError, match="without tag conditions"):
        policy_statements(parse_settings({}), **ARGS)
