"""cdk-nag (AwsSolutions pack) for the app, and every acknowledged finding with the reason it is acceptable.

All acknowledgments live here, keyed by finding id, so a reviewer reads every exception in one place. They are
applied narrowly, on the construct that causes them (a function's role, one queue), never on the whole stack;
``CostwardenFunction`` and the capability constructs call ``acknowledge(construct, FINDING)``.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from infra import constants

XRAY_WILDCARD: Final = "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
#: Same finding id: actions that support no resource-level permissions at all (X-Ray, Cost Explorer).
NO_RESOURCE_LEVEL_PERMISSIONS: Final = XRAY_WILDCARD
KMS_DATA_KEY_WILDCARD: Final = "AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]"
LATEST_RUNTIME: Final = "AwsSolutions::AwsSolutions-L1"
SNS_SUBSCRIPTION_DLQ: Final = "AwsSolutions::AwsSolutions-SQS3"

ACKNOWLEDGMENTS: Final[dict[str, str]] = {
    XRAY_WILDCARD: (
        "Actions that support no resource-level permissions (the Service Authorization Reference lists only '*'): "
        "active X-Ray tracing's xray:PutTraceSegments and xray:PutTelemetryRecords, acknowledged on each "
        "function's separate tracing policy holding exactly these two actions; Cost Explorer's "
        "ce:GetCostAndUsage supports no resource-level permissions either, acknowledged on the cost monitor's "
        "separate Cost Explorer policy holding that one read-only action; and the "
        "reaper's read-only list/describe actions (tag:GetResources, ec2:Describe*, ...), on the reaper's own policy."
    ),
    KMS_DATA_KEY_WILDCARD: (
        "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* (GenerateDataKey and "
        "GenerateDataKeyWithoutPlaintext) on the topic's key; the wildcard is in the action name only and the "
        "statement is scoped to that one key's ARN."
    ),
    LATEST_RUNTIME: (
        f"Functions run on Python {constants.TARGET_PYTHON_VERSION}, not 3.14: bundles ship .pyc compiled by an "
        "interpreter of the exact target version (Lambda's /var/task is read-only, so without them pandas/scipy "
        "compile from source on every cold start, ~2 s), and 3.13 is the newest interpreter available where "
        f"Costwarden is built. Python {constants.TARGET_PYTHON_VERSION} is supported by Lambda until 2029; moving "
        "on is the three constants in infra/constants.py."
    ),
    SNS_SUBSCRIPTION_DLQ: (
        "This queue IS a dead-letter queue: the SNS subscription's redrive target (messages SNS could not deliver "
        "to the notifier). cdk-nag only recognises queues referenced by another queue's RedrivePolicy or a "
        "function's DeadLetterConfig, not by AWS::SNS::Subscription RedrivePolicy. A DLQ of a DLQ would add nothing; "
        "its depth alarm goes to the operator topic."
    ),
}


#: The reaper's registry-built policy (infra/reaper.py) yields one IAM5 finding per resource-type ARN pattern
#: (``instance/*``, ``cluster/*``...); their ids depend on the configured regions, so the reaper registers them
#: with this reason at synth through ``acknowledge_scoped``.
REAPER_SCOPED_WILDCARD_REASON: Final = (
    "Reaper policy built from the registry (costwarden/resources/iam.py): list/describe actions support no "
    "resource-level permissions ('*'); every destructive action is scoped to its resource-type ARN pattern "
    "(the resources are not known at deploy time) AND conditioned on the resource carrying expires_at and not "
    "carrying costwarden:protect=true, with explicit Deny statements for protected and production resources; "
    "tests/infra/test_reaper.py checks every destructive statement carries these conditions."
)


def acknowledge_scoped(construct: IConstruct, findings: list[str], reason: str) -> None:
    """Record ``reason`` for findings whose ids are computed at synth, then acknowledge them on ``construct``."""
    for finding in findings:
        ACKNOWLEDGMENTS[finding] = reason
    acknowledge(construct, *findings)


def acknowledge(construct: IConstruct, *findings: str) -> None:
    """Acknowledge ``findings`` on ``construct`` (and its children) with the reasons recorded above."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=f, reason=ACKNOWLEDGMENTS[f]) for f in findings))


def add_checks(app: App) -> None:
    """Run the AwsSolutions pack on every synth of ``app``: an unacknowledged finding fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


#: The tag audit's read policy triggers the same finding id as X-Ray (IAM5[Resource::*]) for a different cause.
TAG_AUDIT_READS_REASON: Final = (
    "The tag audit calls tag:GetResources, ce:GetCostAndUsage, ce:ListCostAllocationTags and ec2:DescribeInstances, "
    "which support no resource-level permissions ('*' is the only resource IAM accepts for them; all are read-only). "
    "Acknowledged on the tag audit's separate read policy, which holds exactly these four actions."
)
#: Organization scale (infra/fanout.py): the same finding ids for the fan-out's own causes.
ORG_FANOUT_REASON: Final = (
    "Organization fan-out: Organizations' List* reads support no resource-level permissions ('*' only) in the "
    "accounts function's separate policy; the state machine's role invokes its four functions (and their "
    "versions, ':*') and starts its own Distributed Map child executions (its own ARN pattern only); Step "
    "Functions log delivery and X-Ray actions support only '*'. sts:AssumeRole is limited to the two member role "
    "names, in accounts of this organization only (aws:ResourceOrgID)."
)
#: The idle finder's read-only statement (costwarden/idle/iam.py): same finding id, its own cause.
IDLE_READS_REASON: Final = (
    "The idle finder's read-only statement lists and describes resources, reads CloudWatch metrics (GetMetricData, "
    "ListMetrics) and the Price List (pricing:GetProducts); none of these actions supports resource-level "
    "permissions, so '*' is the only resource IAM accepts; tagging, when enabled, is in separate scoped statements."
)
#: The Slack app's Extend policy (infra/interact.py): same finding ids, computed at synth like the reaper's.
INTERACT_SCOPED_WILDCARD_REASON: Final = (
    "Slack app Extend policy built from the reaper registry (costwarden/resources/iam.py extend_statements): "
    "describe/list actions and tag:TagResources support no resource-level permissions ('*', read-only or needing "
    "the service's own tagging permission as well); every service tagging action is scoped to its resource-type "
    "ARN pattern AND conditioned on the resource carrying expires_at, not carrying costwarden:protect=true and not "
    "being production."
)
#: The Slack app's Extend policy: its read actions and tag:TagResources, which support no resource scope.
INTERACT_READS_REASON: Final = (
    "The Slack app's Extend policy reads resources with describe/list actions and tag:GetResources and tags through "
    "tag:TagResources; none supports resource-level permissions ('*' is the only resource IAM accepts), and every "
    "tag write also needs the service's own tagging permission, ARN-scoped and tag-conditioned in the same policy."
)
#: The hard limit's role: ec2:DescribeInstances supports no resource-level permissions.
HARD_LIMIT_READS_REASON: Final = (
    "The hard-limit role lists instances (ec2:DescribeInstances), SageMaker notebooks, jobs and endpoints (List*, "
    "tag:GetResources), which support no resource-level permissions ('*' is the only resource IAM accepts; "
    "read-only). Its only write actions are ARN-scoped and tag-conditioned."
)
#: The hard limit's role: instances, notebooks, jobs and endpoints are not known at deploy time.
HARD_LIMIT_SCOPED_REASON: Final = (
    "The hard-limit role stops resources not known at deploy time: ec2:StopInstances and sagemaker:Stop* (and "
    "DeleteEndpoint only with budgets.hard_limit_endpoints: delete) are scoped to the type's ARN pattern AND "
    "conditioned on the opted-in team tag, environment development/experiment and no protect tag."
)
#: The hard limit's grace timer: its one-time schedules are named per team at run time.
HARD_LIMIT_TIMER_REASON: Final = (
    "The hard limit's grace timer creates (notifier) and deletes (Slack app, Hold) one-time schedules named per team "
    "at run time: scheduler:CreateSchedule/UpdateSchedule/DeleteSchedule are scoped to the stack's own schedule group."
)
ACCOUNT_TEAMS_REASON: Final = (
    "Cost monitor, organization + Athena only: organizations:ListAccounts and ListTagsForResource (read the "
    "account's team tag for account-default attribution) support no resource-level permissions ('*' only)."
)
#: Further recorded reasons for a finding id whose cause differs per construct (id → reasons).
OTHER_REASONS: Final[dict[str, tuple[str, ...]]] = {
    XRAY_WILDCARD: (
        TAG_AUDIT_READS_REASON,
        IDLE_READS_REASON,
        ORG_FANOUT_REASON,
        INTERACT_READS_REASON,
        HARD_LIMIT_READS_REASON,
        ACCOUNT_TEAMS_REASON,
    )
}


def record_reasons(finding: str, *reasons: str) -> None:
    """Record reasons a capability construct gives for ``finding`` (read by ``acknowledge_because``)."""
    known = OTHER_REASONS.get(finding, ())
    OTHER_REASONS[finding] = (*known, *(r for r in reasons if r not in known))


def acknowledge_because(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge ``finding`` on ``construct`` with a reason recorded in ``ACKNOWLEDGMENTS`` or ``OTHER_REASONS``."""
    if reason not in (ACKNOWLEDGMENTS[finding], *OTHER_REASONS.get(finding, ())):
        raise ValueError(f"record the reason for {finding} in infra/nag.py first")
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))
