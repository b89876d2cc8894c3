"""The reaper: an hourly ``CostwardenFunction`` whose role is built from the reaper's registry declarations.

The role (``costwarden.reaper.iam.policy_statements``) allows each destructive action only on its resource ARN
pattern in the configured regions, only on resources carrying ``expires_at`` and not carrying
``costwarden:protect=true``, and explicitly denies those actions on protected (and, unless allowed, production)
resources — so even a bug in the reaper cannot terminate what the tags protect. The timeout is kept below the
schedule's rate, so two scheduled runs never overlap (reserved concurrency would do it too, but a reservation fails
deployment on new accounts whose concurrency limit is 10); no automatic retries of a failed run (the next run
retries, idempotently).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from costwarden.reaper.iam import policy_statements
from costwarden.settings import Settings

from infra import nag
from infra.function import CoreResources, CostwardenFunction

REAPER_HANDLER = "costwarden.handlers.reaper.handler"
REAPER_MAX_TIMEOUT_MINUTES = 10
REAPER_MEMORY_MB = 512


def _wildcard_findings(settings: Settings) -> list[str]:
    """The exact cdk-nag IAM5 finding ids of the registry-built policy (cdk-nag writes tokens as ``<AWS::...>``)."""
    regions = list(settings.reaper.regions) or ["<AWS::Region>"]
    statements = policy_statements(settings, partition="<AWS::Partition>", account="<AWS::AccountId>", regions=regions)
    resources: set[str] = set()
    for statement in statements:
        listed = statement["Resource"]
        resources.update([listed] if isinstance(listed, str) else listed)
    # '*' (read-only actions) has its own, shared finding id and reason (nag.XRAY_WILDCARD).
    return sorted(f"AwsSolutions::AwsSolutions-IAM5[Resource::{r}]" for r in resources if "*" in r and r != "*")


class Reaper(Construct):
    """Attributes: ``function`` (``CostwardenFunction``), ``policy`` (the registry-built policy), ``rule``."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources, scheduled: bool = True) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name="reaper",
            handler=REAPER_HANDLER,
            description="Warns about, then stops/terminates/deletes resources past their expires_at tag (capped)",
            timeout=Duration.minutes(min(REAPER_MAX_TIMEOUT_MINUTES, settings.schedules.reaper_rate_minutes - 1)),
            memory_size=REAPER_MEMORY_MB,
            retry_attempts=0,
        )
        stack = Stack.of(self)
        regions = list(settings.reaper.regions) or [stack.region]
        self.statements = policy_statements(settings, partition=stack.partition, account=stack.account, regions=regions)
        self.policy = iam.Policy(
            self,
            "ReaperPolicy",
            statements=[iam.PolicyStatement.from_json(statement) for statement in self.statements],
        )
        self.function.role.attach_inline_policy(self.policy)
        nag.acknowledge_scoped(self.policy, _wildcard_findings(settings), nag.REAPER_SCOPED_WILDCARD_REASON)
        nag.acknowledge(self.policy, nag.XRAY_WILDCARD)
        # Organization mode runs this job from the organization state machine's schedule instead (one
        # schedule per job: infra/fanout_asl.py, OwnAccount).
        self.rule: events.Rule | None = None
        if scheduled:
            self.rule = events.Rule(
                self,
                "Schedule",
                description="Costwarden reaper: hourly by default (settings.schedules.reaper_rate_minutes)",
                schedule=events.Schedule.rate(Duration.minutes(settings.schedules.reaper_rate_minutes)),
            )
            self.rule.add_target(targets.LambdaFunction(self.function.function, retry_attempts=0))
