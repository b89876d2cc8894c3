"""The idle finder: a daily ``CostwardenFunction`` with a least-privilege role built from the registry.

Read-only by default (``costwarden.idle.iam``); with ``idle.action: expire`` the role may also tag the expiry and
marker keys — only those two keys, only on development/experiment resources without the protect tag, with explicit
denies on protected and production resources (the reaper's tag conditions). The state table holds the price cache,
the weekly alert dedup, the audit and the digest's summary (read/write).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct
from costwarden.idle.iam import policy_statements
from costwarden.settings import Settings

from infra import nag
from infra.athena import AthenaCostData
from infra.cost_monitor import grant_athena_reads
from infra.function import CoreResources
from infra.scheduled import JobSpec, ScheduledJob

IDLE_HANDLER = "costwarden.handlers.idle.handler"
IDLE_TIMEOUT_MINUTES = 15
IDLE_MEMORY_MB = 1024
K8S_SCOPED_WILDCARD_REASON = (
    "Idle finder, k8s_guard: reads the GPU nodes' split cost from the same Data Export as the cost monitor; the "
    "wildcards are object keys below the export's data prefix (read) and below results/ of the workgroup's own "
    "results bucket (read/write); Glue reads are on the one database and table; Athena actions on the one workgroup."
)
IDLE_SCOPED_WILDCARD_REASON = (
    "Tagging is allowed on resource ARN patterns (instance/*, volume/*, endpoint/*...) because the idle finder "
    "discovers idle resources at run time; every statement is conditioned on the environment tag being development "
    "or experiment, the protect tag being absent and the tag keys being only the expiry and marker keys, with "
    "explicit denies on protected and production resources."
)


def idle_spec(settings: Settings) -> JobSpec:
    return JobSpec(
        service_name="idle",
        handler=IDLE_HANDLER,
        description="Daily idle finder: idle GPU boxes, endpoints, clusters, notebooks, volumes, priced per team",
        timeout=Duration.minutes(IDLE_TIMEOUT_MINUTES),
        memory_size=IDLE_MEMORY_MB,
        statements=policy_statements,
        policy_id="IdlePolicy",
        scoped_reason=IDLE_SCOPED_WILDCARD_REASON,
        star_reason=nag.IDLE_READS_REASON,
        schedule=events.Schedule.cron(minute="15", hour=str(settings.idle.schedule_hour_utc)),
        rule_id="Daily",
        rule_description="Costwarden idle finder, daily (settings.idle.schedule_hour_utc, UTC)",
    )


class IdleFinder(ScheduledJob):
    """Attributes: ``function``, ``statements`` (the policy as plain dicts), ``policy``, ``rule`` (``None`` in
    organization mode: the organization run starts it, one schedule per job)."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources, scheduled: bool = True) -> None:
        super().__init__(scope, construct_id, core=core, spec=idle_spec(core.settings), scheduled=scheduled)

    def read_split_costs(self, athena: AthenaCostData) -> None:
        """``k8s_guard``: idle GPU nodes from split cost data (docs/k8s.md), with the cost monitor's Athena grants."""
        grant_athena_reads(self, "K8sCostRead", self.function.role, athena, K8S_SCOPED_WILDCARD_REASON)
