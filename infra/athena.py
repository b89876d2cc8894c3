"""The Athena cost path (``cost_source: athena``): Data Export, its bucket, the Glue table over it, the workgroup.

What is built (docs/infra.md, "Athena cost path", says why each choice):

- the CUR 2.0 Data Export (``AWS::BCMDataExports::Export``: daily, Parquet, resource ids and split cost allocation
  data on) or a FOCUS 1.2 / 1.0 export (``organization.athena.export_format: focus``), selecting exactly the
  columns of ``EXPORT_COLUMNS`` (those the SQL in ``costwarden/cost/sql/`` reads, plus the resource id); and its
  bucket, whose policy lets ``bcm-data-exports.amazonaws.com`` and ``billingreports.amazonaws.com`` write for this
  account's exports only (``aws:SourceAccount`` / ``aws:SourceArn``). With ``export_bucket`` set, an existing
  export is taken by name instead (bucket, prefix and export name from the settings) and neither is created;
- the Glue database and table, partitioned by ``billing_period`` with partition projection (no crawler);
- an Athena workgroup with its own encrypted results bucket (7-day expiry), the bytes-scanned cutoff per query and
  the configuration enforced (a client cannot override the limit or the output location);
- ``query_statements()``: the least-privilege grants the cost monitor's role gets (``infra/cost_monitor.py``).

The Data Export API exists in us-east-1 only (the billing region). The stack creates the export when it is
deployed there; a synth for another known region fails with the fix (take an existing export by name), and an
environment-agnostic synth carries a CloudFormation rule that fails the deploy before any resource is created.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_athena as athena
from aws_cdk import aws_bcmdataexports as bcm
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct
from costwarden.settings import AthenaSettings, SettingsError

from infra.buckets import expiring_bucket
from infra.function import CoreResources
from infra.nag import acknowledge_scoped

BILLING_REGION: Final = "us-east-1"
EXPORT_WRITERS: Final = ("bcm-data-exports.amazonaws.com", "billingreports.amazonaws.com")
#: The Data Export table queried, per format (FOCUS by ``focus_version``).
EXPORT_TABLES: Final = {"cur2": "COST_AND_USAGE_REPORT", "focus:1.0": "FOCUS_1_0_AWS", "focus:1.2": "FOCUS_1_2_AWS"}
#: Columns of the export (its QueryStatement) and of the Glue table, with their Glue types. What the SQL reads
#: (tests/infra/test_athena.py derives that from the rendered SQL and compares), plus the resource id.
EXPORT_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "cur2": {
        "line_item_usage_start_date": "timestamp",
        "line_item_usage_account_id": "string",
        "line_item_line_item_type": "string",
        "line_item_product_code": "string",
        "line_item_resource_id": "string",
        "line_item_usage_type": "string",
        "line_item_usage_amount": "double",
        "line_item_unblended_cost": "double",
        "line_item_blended_cost": "double",
        "reservation_effective_cost": "double",
        "reservation_unused_amortized_upfront_fee_for_billing_period": "double",
        "reservation_unused_recurring_fee": "double",
        "savings_plan_savings_plan_effective_cost": "double",
        "resource_tags": "map<string,string>",
    },
    "focus": {
        "ChargePeriodStart": "timestamp",
        "SubAccountId": "string",
        "ChargeCategory": "string",
        "ServiceName": "string",
        "ResourceId": "string",
        "BilledCost": "double",
        "EffectiveCost": "double",
        "Tags": "map<string,string>",
    },
}
#: ``k8s_guard`` (CUR 2.0): the columns the EKS questions (``costwarden/k8s/sql/``) read beyond ``EXPORT_COLUMNS``:
#: split cost allocation data and the net figures (amortized after discounts); the usage type and the Savings Plan
#: effective cost are in ``EXPORT_COLUMNS`` (the unit costs read them too). tests/infra/test_k8s_guard.py derives
#: them from the rendered SQL.
K8S_EXPORT_COLUMNS: Final[dict[str, str]] = {
    "line_item_net_unblended_cost": "double",
    "reservation_net_effective_cost": "double",
    "savings_plan_net_savings_plan_effective_cost": "double",
    "split_line_item_parent_resource_id": "string",
    "split_line_item_split_cost": "double",
    "split_line_item_net_split_cost": "double",
    "split_line_item_unused_cost": "double",
    "split_line_item_net_unused_cost": "double",
}
#: Columns in the export that no query reads (kept for the reader of the raw files: which resource cost what);
#: the unit costs' question (``unitcost/sql``) reads the resource id, usage type and amount of CUR 2.0.
UNQUERIED_COLUMNS: Final[dict[str, set[str]]] = {"cur2": set(), "focus": {"ResourceId"}}
PARTITION_KEY: Final = "billing_period"
RESULTS_DAYS: Final = 7
S1: Final = "AwsSolutions::AwsSolutions-S1"
EXPORT_BUCKET_LOGS_REASON: Final = (
    "The cost export bucket receives billing files from the Data Exports service only (bucket policy) and is read "
    "by the cost monitor's role through Athena; server access logging would need a further log bucket (itself "
    "flagged by the same rule). Reads can be audited with CloudTrail data events."
)
RESULTS_BUCKET_LOGS_REASON: Final = (
    "The Athena results bucket holds query results for 7 days, written and read by the cost monitor's role through "
    "its workgroup only; server access logging would need a further log bucket (itself flagged by the same rule)."
)


def export_table(config: AthenaSettings) -> str:
    """The Data Export table the export selects from."""
    key = "cur2" if config.export_format == "cur2" else f"focus:{config.focus_version}"
    return EXPORT_TABLES[key]


def export_columns(config: AthenaSettings, k8s: bool = False) -> dict[str, str]:
    """The export's and the Glue table's columns: what the cost questions read, and with ``k8s`` (``k8s_guard``,
    CUR 2.0 only) what the EKS questions read too."""
    columns = dict(EXPORT_COLUMNS[config.export_format])
    if k8s and config.export_format == "cur2":
        columns.update(K8S_EXPORT_COLUMNS)
    return columns


def query_statement(config: AthenaSettings, k8s: bool = False) -> str:
    """The export's ``QueryStatement``: exactly the columns of ``export_columns`` (Data Exports' SQL subset)."""
    columns = ", ".join(export_columns(config, k8s))  # constants only: no value reaches this SQL
    return f"SELECT {columns} FROM {export_table(config)}"  # noqa: S608


def table_configurations(config: AthenaSettings) -> dict[str, dict[str, str]] | None:
    """CUR 2.0 table properties: daily, with resource ids and split cost allocation data; FOCUS takes none."""
    if config.export_format != "cur2":
        return None
    return {
        "COST_AND_USAGE_REPORT": {
            "TIME_GRANULARITY": "DAILY",
            "INCLUDE_RESOURCES": "TRUE",
            "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE",
            "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
        }
    }


def check_region(config: AthenaSettings, region: str) -> None:
    """A stack that creates the export must be in the billing region (``region`` a token: checked at deploy)."""
    if config.export_bucket is None and not Token.is_unresolved(region) and region != BILLING_REGION:
        raise SettingsError(
            f"organization.athena: the stack creates the Data Export, which exists in {BILLING_REGION} only, but "
            f"the stack's region is {region}. Deploy in {BILLING_REGION}, or create the export there and set "
            "organization.athena.export_bucket (with export_name and export_prefix) to take it by name."
        )


class AthenaCostData(Construct):
    """Attributes: ``export`` (``CfnExport`` or None when taken by name), ``export_bucket_name``, ``database``,
    ``table``, ``workgroup``, ``results_bucket``; ``query_statements()`` for the cost monitor's role."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources) -> None:
        super().__init__(scope, construct_id)
        self.config = config = core.settings.organization.athena
        #: ``k8s_guard``: the export and the table carry the split cost columns the EKS questions read.
        self.k8s = core.settings.k8s_guard.enabled
        stack = Stack.of(self)
        check_region(config, stack.region)
        self.export: bcm.CfnExport | None = None
        if config.export_bucket is None:
            bucket = self._export_bucket()
            self.export_bucket_name = bucket.bucket_name
            self._export_bucket_ref = f"<{stack.resolve(stack.get_logical_id(bucket.node.default_child))}>"  # type: ignore[arg-type]
            self.export = self._export(bucket)
            if Token.is_unresolved(stack.region):
                self._billing_region_rule()
        else:
            self.export_bucket_name = config.export_bucket
            self._export_bucket_ref = config.export_bucket
        self.results_bucket = self._results_bucket()
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=config.database, description="Costwarden: the cost Data Export, read by the cost monitor"
            ),
        )
        self.table = self._table()
        self.table.node.add_dependency(self.database)
        self.workgroup = self._workgroup()

    @property
    def data_prefix(self) -> str:
        """Where the export's Parquet files land: ``<prefix>/<name>/data`` (then ``BILLING_PERIOD=YYYY-MM/``)."""
        return f"{self.config.export_prefix.strip('/')}/{self.config.export_name}/data"

    def _export_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "ExportBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,  # billing history is not rebuilt by a redeploy
        )
        account = Aws.ACCOUNT_ID
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DataExportsWrite",
                principals=[iam.ServicePrincipal(p) for p in EXPORT_WRITERS],
                actions=["s3:PutObject", "s3:GetBucketPolicy"],
                resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
                conditions={
                    "StringLike": {
                        "aws:SourceAccount": account,
                        "aws:SourceArn": [
                            f"arn:{Aws.PARTITION}:cur:{BILLING_REGION}:{account}:definition/*",
                            f"arn:{Aws.PARTITION}:bcm-data-exports:{BILLING_REGION}:{account}:export/*",
                        ],
                    }
                },
            )
        )
        acknowledge_scoped(bucket, [S1], EXPORT_BUCKET_LOGS_REASON)
        return bucket

    def _export(self, bucket: s3.Bucket) -> bcm.CfnExport:
        config = self.config
        export = bcm.CfnExport(
            self,
            "Export",
            export=bcm.CfnExport.ExportProperty(
                name=config.export_name,
                description="Costwarden: daily cost per line item for the cost monitor's Athena queries",
                data_query=bcm.CfnExport.DataQueryProperty(
                    query_statement=query_statement(config, self.k8s),
                    table_configurations=table_configurations(config),
                ),
                destination_configurations=bcm.CfnExport.DestinationConfigurationsProperty(
                    s3_destination=bcm.CfnExport.S3DestinationProperty(
                        s3_bucket=bucket.bucket_name,
                        s3_prefix=config.export_prefix.strip("/"),
                        s3_region=Aws.REGION,
                        s3_output_configurations=bcm.CfnExport.S3OutputConfigurationsProperty(
                            compression="PARQUET",
                            format="PARQUET",
                            output_type="CUSTOM",
                            overwrite="OVERWRITE_REPORT",
                        ),
                    )
                ),
                refresh_cadence=bcm.CfnExport.RefreshCadenceProperty(frequency="SYNCHRONOUS"),
            ),
        )
        # The service checks the bucket policy when the export is created.
        if bucket.policy is not None:
            export.node.add_dependency(bucket.policy)
        return export

    def _billing_region_rule(self) -> None:
        CfnRule(
            self,
            "ExportInBillingRegion",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_equals(Aws.REGION, BILLING_REGION),
                    assert_description=(
                        f"Costwarden creates the cost Data Export, which exists in {BILLING_REGION} only: deploy "
                        f"in {BILLING_REGION}, or set organization.athena.export_bucket to take an existing export."
                    ),
                )
            ],
        )

    def _results_bucket(self) -> s3.Bucket:
        return expiring_bucket(
            self,
            "ResultsBucket",
            RESULTS_DAYS,
            RemovalPolicy.DESTROY,
            RESULTS_BUCKET_LOGS_REASON,
            rule_id="expire-results",
        )

    def _table(self) -> glue.CfnTable:
        config = self.config
        location = f"s3://{self.export_bucket_name}/{self.data_prefix}"
        return glue.CfnTable(
            self,
            "Table",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=config.database,
            table_input=glue.CfnTable.TableInputProperty(
                name=config.table,
                description=f"Costwarden: the {export_table(config)} Data Export, one partition per billing month",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "parquet",
                    "projection.enabled": "true",
                    f"projection.{PARTITION_KEY}.type": "date",
                    f"projection.{PARTITION_KEY}.format": "yyyy-MM",
                    f"projection.{PARTITION_KEY}.range": "2020-01,NOW",
                    f"projection.{PARTITION_KEY}.interval": "1",
                    f"projection.{PARTITION_KEY}.interval.unit": "MONTHS",
                    "storage.location.template": f"{location}/BILLING_PERIOD=${{{PARTITION_KEY}}}",
                },
                partition_keys=[glue.CfnTable.ColumnProperty(name=PARTITION_KEY, type="string")],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    ),
                    # Glue keeps column names in lower case; Athena matches them case-insensitively.
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name.lower(), type=kind)
                        for name, kind in export_columns(config, self.k8s).items()
                    ],
                ),
            ),
        )

    def _workgroup(self) -> athena.CfnWorkGroup:
        config = self.config
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=config.workgroup,
            description="Costwarden cost monitor: bytes-scanned cutoff, encrypted results, settings enforced",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                bytes_scanned_cutoff_per_query=config.bytes_scanned_cutoff_mb * 1024 * 1024,
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                requester_pays_enabled=False,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results_bucket.bucket_name}/results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                ),
            ),
        )

    def wildcard_findings(self) -> list[str]:
        """cdk-nag's ids for the two object-key wildcards of ``query_statements`` (they name logical ids)."""
        stack = Stack.of(self)
        results = stack.resolve(stack.get_logical_id(self.results_bucket.node.default_child))  # type: ignore[arg-type]
        return [
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{self._export_bucket_ref}"
            f"/{self.data_prefix}/*]",
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{results}.Arn>/results/*]",
        ]

    def workgroup_arn(self) -> str:
        stack = Stack.of(self)
        return stack.format_arn(service="athena", resource="workgroup", resource_name=self.config.workgroup)

    def glue_arns(self) -> list[str]:
        """The catalog, the database and the table: what Athena reads in Glue on the caller's behalf."""
        stack = Stack.of(self)
        return [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=self.config.database),
            stack.format_arn(
                service="glue", resource="table", resource_name=f"{self.config.database}/{self.config.table}"
            ),
        ]

    def query_statements(self, athena_actions: tuple[str, ...]) -> list[iam.PolicyStatement]:
        """Least privilege for the querying role: ``athena_actions`` (what the adapter calls) on this workgroup;
        Glue reads on this table; the export's objects (read); the results prefix (read/write)."""
        export_bucket_arn = f"arn:{Aws.PARTITION}:s3:::{self.export_bucket_name}"
        return [
            iam.PolicyStatement(sid="AthenaQuery", actions=list(athena_actions), resources=[self.workgroup_arn()]),
            iam.PolicyStatement(
                sid="GlueTableRead",
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
                resources=self.glue_arns(),
            ),
            iam.PolicyStatement(
                sid="ExportList",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[export_bucket_arn],
            ),
            iam.PolicyStatement(
                sid="ExportRead", actions=["s3:GetObject"], resources=[f"{export_bucket_arn}/{self.data_prefix}/*"]
            ),
            iam.PolicyStatement(
                sid="ResultsBucket",
                actions=["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resources=[self.results_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="ResultsObjects",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[self.results_bucket.arn_for_objects("results/*")],
            ),
        ]
