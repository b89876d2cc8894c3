"""The savings advisor: a weekly advisor function, a monthly report function, and the private report bucket.

Both functions use the analytics bundle: they read the cost monitor's daily cache (pandas) so that the 90-day
inference history and the report's phase breakdown cost no extra Cost Explorer requests.

IAM, beyond what ``CostwardenFunction`` gives every function:

- advisor: read-only Cost Explorer (cost and usage, reservation and Savings Plans utilisation, coverage and purchase
  recommendation), ``savingsplans:DescribeSavingsPlans``, ``ec2:DescribeSpotPriceHistory``, ``sagemaker:Search``
  (training jobs' managed-spot and checkpoint settings), ``tag:GetResources``,
  ``cloudwatch:ListMetrics``/``GetMetricData``, ``s3:ListAllMyBuckets`` — none supports resource-level permissions,
  so they sit in one read policy on ``"*"`` (acknowledged) — and ``s3:GetLifecycleConfiguration``,
  ``s3:GetBucketTagging``, ``s3:GetBucketLocation`` on buckets. ``s3:PutLifecycleConfiguration`` is granted only when
  ``storage.action`` is ``apply``: with the default ``report`` IAM itself refuses any change. No delete of a lifecycle
  configuration is ever granted, and the report bucket's rules are explicitly denied.
- report: ``ce:GetCostAndUsage``; ``s3:PutObject`` and ``s3:GetObject`` (a pre-signed link is signed with the
  function's own credentials, so the role must be allowed to read what it links) on the report bucket's ``reports/``.
  With ``k8s_guard`` (``read_split_costs``), ``ReportK8sCostRead``: the Athena path's reads, as the cost monitor's.

The bucket: private (all public access blocked, bucket-owner-enforced), encrypted at rest (S3-managed keys, so a
pre-signed link needs no KMS grant), SSL only, reports expire after ``advisor.report_bucket_days``.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.athena import AthenaCostData
from infra.buckets import expiring_bucket
from infra.bundling import Bundle
from infra.cost_monitor import grant_athena_reads
from infra.function import CoreResources, CostwardenFunction
from infra.nag import NO_RESOURCE_LEVEL_PERMISSIONS, acknowledge_because, acknowledge_scoped, record_reasons

ADVISOR_HANDLER: Final = "costwarden.handlers.advisor.handler"
REPORT_HANDLER: Final = "costwarden.handlers.advisor.report_handler"
REPORT_BUCKET_ENV: Final = "REPORT_BUCKET_NAME"
REPORT_PREFIX: Final = "reports/"
#: Read-only actions without resource-level permissions (the Service Authorization Reference lists only "*").
ADVISOR_READS: Final = (
    "ce:GetCostAndUsage",
    "ce:GetReservationUtilization",
    "ce:GetReservationCoverage",
    "ce:GetSavingsPlansUtilizationDetails",
    "ce:GetSavingsPlansCoverage",
    "ce:GetSavingsPlansPurchaseRecommendation",
    "savingsplans:DescribeSavingsPlans",
    "ec2:DescribeSpotPriceHistory",
    "sagemaker:Search",
    "tag:GetResources",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "s3:ListAllMyBuckets",
)
BUCKET_READS: Final = ("s3:GetLifecycleConfiguration", "s3:GetBucketTagging", "s3:GetBucketLocation")
LIFECYCLE_PUT: Final = "s3:PutLifecycleConfiguration"
WEEKDAYS: Final = {"MON": "MON", "TUE": "TUE", "WED": "WED", "THU": "THU", "FRI": "FRI", "SAT": "SAT", "SUN": "SUN"}

ADVISOR_READS_REASON: Final = (
    "The savings advisor's read policy holds only read-only actions that support no resource-level permissions "
    "('*' is the only resource IAM accepts for them): Cost Explorer's cost, reservation and Savings Plans reads, "
    "savingsplans:DescribeSavingsPlans, ec2:DescribeSpotPriceHistory, sagemaker:Search, tag:GetResources, "
    "cloudwatch:ListMetrics and GetMetricData, s3:ListAllMyBuckets."
)
BUCKET_WILDCARD_REASON: Final = (
    "The advisor reads the lifecycle, tags and location of artefact buckets it cannot know at deploy time "
    "(arn:aws:s3:::*, bucket level, read-only); the opt-in lifecycle put (storage.action: apply) has the same "
    "scope, is dry run by default, capped per run, audited, never replaces an existing configuration, and is "
    "denied on Costwarden's own report bucket."
)
REPORT_OBJECTS_REASON: Final = (
    "The report function writes and reads (for its pre-signed link) objects under reports/ of its own report "
    "bucket only: the wildcard is the object key below that prefix."
)
ACCESS_LOGS_REASON: Final = (
    "The report bucket holds generated HTML reports read through short-lived pre-signed links; server access "
    "logging would need a further log bucket (itself flagged by the same rule). Reads are authorised by the "
    "report function's role only and can be audited with CloudTrail data events."
)
REPORT_CE_REASON: Final = (
    "The report function's Cost Explorer policy holds the one read-only action ce:GetCostAndUsage, which supports "
    "no resource-level permissions."
)
BUCKETS_WILDCARD: Final = "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::*]"
REPORT_K8S_REASON: Final = (
    "Monthly report, k8s_guard: reads the month's EKS split cost from the same Data Export as the cost monitor; the "
    "wildcards are object keys below the export's data prefix (read) and below results/ of the workgroup's own "
    "results bucket (read/write); Glue reads are on the one database and table; Athena actions on the one workgroup."
)
record_reasons(NO_RESOURCE_LEVEL_PERMISSIONS, ADVISOR_READS_REASON, REPORT_CE_REASON)


class Advisor(Construct):
    """Attributes: ``advisor`` and ``report`` (``CostwardenFunction``), ``bucket``, ``weekly`` and ``monthly`` rules."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        self.bucket = self._build_bucket(settings.advisor.report_bucket_days)
        self.advisor = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name="advisor",
            handler=ADVISOR_HANDLER,
            description="Weekly savings advisor: artefact storage, commitments, purchase mix",
            bundle=Bundle.ANALYTICS,
            timeout=Duration.minutes(10),
            memory_size=1024,
            retry_attempts=0,  # a retry would repeat Cost Explorer requests; the next week's run catches up
        )
        self._grant_advisor(settings.storage.action == "apply")
        self.report = CostwardenFunction(
            self,
            "ReportFunction",
            core=core,
            service_name="report",
            handler=REPORT_HANDLER,
            description="Monthly cost report by team, model, project and phase (HTML in the report bucket)",
            bundle=Bundle.ANALYTICS,
            timeout=Duration.minutes(10),
            memory_size=1024,
            environment={REPORT_BUCKET_ENV: self.bucket.bucket_name},
            retry_attempts=1,
        )
        self._grant_report()
        hour, day = settings.advisor.hour_utc, WEEKDAYS[settings.advisor.weekday]
        self.weekly = events.Rule(
            self,
            "WeeklySchedule",
            description=f"Costwarden savings advisor, {day} {hour:02d}:00 UTC",
            schedule=events.Schedule.cron(minute="0", hour=str(hour), week_day=day),
            targets=[targets.LambdaFunction(self.advisor.function, retry_attempts=0)],
        )
        self.monthly = events.Rule(
            self,
            "MonthlySchedule",
            description=f"Costwarden monthly cost report, 1st of the month {hour:02d}:30 UTC",
            schedule=events.Schedule.cron(minute="30", hour=str(hour), day="1"),
            targets=[targets.LambdaFunction(self.report.function, retry_attempts=1)],
        )

    def read_split_costs(self, athena: AthenaCostData) -> None:
        """``k8s_guard``: the report's Kubernetes section from split cost data (docs/k8s.md), with the cost monitor's
        Athena grants on the report function only (the weekly advisor reads no EKS facts)."""
        grant_athena_reads(self, "ReportK8sCostRead", self.report.role, athena, REPORT_K8S_REASON)

    def _build_bucket(self, days: int) -> s3.Bucket:
        return expiring_bucket(
            self, "ReportBucket", days, RemovalPolicy.RETAIN, ACCESS_LOGS_REASON, rule_id="expire-reports"
        )

    def _grant_advisor(self, may_put_lifecycle: bool) -> None:
        statements = [
            iam.PolicyStatement(actions=list(ADVISOR_READS), resources=["*"]),
        ]
        reads = iam.Policy(self, "AdvisorReads", statements=statements)
        reads.attach_to_role(self.advisor.role)
        acknowledge_because(reads, NO_RESOURCE_LEVEL_PERMISSIONS, ADVISOR_READS_REASON)
        bucket_statements = [iam.PolicyStatement(actions=list(BUCKET_READS), resources=["arn:aws:s3:::*"])]
        if may_put_lifecycle:
            bucket_statements.append(iam.PolicyStatement(actions=[LIFECYCLE_PUT], resources=["arn:aws:s3:::*"]))
        bucket_statements.append(
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=[LIFECYCLE_PUT], resources=[self.bucket.bucket_arn])
        )
        buckets = iam.Policy(self, "AdvisorBuckets", statements=bucket_statements)
        buckets.attach_to_role(self.advisor.role)
        acknowledge_scoped(buckets, [BUCKETS_WILDCARD], BUCKET_WILDCARD_REASON)

    def _grant_report(self) -> None:
        ce = iam.Policy(
            self,
            "ReportCostExplorer",
            statements=[iam.PolicyStatement(actions=["ce:GetCostAndUsage"], resources=["*"])],
        )
        ce.attach_to_role(self.report.role)
        acknowledge_because(ce, NO_RESOURCE_LEVEL_PERMISSIONS, REPORT_CE_REASON)
        objects = iam.Policy(
            self,
            "ReportObjects",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:GetObject"],
                    resources=[self.bucket.arn_for_objects(f"{REPORT_PREFIX}*")],
                )
            ],
        )
        objects.attach_to_role(self.report.role)
        stack = Stack.of(self)
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        logical_id = stack.resolve(stack.get_logical_id(cfn_bucket))
        finding = f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{REPORT_PREFIX}*]"
        acknowledge_scoped(objects, [finding], REPORT_OBJECTS_REASON)
