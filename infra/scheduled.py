"""``ScheduledJob``: a ``CostwardenFunction`` on an EventBridge schedule whose role carries a policy built from the
resource registry's declarations — the shape of the reaper and the idle finder (issue 19: one construct, not two
copies).

A job declares its generator (``(settings, partition=, account=, regions=) -> statements``), its schedule and the
cdk-nag reasons for its two kinds of wildcard finding: ``*`` (list/describe actions without resource-level
permissions) and the ARN patterns of the scoped statements (resources only known at run time). The finding ids of
the scoped statements depend on the configured regions, so they are computed from the same generator at synth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from costwarden.settings import Settings

from infra import nag
from infra.function import CoreResources, CostwardenFunction

#: ``(settings, *, partition, account, regions) -> IAM statements as dicts`` (``costwarden.*.iam``).
StatementGenerator = Callable[..., list[dict[str, Any]]]


def wildcard_findings(generator: StatementGenerator, settings: Settings) -> list[str]:
    """The exact cdk-nag IAM5 finding ids of a registry-built policy (cdk-nag writes tokens as ``<AWS::...>``);
    ``*`` (read-only actions) has its own, shared finding id (``nag.XRAY_WILDCARD``)."""
    regions = list(settings.reaper.regions) or ["<AWS::Region>"]
    statements = generator(settings, partition="<AWS::Partition>", account="<AWS::AccountId>", regions=regions)
    resources: set[str] = set()
    for statement in statements:
        listed = statement["Resource"]
        resources.update([listed] if isinstance(listed, str) else listed)
    return sorted(f"AwsSolutions::AwsSolutions-IAM5[Resource::{r}]" for r in resources if "*" in r and r != "*")


@dataclass(frozen=True)
class JobSpec:
    """What differs between scheduled jobs; construct ids are kept per job so logical ids never move."""

    service_name: str
    handler: str
    description: str
    timeout: Duration
    memory_size: int
    statements: StatementGenerator
    policy_id: str
    scoped_reason: str
    #: Reason for ``nag.XRAY_WILDCARD`` on the policy; ``None``: the shared one in ``nag.ACKNOWLEDGMENTS``.
    star_reason: str | None
    schedule: events.Schedule
    rule_id: str
    rule_description: str


class ScheduledJob(Construct):
    """Attributes: ``function``, ``statements`` (the policy as plain dicts), ``policy``, ``rule`` (``None`` when
    ``scheduled`` is off: organization mode starts the job from its state machine instead)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, core: CoreResources, spec: JobSpec, scheduled: bool = True
    ) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name=spec.service_name,
            handler=spec.handler,
            description=spec.description,
            timeout=spec.timeout,
            memory_size=spec.memory_size,
            retry_attempts=0,
        )
        stack = Stack.of(self)
        regions: Sequence[str] = list(settings.reaper.regions) or [stack.region]
        self.statements = spec.statements(settings, partition=stack.partition, account=stack.account, regions=regions)
        self.policy = iam.Policy(
            self, spec.policy_id, statements=[iam.PolicyStatement.from_json(s) for s in self.statements]
        )
        self.function.role.attach_inline_policy(self.policy)
        scoped = wildcard_findings(spec.statements, settings)
        if scoped:
            nag.acknowledge_scoped(self.policy, scoped, spec.scoped_reason)
        if spec.star_reason is None:
            nag.acknowledge(self.policy, nag.XRAY_WILDCARD)
        else:
            nag.acknowledge_because(self.policy, nag.XRAY_WILDCARD, spec.star_reason)
        self.rule: events.Rule | None = None
        if scheduled:
            self.rule = events.Rule(self, spec.rule_id, description=spec.rule_description, schedule=spec.schedule)
            self.rule.add_target(targets.LambdaFunction(self.function.function, retry_attempts=0))
