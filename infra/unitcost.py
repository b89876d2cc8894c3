"""Unit costs (``unitcost.enabled``): a daily ``CostwardenFunction`` (analytics bundle: pandas) that prices yesterday
per model, training run and 1M tokens, alerts efficiency regressions and stores what the report and digest read.

IAM, beyond what ``CostwardenFunction`` gives every function (publish to the alert topic, the state table): the
Athena path's read grants (``AthenaCostData.query_statements``, the cost monitor's ``ATHENA_ACTIONS``: one
workgroup, the Glue table, the export's objects, the results prefix) and ``cloudwatch:GetMetricData`` /
``cloudwatch:ListMetrics`` (the endpoints' ``Invocations`` and the custom denominators), which take no resource-level
permissions. The line items are only in the CUR 2.0 Data Export, so synth refuses ``unitcost.enabled`` without
``cost_source: athena`` and a CUR 2.0 export (``check_settings``), naming the key.

It runs an hour before the cost monitor, whose digest shows the unit costs that moved yesterday (the record is read
while under 48 hours old).
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from costwarden.services.unitcost import check_athena
from costwarden.settings import Settings, SettingsError
from costwarden.unitcost.lines import UnitCostError

from infra import nag
from infra.athena import AthenaCostData
from infra.bundling import Bundle
from infra.cost_monitor import ATHENA_ACTIONS
from infra.function import CoreResources, CostwardenFunction

SERVICE_NAME: Final = "unitcost"
HANDLER: Final = "costwarden.handlers.unitcost.handler"
#: What ``adapters.cloudwatch_metrics`` calls for the denominators.
METRIC_READS: Final = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics")
METRIC_READS_REASON: Final = (
    "Unit costs read the endpoints' Invocations and the configured custom denominators with "
    "cloudwatch:GetMetricData and ListMetrics, which support no resource-level permissions: '*' is the only resource."
)
ATHENA_REASON: Final = (
    "Unit costs, cost_source athena: the wildcards are object keys below the export's data prefix (read) and below "
    "results/ of the workgroup's own results bucket (read/write); Glue reads on the one database and table."
)
nag.record_reasons(nag.NO_RESOURCE_LEVEL_PERMISSIONS, METRIC_READS_REASON)


def check_settings(settings: Settings) -> None:
    """Refuse at synth a unit-cost function that could read no bill (``SettingsError`` naming the key)."""
    try:
        check_athena(settings)
    except UnitCostError as error:
        raise SettingsError(str(error)) from None


def schedule_hour(settings: Settings) -> int:
    """An hour before the cost monitor (UTC), whose digest reads yesterday's moves."""
    return (settings.schedules.cost_monitor_hour_utc - 1) % 24


class UnitCosts(Construct):
    """Attributes: ``function``, ``rule``, ``metric_reads``, ``athena_reads``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, core: CoreResources, athena: AthenaCostData | None
    ) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        check_settings(settings)
        if athena is None:  # cost_source: athena builds it (infra/stack.py); checked above, said again for the type
            raise SettingsError("unitcost.enabled needs the Athena path (cost_source: athena) in the stack")
        # Defaults kept: it publishes alerts and reads/writes the state table (episodes, the month's record).
        description = "Daily unit costs per model: per 1k inferences, training run, 1M tokens; regressions"
        self.function = CostwardenFunction(
            self, "Function", core=core, service_name=SERVICE_NAME, handler=HANDLER, description=description,
            bundle=Bundle.ANALYTICS, timeout=Duration.minutes(10), retry_attempts=0,
            memory_size=1024,  # pandas: memory also buys CPU for the cold import and the month's line items
        )  # fmt: skip
        self.athena_reads = iam.Policy(self, "AthenaCostRead", statements=athena.query_statements(ATHENA_ACTIONS))
        self.athena_reads.attach_to_role(self.function.role)
        nag.acknowledge_scoped(self.athena_reads, athena.wildcard_findings(), ATHENA_REASON)
        self.metric_reads = iam.Policy(
            self, "MetricRead", statements=[iam.PolicyStatement(actions=list(METRIC_READS), resources=["*"])]
        )
        self.metric_reads.attach_to_role(self.function.role)
        nag.acknowledge_because(self.metric_reads, nag.NO_RESOURCE_LEVEL_PERMISSIONS, METRIC_READS_REASON)
        hour = schedule_hour(settings)
        cron = events.Schedule.cron(minute="30", hour=str(hour))
        said = f"Costwarden unit costs, daily at {hour:02d}:30 UTC"
        self.rule = events.Rule(self, "DailySchedule", description=said, schedule=cron)
        self.rule.add_target(targets.LambdaFunction(self.function.function, retry_attempts=0))
