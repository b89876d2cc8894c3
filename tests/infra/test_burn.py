"""The burn guard's infrastructure (``burn.enabled``, off by default): one rule per pattern into a batching queue,
a function that reads prices and role tags only; in organization mode a central bus for this organization and a
StackSet that forwards every member account's launches from every guarded region (cdk-nag clean: synth succeeds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from costwarden.burn.events import rule_patterns

from infra.burn import BATCH_SIZE, BUS_NAME, PRICE_READS
from tests.infra.conftest import SKIP_BUNDLING, Synth, actions_of
from tests.infra.variants import ORGANIZATION


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The burn guard alone (with the shared resources it is given) in organization mode, cdk-nag on: a fraction
    of the whole stack's synth time (the deploy-rule variants synthesize it inside the whole stack)."""
    from aws_cdk import App, Stack
    from costwarden.settings import parse_settings

    from infra.alerting import Alerting
    from infra.burn import BurnGuard
    from infra.function import CoreResources, TeamDirectoryLayer
    from infra.nag import add_checks
    from infra.state import StateTable

    out = tmp_path_factory.mktemp("cdk-burn")
    settings = parse_settings({"burn": {"enabled": True}, "organization": ORGANIZATION})
    app = App(context=SKIP_BUNDLING, outdir=str(out))
    stack = Stack(app, "BurnOnly")
    alerting, state = Alerting(stack, "Alerting", settings=settings), StateTable(stack, "State")
    layer = TeamDirectoryLayer(stack, "TeamDirectory", settings=settings).layer
    core = CoreResources(settings, alerting.alert_topic, alerting.operator_topic, state.table, layer)
    stack.burn = BurnGuard(stack, "Burn", core=core)  # type: ignore[attr-defined]
    add_checks(app)
    template = app.synth().get_stack_by_name("BurnOnly").template
    yield Synth(stack=stack, template=template, report=json.loads((out / "validation-report.json").read_text()))


def _burn_rules(synth: Synth, bus: bool) -> list[dict[str, Any]]:
    rules = [r["Properties"] for k, r in synth.resources("AWS::Events::Rule").items() if k.startswith("Burn")]
    return [r for r in rules if ("EventBusName" in r) == bus]


def test_rules_on_both_buses_deliver_every_pattern_to_the_queue(org: Synth) -> None:
    for bus in (False, True):
        rules = _burn_rules(org, bus)
        assert [r["EventPattern"] for r in rules] == rule_patterns()
        queue = org.logical_id("Burn/Queue")
        assert all(r["Targets"][0]["Arn"] == {"Fn::GetAtt": [queue, "Arn"]} for r in rules)
    (mapping,) = org.resources("AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["BatchSize"] == BATCH_SIZE
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == 30


def test_the_function_reads_prices_and_role_tags_only(org: Synth) -> None:
    statements = org.role_statements(org.logical_id("Burn/Function/Role"))
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in actions_of(s)}
    assert set(PRICE_READS) | {"iam:ListRoleTags", "sns:Publish", "dynamodb:PutItem"} <= allowed
    assert not {a for a in allowed if a.startswith(("ec2:Run", "ec2:Stop", "ec2:Terminate", "iam:Put", "iam:Create"))}


def test_the_central_bus_accepts_this_organization_only(org: Synth) -> None:
    (bus,) = org.resources("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == BUS_NAME
    (policy,) = org.resources("AWS::Events::EventBusPolicy").values()
    statement = policy["Properties"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION["organization_id"]}}


def test_members_forward_from_every_guarded_region(org: Synth) -> None:
    stack_set = org.resource("Burn/Forwarding")["Properties"]
    (group,) = stack_set["StackInstancesGroup"]
    assert group["Regions"] == ORGANIZATION["regions"]
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == ORGANIZATION["deployment_targets"]
    parts = stack_set["TemplateBody"]["Fn::Join"][1]  # the central bus's ARN is a token inside the JSON text
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/costwarden-burn"
    body = json.loads("".join(p if isinstance(p, str) else bus for p in parts))
    rules = [r for r in body["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert [r["Properties"]["EventPattern"] for r in rules] == rule_patterns()
    assert all(r["Properties"]["Targets"][0]["Arn"] == bus for r in rules)
    (policy,) = body["Resources"]["ForwardRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}]
