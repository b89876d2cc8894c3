"""The hard limit and Extend at synth (issue 23 item 4, issue 21 item 4): settings that would not work fail synth
naming the key; the Slack worker's Extend policy has exactly the registry's tagging actions (ASG, EMR, EKS through
their own calls); the hard limit's role stops SageMaker under tag conditions and deletes endpoints only when told."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from costwarden.settings import SettingsError

from infra.stack import build_stack
from tests.infra.conftest import SKIP_BUNDLING, synthesize

ON = {
    "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
    "budgets": {"hard_limit": {"nlp": "approve"}},
    "teams": {"nlp": {"slack": {"launch_roles": ["nlp-launcher"]}}},
}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"interact": {"enabled": True}}, "interact.oncall_users and interact.oncall_groups are empty"),
        ({"teams": {"nlp": {"channel": "ml-nlp"}}}, "teams.nlp.slack.launch_roles is empty"),
        ({"teams": {}}, "teams.nlp.slack.launch_roles is empty"),
    ],
    ids=["no-oncall", "no-launch-roles", "team-not-in-directory"],
)
def test_a_hard_limit_that_could_not_work_fails_synth_naming_the_key(change: dict[str, Any], named: str) -> None:
    app = App(context={**SKIP_BUNDLING, "costwarden": {**ON, **change}})
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        build_stack(app)


def _statements(synth: Any, name: str) -> list[dict[str, Any]]:
    [policy] = [p for key, p in synth.resources("AWS::IAM::Policy").items() if name in key]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_slack_workers_extend_policy_has_exactly_the_tagging_actions(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {"interact": {"enabled": True}}})
    statements = _statements(synth, "InteractExtendPolicy")
    writes = [
        s for s in statements if s.get("Sid") not in (None, "ExtendRead") and s["Action"] != "lambda:InvokeFunction"
    ]
    stops = [s for s in writes if s["Sid"].startswith("IdleStop")]  # idle Stop: tests/infra/test_iam_families.py
    assert set().union(*(_actions(s) for s in stops)) == {
        "ec2:StopInstances",
        "sagemaker:StopNotebookInstance",
        "sagemaker:StopProcessingJob",
        "sagemaker:StopTrainingJob",
    }
    writes = [s for s in writes if s not in stops]
    granted = set().union(*(_actions(s) for s in writes))
    assert granted == {
        "autoscaling:CreateOrUpdateTags",
        "ec2:CreateTags",
        "eks:TagResource",
        "elasticmapreduce:AddTags",
        "sagemaker:AddTags",
        "tag:TagResources",
    }
    for statement in writes:
        if statement["Sid"] == "ExtendTagResources":  # no resource types or condition keys exist for it
            continue
        condition = json.dumps(statement["Condition"])
        # each service's own tag condition key: Auto Scaling's and EMR's are not aws:ResourceTag
        prefix = {"autoscaling": "autoscaling:ResourceTag", "elasticmapreduce": "elasticmapreduce:ResourceTag"}.get(
            next(iter(_actions(statement))).split(":")[0], "aws:ResourceTag"
        )
        assert f"{prefix}/expires_at" in condition and f"{prefix}/costwarden:protect" in condition
        assert f"{prefix}/environment" in condition  # never production
    [read] = [s for s in statements if s.get("Sid") == "ExtendRead"]
    assert {"autoscaling:DescribeAutoScalingGroups", "elasticmapreduce:DescribeCluster", "eks:DescribeNodegroup"} <= (
        _actions(read)
    )


@pytest.mark.parametrize("endpoints", ["off", "delete"])
def test_the_hard_limit_role_stops_sagemaker_and_deletes_endpoints_only_when_told(
    tmp_path: Path, endpoints: str
) -> None:
    raw = {**ON, "budgets": {**ON["budgets"], "hard_limit_endpoints": endpoints}}
    synth = synthesize(tmp_path, {"costwarden": raw})
    statements = _statements(synth, "HardLimitPolicy")
    stops = {next(iter(_actions(s))): s for s in statements if len(_actions(s)) == 1 and ":Stop" in s["Action"]}
    assert set(stops) == {
        "ec2:StopInstances",
        "sagemaker:StopNotebookInstance",
        "sagemaker:StopTrainingJob",
        "sagemaker:StopProcessingJob",
    }
    for statement in stops.values():
        assert statement["Condition"]["StringEquals"]["aws:ResourceTag/team"] == ["nlp"]
        assert statement["Condition"]["StringEquals"]["aws:ResourceTag/environment"] == ["development", "experiment"]
        assert statement["Condition"]["StringNotEqualsIgnoreCase"] == {"aws:ResourceTag/costwarden:protect": "true"}
    deletes = [s for s in statements if "sagemaker:DeleteEndpoint" in _actions(s)]
    if endpoints == "off":
        assert deletes == []
        assert not any("Delete" in a for s in statements for a in _actions(s) if a.startswith("sagemaker:"))
    else:
        [delete] = deletes
        assert delete["Condition"]["StringEquals"]["aws:ResourceTag/team"] == ["nlp"]
    (plugin,) = [p for p in synth.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert plugin["conclusion"] == "success" and plugin["violations"] == []


def test_auto_deploys_the_grace_timer_least_privilege(tmp_path: Path) -> None:
    raw = {**ON, "budgets": {"hard_limit": {"nlp": "auto"}, "hard_limit_grace_hours": 1}}
    synth = synthesize(tmp_path, {"costwarden": raw})
    [group] = synth.resources("AWS::Scheduler::ScheduleGroup").values()
    name = group["Properties"]["Name"]
    [role] = [r for key, r in synth.resources("AWS::IAM::Role").items() if "HardLimitTimerRole" in key]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"} and "aws:SourceAccount" in json.dumps(trust)
    [invoke] = _statements(synth, "HardLimitTimerInvoke")
    interact_fn = {"Fn::GetAtt": [synth.logical_id("Interact/Function/Function"), "Arn"]}
    assert (invoke["Action"], invoke["Resource"]) == ("lambda:InvokeFunction", interact_fn)
    arm = _statements(synth, "HardLimitTimerArm")
    [create] = [s for s in arm if "scheduler:CreateSchedule" in _actions(s)]
    assert _actions(create) == {"scheduler:CreateSchedule", "scheduler:UpdateSchedule"}
    assert f"schedule/{name}/*" in json.dumps(create["Resource"])
    [passrole] = [s for s in arm if s["Action"] == "iam:PassRole"]
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    # the notifier arms: the policy is on its role, and it knows where the schedules go
    [policy] = [p for key, p in synth.resources("AWS::IAM::Policy").items() if "HardLimitTimerArm" in key]
    assert policy["Properties"]["Roles"] == [{"Ref": synth.logical_id("Notifier/Function/Role")}]
    notifier_env = synth.resource("Notifier/Function/Function")["Properties"]["Environment"]["Variables"]
    assert notifier_env["HARD_LIMIT_TIMER_GROUP"] == name
    assert notifier_env["HARD_LIMIT_TIMER_TARGET"] == interact_fn
    # the Slack app deletes a schedule on Hold, in that group only
    extend = _statements(synth, "InteractExtendPolicy")
    [delete] = [s for s in extend if s["Action"] == "scheduler:DeleteSchedule"]
    assert f"schedule/{name}/*" in json.dumps(delete["Resource"])
    (plugin,) = [p for p in synth.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert plugin["conclusion"] == "success" and plugin["violations"] == []


def test_approve_deploys_no_timer(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": ON})
    assert synth.resources("AWS::Scheduler::ScheduleGroup") == {}
    assert not any("HardLimitTimer" in key for key in synth.resources("AWS::IAM::Role"))
