"""The weekly tag audit: a light ``CostwardenFunction`` on an EventBridge schedule from settings.

IAM, least privilege where the API allows it:

- ``tag:GetResources`` (in a policy of its own, where cdk-nag's IAM5 finding is acknowledged with the reason
  recorded in ``infra/nag.py``) — the Resource Groups Tagging API has no resource-level permissions: ``*`` is the only
  possible resource (Service Authorization Reference, "Resource Groups Tagging API").
- ``ce:GetCostAndUsage`` and ``ce:ListCostAllocationTags`` — Cost Explorer has no resource-level permissions for
  these actions either: ``*`` only.
- ``ec2:DescribeInstances`` (``*`` only) — to leave out terminated instances the tagging API still returns.
- ``sns:Publish`` on the alert topic (``CostwardenFunction``'s ``publishes_alerts``).
- No state table access: the audit keeps no state between runs (its trend comes from Cost Explorer itself).

The schedule is ``cron(0 <tag_audit_hour_utc> ? * <tag_audit_weekday> *)`` (UTC), from ``settings.schedules``.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag
from infra.function import CoreResources, CostwardenFunction

TAG_AUDIT_HANDLER = "costwarden.handlers.tag_audit.handler"
#: Actions that only accept ``Resource: "*"`` (no resource-level permissions exist for them).
STAR_ONLY_ACTIONS = (
    "tag:GetResources",
    "ce:GetCostAndUsage",
    "ce:ListCostAllocationTags",
    "ec2:DescribeInstances",
)


class TagAudit(Construct):
    """Attributes: ``function`` (the ``CostwardenFunction``), ``rule`` (the weekly schedule)."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources, scheduled: bool = True) -> None:
        super().__init__(scope, construct_id)
        schedules = core.settings.schedules
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name="tag_audit",
            handler=TAG_AUDIT_HANDLER,
            description="Weekly tag audit: policy violations per team, untagged spend share, cost allocation tags",
            timeout=Duration.minutes(5),
            publishes_alerts=True,
            state_access="none",
        )
        # A policy of its own holding only the '*'-only reads, so cdk-nag's IAM5 is acknowledged on it alone.
        self.read_policy = iam.Policy(
            self,
            "ReadTagsAndCost",
            statements=[iam.PolicyStatement(actions=list(STAR_ONLY_ACTIONS), resources=["*"])],
        )
        self.read_policy.attach_to_role(self.function.role)
        nag.acknowledge_because(self.read_policy, nag.XRAY_WILDCARD, nag.TAG_AUDIT_READS_REASON)
        # Organization mode runs this job from the organization state machine's schedule instead (one
        # schedule per job: infra/fanout_asl.py, OwnAccount).
        self.rule: events.Rule | None = None
        if scheduled:
            self.rule = events.Rule(
                self,
                "Weekly",
                description="Costwarden tag audit, weekly (settings.schedules.tag_audit_weekday/_hour_utc, UTC)",
                schedule=events.Schedule.cron(
                    minute="0", hour=str(schedules.tag_audit_hour_utc), week_day=schedules.tag_audit_weekday
                ),
            )
            self.rule.add_target(targets.LambdaFunction(self.function.function, retry_attempts=2))
