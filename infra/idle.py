"""The idle finder: a daily ``CostwardenFunction`` with a least-privilege role built from the registry.

Read-only by default (``costwarden.idle.iam``); with ``idle.action: expire`` the role may also tag the expiry and
marker keys — only those two keys, only on development/experiment resources without the protect tag, with explicit
denies on protected and production resources (the reaper's tag conditions). The state table holds the price cache,
the weekly alert dedup, the audit and the digest's summary (read/write).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from costwarden.idle.iam import policy_statements
from costwarden.settings import Settings

from infra import nag
from infra.function import CoreResources, CostwardenFunction

IDLE_HANDLER = "costwarden.handlers.idle.handler"
IDLE_TIMEOUT_MINUTES = 15
IDLE_MEMORY_MB = 1024
IDLE_SCOPED_WILDCARD_REASON = (
    "Tagging is allowed on resource ARN patterns (instance/*, volume/*, endpoint/*...) because the idle finder "
    "discovers idle resources at run time; every statement is conditioned on the environment tag being development "
    "or experiment, the protect tag being absent and the tag keys being only the expiry and marker keys, with "
    "explicit denies on protected and production resources."
)


def _wildcard_findings(settings: Settings) -> list[str]:
    regions = list(settings.reaper.regions) or ["<AWS::Region>"]
    statements = policy_statements(settings, partition="<AWS::Partition>", account="<AWS::AccountId>", regions=regions)
    resources: set[str] = set()
    for statement in statements:
        listed = statement["Resource"]
        resources.update([listed] if isinstance(listed, str) else listed)
    return sorted(f"AwsSolutions::AwsSolutions-IAM5[Resource::{r}]" for r in resources if "*" in r and r != "*")


class IdleFinder(Construct):
    """Attributes: ``function``, ``statements`` (the policy as plain dicts), ``policy``, ``rule``."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources, scheduled: bool = True) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name="idle",
            handler=IDLE_HANDLER,
            description="Daily idle finder: idle GPU boxes, endpoints, clusters, notebooks, volumes, priced per team",
            timeout=Duration.minutes(IDLE_TIMEOUT_MINUTES),
            memory_size=IDLE_MEMORY_MB,
            retry_attempts=0,
        )
        stack = Stack.of(self)
        regions = list(settings.reaper.regions) or [stack.region]
        self.statements = policy_statements(settings, partition=stack.partition, account=stack.account, regions=regions)
        self.policy = iam.Policy(
            self, "IdlePolicy", statements=[iam.PolicyStatement.from_json(s) for s in self.statements]
        )
        self.function.role.attach_inline_policy(self.policy)
        scoped = _wildcard_findings(settings)
        if scoped:
            nag.acknowledge_scoped(self.policy, scoped, IDLE_SCOPED_WILDCARD_REASON)
        nag.acknowledge_because(self.policy, nag.XRAY_WILDCARD, nag.IDLE_READS_REASON)
        # Organization mode runs this job from the organization state machine's schedule instead (one
        # schedule per job: infra/fanout_asl.py, OwnAccount).
        self.rule: events.Rule | None = None
        if scheduled:
            self.rule = events.Rule(
                self,
                "Daily",
                description="Costwarden idle finder, daily (settings.idle.schedule_hour_utc, UTC)",
                schedule=events.Schedule.cron(minute="15", hour=str(settings.idle.schedule_hour_utc)),
            )
            self.rule.add_target(targets.LambdaFunction(self.function.function, retry_attempts=0))
