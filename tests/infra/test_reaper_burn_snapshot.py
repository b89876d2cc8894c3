"""With ``burn.enabled`` the reaper's hourly run seeds the burn guard's rate from its inventory and prices what runs
(docs/burn.md): its read-only statement gains the spot price read beside the Price List read it always holds (the
reaped alert's savings), and nothing more; without it, no spot price read. (The deploy-rule variants with the burn
guard synthesize it inside the whole stack, cdk-nag on.)"""

from __future__ import annotations

from typing import Any

import pytest

from infra.burn import PRICE_READS
from tests.infra.conftest import SKIP_BUNDLING, actions_of


def _reaper_policies(overrides: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The reaper alone (with the shared resources it is given), built but not synthesized: each inline policy's
    statements by construct id, resolved as CloudFormation would write them."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from costwarden.settings import parse_settings

    from infra.alerting import Alerting
    from infra.function import CoreResources, TeamDirectoryLayer
    from infra.reaper import Reaper
    from infra.state import StateTable

    settings = parse_settings(overrides)
    stack = Stack(App(context=SKIP_BUNDLING), "ReaperOnly")
    alerting, state = Alerting(stack, "Alerting", settings=settings), StateTable(stack, "State")
    layer = TeamDirectoryLayer(stack, "TeamDirectory", settings=settings).layer
    core = CoreResources(settings, alerting.alert_topic, alerting.operator_topic, state.table, layer)
    reaper = Reaper(stack, "Reaper", core=core)
    return {
        child.node.id: stack.resolve(child.document.to_json())["Statement"]
        for child in reaper.node.find_all()
        if isinstance(child, iam.Policy)
    }


@pytest.mark.parametrize("enabled", [True, False])
def test_the_price_reads_are_granted_only_with_the_burn_guard(enabled: bool) -> None:
    policies = _reaper_policies({"burn": {"enabled": enabled}})
    granted = {a for statements in policies.values() for s in statements for a in actions_of(s)}
    (read,) = [s for statements in policies.values() for s in statements if s.get("Sid") == "ReaperReadOnly"]
    holders = [s for statements in policies.values() for s in statements if set(PRICE_READS) & set(actions_of(s))]
    assert holders == [read] and read["Resource"] == "*"  # each price read granted once, on the read statement
    # pricing:GetProducts stays in the read-only statement either way (the reaped alert's savings, issue 22).
    assert "pricing:GetProducts" in actions_of(read)
    if enabled:
        assert set(PRICE_READS) <= set(actions_of(read))
        assert {"dynamodb:BatchWriteItem", "dynamodb:Query"} <= granted  # the unit records: the state table's grant
    else:
        assert "ec2:DescribeSpotPriceHistory" not in granted
