"""The reaper's function, schedule and role: the role holds every permission the registry declares, and every
destructive statement carries its tag conditions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from costwarden.resources import REGISTRY
from costwarden.resources.iam import UNCONDITIONED_COMPANIONS, granted, mark_permissions, read_actions
from costwarden.settings import parse_settings

from tests.infra.conftest import Synth, actions_of, synthesize


def _reaper_policies(synth: Synth) -> list[dict[str, Any]]:
    return synth.role_statements(synth.logical_id("Reaper/Function/Role"))


#: Every reaper mode that adds permissions: forced termination protection, mark mode, a team whose development
#: limits stop (issue 15).
EVERYTHING: dict[str, Any] = {
    "reaper": {"force_termination_protected": True, "missing_expiry": "mark"},
    "teams": {"vision": {"limits": {"development_gpus": 8, "action": "stop"}}},
}


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {"costwarden": EVERYTHING}
    return synthesize(tmp_path_factory.mktemp("cdk-reaper"), context)


def test_role_holds_every_declared_permission(everything: Synth) -> None:
    statements = _reaper_policies(everything)
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in actions_of(s)}
    declared = {
        a
        for t in REGISTRY.values()
        for p in (*t.permissions, *mark_permissions(t), *t.limit_permissions)
        for a in p.actions
    }
    declared |= {a for t in REGISTRY.values() for a in t.read_permissions}
    missing = declared - allowed
    assert not missing, f"declared by the registry but not in the role: {sorted(missing)}"


def test_every_destructive_statement_has_its_tag_conditions(everything: Synth) -> None:
    read = set(read_actions())
    destructive = [s for s in _reaper_policies(everything) if s["Effect"] == "Allow" and not set(actions_of(s)) <= read]
    destructive = [s for s in destructive if not set(actions_of(s)) & {"sns:Publish", "dynamodb:PutItem"}]
    reap_actions = {a for _, p in granted(parse_settings(EVERYTHING)) for a in p.actions}
    seen: set[str] = set()
    for statement in destructive:
        actions = set(actions_of(statement))
        if not actions & reap_actions:
            continue  # logs, X-Ray, KMS, DLQ: CostwardenFunction's own, not the reaper's
        seen |= actions
        if actions <= set(UNCONDITIONED_COMPANIONS):
            assert statement["Resource"] == "*" and "Condition" not in statement  # reviewed: see resources/iam.py
            continue
        assert statement["Resource"] != "*"
        condition = statement["Condition"]
        (protect,) = condition["StringNotEqualsIgnoreCase"].items()
        assert protect[0].endswith("ResourceTag/costwarden:protect") and protect[1] == "true"
        if "Null" in condition:
            (null,) = condition["Null"].items()
            assert null[0].endswith("ResourceTag/expires_at") and null[1] == "false"
        elif "ec2:StopInstances" in actions or "Limit" in statement.get("Sid", ""):  # development limits
            assert list(condition["StringEquals"].values()) == [["development", "experiment"]]
        else:
            assert list(condition["StringEquals"].values()) == ["experiment"]
    assert seen == reap_actions


def test_explicit_denies_cover_every_destructive_action(everything: Synth) -> None:
    statements = _reaper_policies(everything)
    denied = {a for s in statements if s["Effect"] == "Deny" for a in actions_of(s)}
    assert {a for t in REGISTRY.values() for p in (*t.permissions, *t.limit_permissions) for a in p.actions} <= denied


def test_mark_mode_role_can_tag_through_the_tagging_api(everything: Synth) -> None:
    """SageMaker types mark through tag:TagResources, which also needs the service's sagemaker:AddTags on each
    type's ARNs (jobs included) — moto does not enforce IAM, so only the role itself can show it."""
    statements = [s for s in _reaper_policies(everything) if s["Effect"] == "Allow"]
    assert any(actions_of(s) == ["tag:TagResources"] and s["Resource"] == "*" for s in statements)
    add_tags = [s for s in statements if "sagemaker:AddTags" in actions_of(s)]
    arns = json.dumps([s["Resource"] for s in add_tags])
    for kind in ("notebook-instance/*", "endpoint/*", "training-job/*", "processing-job/*"):
        assert kind in arns, kind


def test_default_role_has_no_force_or_mark_permissions(synth: Synth) -> None:
    allowed = {a for s in _reaper_policies(synth) if s["Effect"] == "Allow" for a in actions_of(s)}
    assert "ec2:TerminateInstances" in allowed
    assert not allowed & {
        "ec2:ModifyInstanceAttribute",
        "elasticmapreduce:SetTerminationProtection",
        "ec2:CreateTags",
        "sagemaker:AddTags",
        "tag:TagResources",
        "ec2:StopInstances",  # development limits with action stop only (issue 15)
    }


def test_hourly_schedule_and_function_settings(synth: Synth) -> None:
    rules = [r for r in synth.resources("AWS::Events::Rule").values() if "reaper" in r["Properties"]["Description"]]
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["rate(1 hour)"]
    function = synth.resource("Reaper/Function/Function")["Properties"]
    assert function["Handler"] == "costwarden.handlers.reaper.handler"
    assert function["Timeout"] == 600  # below the hourly rate: two scheduled runs never overlap
    assert "ReservedConcurrentExecutions" not in function  # would fail deployment on new accounts
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "reaper"


def test_timeout_stays_below_a_fast_schedule(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {"schedules": {"reaper_rate_minutes": 5}}})
    assert synth.resource("Reaper/Function/Function")["Properties"]["Timeout"] == 240
    rules = [r for r in synth.resources("AWS::Events::Rule").values() if "reaper" in r["Properties"]["Description"]]
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["rate(5 minutes)"]


def test_sample_event_exists() -> None:
    assert (Path(__file__).resolve().parents[2] / "events/reaper/scheduled.json").is_file()


def test_role_reads_the_price_list_and_the_state_table_s_price_snapshot(synth: Synth) -> None:
    """Issue 22: the reaped alert's saving needs ``pricing:GetProducts`` (on ``*``, no resource-level permission,
    only in the read-only statement) and the price snapshot's query and batch write on the state table."""
    statements = [s for s in _reaper_policies(synth) if s["Effect"] == "Allow"]
    (price,) = [s for s in statements if "pricing:GetProducts" in actions_of(s)]
    assert price["Resource"] == "*" and "Condition" not in price
    assert set(actions_of(price)) == {*read_actions(), "pricing:GetProducts"}  # nothing but reads on '*'
    table = {"Fn::GetAtt": [synth.logical_id("State/Table"), "Arn"]}
    on_table = {
        a
        for s in statements
        if table in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        for a in actions_of(s)
    }
    assert {"dynamodb:Query", "dynamodb:BatchWriteItem"} <= on_table
