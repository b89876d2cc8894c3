"""The cost monitor: a daily scheduled ``CostwardenFunction`` (analytics bundle) and its CloudWatch dashboard.

IAM, beyond what ``CostwardenFunction`` gives every function: ``ce:GetCostAndUsage`` (the only Cost Explorer action
the monitor calls: the daily pull and the per-team SERVICE breakdown), read/write on the state table (cost cache
and dedup items), publish to the alert topic. Cost Explorer has no resource-level permissions, so the action is on
``"*"`` in a policy of its own, acknowledged for cdk-nag with that reason (``infra/nag.py``). For an anomaly alert's
resources, policy ``ResourceRead``: ``tag:GetResources`` and the read-only list/describe actions of the registry
types whose launch times the alert reads (``RESOURCE_READS``). With ``cost_source: athena``, policy
``AthenaCostRead`` (``infra/athena.py``, ``query_statements``): the Athena actions the adapter calls on the one
workgroup, Glue reads on the one table, the export's objects, the results prefix.

The dashboard reads the function's EMF metrics (namespace ``Costwarden``, dimension ``service=cost_monitor``):
``DailyCostUSD`` and ``BudgetUsedPercent`` per ``team``, ``Anomalies``, ``AlertsPublished`` and
``CostExplorerRequests`` (Cost Explorer bills $0.01 per request: the incremental pull should keep it at a few a day).
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from costwarden.cost.rootcause import LAUNCH_READ_TYPES
from costwarden.resources.iam import read_actions

from infra import constants
from infra.athena import AthenaCostData
from infra.bundling import Bundle
from infra.function import CoreResources, CostwardenFunction
from infra.nag import (
    ACCOUNT_TEAMS_REASON,
    NO_RESOURCE_LEVEL_PERMISSIONS,
    XRAY_WILDCARD,
    acknowledge,
    acknowledge_because,
    acknowledge_scoped,
    record_reasons,
)

SERVICE_NAME: Final = "cost_monitor"
HANDLER: Final = "costwarden.handlers.cost_monitor.handler"
#: The Cost Explorer actions the monitor calls (costwarden.adapters.cost_explorer): read-only, one.
CE_ACTIONS: Final = ("ce:GetCostAndUsage",)
#: Organization + Athena: the account's team tag (``services.athena_cost.account_teams``).
ACCOUNT_TEAM_READS: Final = ("organizations:ListAccounts", "organizations:ListTagsForResource")
#: ``cost_source: athena``: the Athena actions the monitor calls (costwarden.adapters.athena), on its workgroup.
ATHENA_ACTIONS: Final = (
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StopQueryExecution",
)
ATHENA_SCOPED_WILDCARD_REASON: Final = (
    "Cost monitor, cost_source athena: the wildcards are object keys below the export's data prefix (read) and "
    "below results/ of the workgroup's own results bucket (read/write); Glue reads are on the one database and "
    "table; Athena actions on the one workgroup."
)
DAY: Final = Duration.days(1)
#: Issue 22: an anomaly alert names the team's resources of the driving service and region through the tagging API
#: (``cost.rootcause.team_resources``) and reads their launch times through the registry (``cost.launched``): the
#: tagging API and the read-only list/describe actions those registry types declare (``read_permissions``), built
#: by the reaper's own helper (``resources.iam.read_actions``), nothing destructive.
RESOURCE_READS: Final = tuple(read_actions(LAUNCH_READ_TYPES))
RESOURCE_READS_REASON: Final = (
    "Cost monitor: an anomaly alert names the team's resources of the driving service and region through the "
    "tagging API (tag:GetResources) and reads their launch times with the registry types' list/describe actions "
    "(ec2:DescribeInstances, sagemaker:List*, ...), all read-only; none supports resource-level permissions."
)
record_reasons(NO_RESOURCE_LEVEL_PERMISSIONS, RESOURCE_READS_REASON)


def grant_athena_reads(
    scope: Construct, policy_id: str, role: iam.IRole, athena: AthenaCostData, reason: str
) -> iam.Policy:
    """The Athena path's read grants (``AthenaCostData.query_statements`` with ``ATHENA_ACTIONS``) on ``role``: the
    one policy shape of every function that queries the export (the cost monitor; with ``k8s_guard``, the idle
    finder and the monthly report), acknowledged for cdk-nag with ``reason``."""
    policy = iam.Policy(scope, policy_id, statements=athena.query_statements(ATHENA_ACTIONS))
    policy.attach_to_role(role)
    acknowledge_scoped(policy, athena.wildcard_findings(), reason)
    return policy


class CostMonitor(Construct):
    """Attributes: ``function`` (the ``CostwardenFunction``), ``schedule`` (events rule), ``dashboard``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, core: CoreResources, athena: AthenaCostData | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name=SERVICE_NAME,
            handler=HANDLER,
            description="Daily cost per team from Cost Explorer: anomalies, budgets, forecasts",
            bundle=Bundle.ANALYTICS,
            timeout=Duration.minutes(5),
            memory_size=1024,  # pandas/numpy: memory also buys CPU for the cold import
            publishes_alerts=True,
            state_access="read_write",
        )
        self._grant_cost_explorer()
        resource_reads = iam.Policy(
            self, "ResourceRead", statements=[iam.PolicyStatement(actions=list(RESOURCE_READS), resources=["*"])]
        )
        resource_reads.attach_to_role(self.function.role)
        acknowledge_because(resource_reads, NO_RESOURCE_LEVEL_PERMISSIONS, RESOURCE_READS_REASON)
        if athena is not None:
            self._grant_athena(athena)
        settings = core.settings
        if settings.organization.enabled and settings.cost_source == "athena":
            reads = iam.Policy(
                self,
                "AccountTeamsRead",
                statements=[iam.PolicyStatement(actions=list(ACCOUNT_TEAM_READS), resources=["*"])],
            )
            reads.attach_to_role(self.function.role)
            acknowledge_because(reads, XRAY_WILDCARD, ACCOUNT_TEAMS_REASON)
        hour = core.settings.schedules.cost_monitor_hour_utc
        self.schedule = events.Rule(
            self,
            "DailySchedule",
            description=f"Costwarden cost monitor, daily at {hour:02d}:00 UTC",
            schedule=events.Schedule.cron(minute="0", hour=str(hour)),
            targets=[targets.LambdaFunction(self.function.function, retry_attempts=2)],
        )
        self.dashboard = self._build_dashboard()

    def _grant_cost_explorer(self) -> None:
        policy = iam.Policy(
            self,
            "CostExplorerRead",
            statements=[iam.PolicyStatement(actions=list(CE_ACTIONS), resources=["*"])],
        )
        policy.attach_to_role(self.function.role)
        acknowledge(policy, NO_RESOURCE_LEVEL_PERMISSIONS)

    def _grant_athena(self, athena: AthenaCostData) -> None:
        grant_athena_reads(self, "AthenaCostRead", self.function.role, athena, ATHENA_SCOPED_WILDCARD_REASON)

    def _metric(self, name: str, statistic: str = "Sum") -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=constants.METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": SERVICE_NAME},
            statistic=statistic,
            period=DAY,
        )

    def _per_team(self, name: str, label: str) -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(
            expression=(
                f'SEARCH(\'{{{constants.METRICS_NAMESPACE},service,team}} MetricName="{name}" '
                f"service=\"{SERVICE_NAME}\"', 'Maximum', 86400)"
            ),
            label=label,
            period=DAY,
        )

    def _build_dashboard(self) -> cloudwatch.Dashboard:
        # The function's own health (errors, duration, dead letters) is on the stack's operations dashboard.
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{Stack.of(self).stack_name}-cost",
            default_interval=Duration.days(35),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Daily cost per team (USD)",
                left=[self._per_team("DailyCostUSD", "")],
                width=24,
                height=8,
                stacked=True,
            )
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Anomalies and alerts per day",
                left=[self._metric("Anomalies"), self._metric("AlertsPublished")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Budget use: projected month end (% of budget)",
                left=[self._per_team("BudgetUsedPercent", "")],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=90, label="AT_RISK", color=cloudwatch.Color.ORANGE),
                    cloudwatch.HorizontalAnnotation(value=110, label="OVER_BUDGET", color=cloudwatch.Color.RED),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Cost Explorer requests per day ($0.01 each)",
                left=[self._metric("CostExplorerRequests")],
                width=8,
            ),
        )
        return dashboard
