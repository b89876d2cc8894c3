"""The Bedrock spend guard: a light ``CostwardenFunction`` every hour, its role built from
``costwarden.bedrock.iam`` (reads, the profiles' tags, the deny on exactly the ``auto`` teams' tagged roles).

Deployed only with ``bedrock.enabled``. ``bedrock.hard_limit: approve`` is pressed in Slack, so it needs the app
and on-call (refused here at synth otherwise); the Slack app's hard-limit role gets the deny statements of every
opted-in team (``infra/interact.py``).
"""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct
from costwarden.bedrock.iam import deny_statements, policy_statements
from costwarden.settings import Settings

from infra import nag
from infra.function import CoreResources
from infra.scheduled import JobSpec, ScheduledJob

BEDROCK_HANDLER = "costwarden.handlers.bedrock.handler"
BEDROCK_READS_REASON = (
    "The Bedrock guard calls bedrock:ListInferenceProfiles, cloudwatch:GetMetricData and ListMetrics, "
    "pricing:GetProducts and ce:GetCostAndUsage, which have no resource-level permissions: '*' is the only resource."
)
BEDROCK_SCOPED_REASON = (
    "bedrock:ListTagsForResource is allowed on application-inference-profile/* because the guard lists the account's "
    "profiles at run time to read their team tags; it is read-only."
)
nag.record_reasons(nag.XRAY_WILDCARD, BEDROCK_READS_REASON)
#: Characters the deny statements may take: IAM allows 10,240 of inline policy per role, and the Slack app's
#: hard-limit role also carries the EC2/SageMaker hard limit's statements.
MAX_DENY_CHARS = 5_000


def check_settings(settings: Settings) -> None:
    """Refuse at synth what would deploy a guard that cannot do what it says: ``approve`` without the Slack app or
    on-call (nobody could press *Deny Bedrock*), a ``bedrock.roles`` too long for one role's inline policies."""
    approved = sorted(t for t, mode in settings.bedrock.hard_limit.items() if mode == "approve")
    interact = settings.interact
    if approved and not (interact.enabled and (interact.oncall_users or interact.oncall_groups)):
        raise ValueError(
            f"bedrock.hard_limit is approve for {approved[0]!r} but the Slack app (interact.enabled) or on-call "
            "(interact.oncall_users / oncall_groups) is missing: nobody could press Deny Bedrock; use auto or off"
        )
    statements = deny_statements(settings, partition="aws", account="123456789012")
    size = len(json.dumps(statements, separators=(",", ":")))
    if size > MAX_DENY_CHARS:
        raise ValueError(
            f"bedrock.roles: the deny's IAM statements for {len(statements[0]['Resource'])} role(s) take {size} "
            f"characters, over {MAX_DENY_CHARS} (IAM: 10,240 of inline policy per role); opt fewer teams in"
        )


def bedrock_spec(settings: Settings) -> JobSpec:
    del settings  # one schedule: hourly, at minute 5 (CloudWatch's token metrics of the hour are in by then)
    return JobSpec(
        service_name="bedrock",
        handler=BEDROCK_HANDLER,
        description="Hourly Bedrock spend guard: token metrics x prices per team, budget, baseline, opt-in deny",
        timeout=Duration.minutes(5),
        memory_size=512,
        statements=policy_statements,
        policy_id="BedrockPolicy",
        scoped_reason=BEDROCK_SCOPED_REASON,
        star_reason=BEDROCK_READS_REASON,
        schedule=events.Schedule.cron(minute="5"),
        rule_id="Hourly",
        rule_description="Costwarden Bedrock spend guard, hourly at minute 5 (UTC)",
    )


class BedrockGuard(ScheduledJob):
    """Attributes: ``function``, ``statements``, ``policy``, ``rule``."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources) -> None:
        settings = core.settings
        check_settings(settings)
        super().__init__(scope, construct_id, core=core, spec=bedrock_spec(settings))
