"""The Costwarden stack. It only composes: one construct per capability, shared resources in ``CoreResources``.

A capability construct (``infra/<capability>.py``) takes ``core: CoreResources`` and builds its function(s) with
``CostwardenFunction``; adding it to the stack is one line in ``CostwardenStack.__init__``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Stack, Tags
from constructs import Construct
from costwarden.settings import CONTEXT_KEY, Settings, parse_settings
from costwarden.tags.aspect import require_tags

from infra import constants
from infra.advisor import Advisor
from infra.alerting import Alerting
from infra.athena import AthenaCostData
from infra.bedrock import BedrockGuard
from infra.burn import BurnGuard
from infra.cost_monitor import CostMonitor
from infra.dashboard import OperationsDashboard
from infra.fanout import OrganizationFanout
from infra.function import CoreResources, TeamDirectoryLayer
from infra.idle import IdleFinder
from infra.interact import Interact
from infra.notifier import Notifier
from infra.org import MemberRoles
from infra.reaper import Reaper
from infra.state import StateTable
from infra.tag_audit import TagAudit
from infra.unitcost import UnitCosts


def settings_from_context(node_context: Mapping[str, Any] | None) -> Settings:
    """Validate the ``costwarden`` context value; a bad value raises ``SettingsError`` naming the key."""
    return parse_settings(node_context, source=CONTEXT_KEY)


class CostwardenStack(Stack):
    """Alert bus, operator topic, state table and the functions. Attribute ``core`` for the capabilities."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Costwarden: cost guardrail for ML teams (anomalies, budgets, expiry reaper, tag audit)",
            **kwargs,
        )
        alerting = Alerting(self, "Alerting", settings=settings)
        state = StateTable(self, "State")
        self.team_directory = TeamDirectoryLayer(self, "TeamDirectory", settings=settings)
        self.core = CoreResources(
            settings=settings,
            alert_topic=alerting.alert_topic,
            operator_topic=alerting.operator_topic,
            state_table=state.table,
            team_directory=self.team_directory.layer,
        )
        self.alerting = alerting
        self.state = state
        self.notifier = Notifier(self, "Notifier", core=self.core)
        self.athena = AthenaCostData(self, "AthenaCost", core=self.core) if settings.cost_source == "athena" else None
        self.cost_monitor = CostMonitor(self, "CostMonitor", core=self.core, athena=self.athena)
        # Organization mode: one schedule per job, the organization state machine's (it runs these for this account).
        own_schedule = not settings.organization.enabled
        self.tag_audit = TagAudit(self, "TagAudit", core=self.core, scheduled=own_schedule)
        self.reaper = Reaper(self, "Reaper", core=self.core, scheduled=own_schedule)
        self.advisor = Advisor(self, "Advisor", core=self.core)
        self.idle = IdleFinder(self, "IdleFinder", core=self.core, scheduled=own_schedule)
        if self.athena is not None and settings.k8s_guard.enabled:
            self.idle.read_split_costs(self.athena)
            self.advisor.read_split_costs(self.athena)
        self.interact = (
            Interact(self, "Interact", core=self.core, notifier=self.notifier.function)
            if settings.interact.enabled
            else None
        )
        self.bedrock = BedrockGuard(self, "BedrockGuard", core=self.core) if settings.bedrock.enabled else None
        self.burn = BurnGuard(self, "Burn", core=self.core) if settings.burn.enabled else None
        self.unitcost = (
            UnitCosts(self, "UnitCosts", core=self.core, athena=self.athena) if settings.unitcost.enabled else None
        )
        # Capabilities (one line each): CostMonitor(self, "CostMonitor", core=self.core), Reaper(...), TagAudit(...)

        if settings.organization.enabled:  # organization scale (infra/fanout.py, infra/org.py)
            own_account = {
                "reaper": self.reaper.function,
                "tag_audit": self.tag_audit.function,
                "idle": self.idle.function,
            }
            self.org_fanout = OrganizationFanout(self, "OrgFanout", core=self.core, own_account=own_account)
            self.org_members = MemberRoles(
                self, "OrgMembers", core=self.core, trusted_role_arns=self.org_fanout.member_principals
            )

        # After every capability: it shows every CostwardenFunction and alarm it finds in the stack.
        self.dashboard = OperationsDashboard(self, "Dashboard")

        for key, value in settings.stack_tags.items():
            Tags.of(self).add(key, value)
        # Costwarden follows the policy it enforces: synth fails if one of its own resources breaks it.
        self.tag_policy = require_tags(self, settings.tags)


def build_stack(app: App) -> CostwardenStack:
    """Validate the settings in ``app``'s context and add the stack (env from the CDK CLI when it gives one)."""
    settings = settings_from_context(app.node.try_get_context(CONTEXT_KEY))
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    return CostwardenStack(app, constants.STACK_NAME, settings=settings, env=env)
