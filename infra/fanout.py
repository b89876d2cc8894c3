"""Organization fan-out: the Step Functions state machines that run the reaper and the tag audit in every member
account (``organization.enabled``), and the four small functions they call.

The definition is ``infra/fanout_asl.py`` (JSON, executed as is by the functional test on moto). Each capability
in ``costwarden.services.org.CAPABILITIES`` gets a state machine; the idle finder gets one by being added there.
Only the item function may assume the member roles (``sts:AssumeRole`` on the two role names, in accounts of this
organization: ``aws:ResourceOrgID``); only the accounts function reads Organizations.

The results bucket (``results_bucket``) holds what would not fit in a state (``costwarden.org.results``): the
steps' objects under ``org-runs/`` and the Maps' ResultWriter output under ``org-map-results/``, S3-encrypted,
private, TLS only, expired after ``RESULTS_DAYS``. Each principal gets exactly its objects: the accounts function
writes ``org-runs/``; the aggregate and summary functions read both prefixes and write ``org-runs/``; the state
machines read ``org-runs/`` (ItemReader) and write ``org-map-results/`` (ResultWriter); the item function none.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from costwarden.idle.checks.base import PRICE_READ
from costwarden.org.accounts import read_role_name, reaper_role_name
from costwarden.org.results import MAP_RESULTS_PREFIX, RUNS_PREFIX
from costwarden.settings import Settings

from infra import nag
from infra.buckets import expiring_bucket
from infra.fanout_asl import definition
from infra.function import CoreResources, CostwardenFunction

#: capability -> two-phase (plan, aggregate, act). Mirrors ``costwarden.services.org.CAPABILITIES``; the idle
#: finder is report-only in the fan-out (one phase; the summary step alerts once per team).
CAPABILITY_PHASES = {"reaper": True, "tag_audit": False, "idle": False}
ORGANIZATIONS_READS = [
    "organizations:ListAccounts",
    "organizations:ListTagsForResource",
    "organizations:ListRoots",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
]
FANOUT_REASON = nag.ORG_FANOUT_REASON
ITEM_PRICES_REASON = (
    "The organization item function prices what a member account's reap saves (the reaped alert, issue 22) with its "
    "own role: pricing:GetProducts supports no resource-level permissions ('*' is the only resource IAM accepts; "
    "read-only, public list prices)."
)
#: Days an organization run's items and results stay in the results bucket (a run reads them within its 2 hours;
#: the summary is also kept in the state table).
RESULTS_DAYS = 14
RESULTS_REASON = (
    "Organization fan-out results bucket: each principal is granted its run objects by key prefix (org-runs/* for "
    "the steps' items, aggregation and summary; org-map-results/* for the Maps' ResultWriter files), whose keys "
    "are made per execution at run time. Server access logging would need a further log bucket (itself flagged "
    "by the same rule); objects expire after 14 days."
)
#: What Step Functions' ResultWriter needs on its prefix (a result file may be a multipart upload).
RESULT_WRITER_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
#: function -> (reads, writes) of the results bucket, as key prefixes.
RESULT_ACCESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": ((), (RUNS_PREFIX,)),
    "item": ((), ()),
    "aggregate": ((RUNS_PREFIX, MAP_RESULTS_PREFIX), (RUNS_PREFIX,)),
    "summary": ((RUNS_PREFIX, MAP_RESULTS_PREFIX), (RUNS_PREFIX,)),
}


def member_role_arns(settings: Settings, partition: str) -> list[str]:
    org = settings.organization
    return [f"arn:{partition}:iam::*:role/{name}" for name in (read_role_name(org), reaper_role_name(org))]


class OrganizationFanout(Construct):
    """Attributes: ``functions`` (name -> ``CostwardenFunction``), ``state_machines`` (capability -> machine),
    ``member_principals`` (the role ARNs member roles trust: the item function's role), ``results_bucket``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        core: CoreResources,
        own_account: Mapping[str, CostwardenFunction] | None = None,
    ) -> None:
        """``own_account``: capability -> its single-account function, started by the machine's ``OwnAccount``
        step for the deployment account (whose own schedule the stack leaves out: one schedule per job)."""
        super().__init__(scope, construct_id)
        self.own_account = dict(own_account or {})
        settings = core.settings
        stack = Stack.of(self)
        specs = {
            "accounts": (
                "costwarden.handlers.org_accounts.handler",
                "Lists the organization's guarded accounts",
                "none",
            ),
            "item": ("costwarden.handlers.org_item.handler", "One account x region as the member role", "read_write"),
            "aggregate": ("costwarden.handlers.org_aggregate.handler", "Caps over all accounts' plans", "read_write"),
            "summary": ("costwarden.handlers.org_summary.handler", "Writes the organization run summary", "read_write"),
        }
        self.functions: dict[str, CostwardenFunction] = {}
        for name, (handler, description, state) in specs.items():
            self.functions[name] = CostwardenFunction(
                self,
                f"{name.capitalize()}Function",
                core=core,
                service_name=f"org_{name}",
                handler=handler,
                description=description,
                timeout=Duration.minutes(10),
                memory_size=512,
                state_access=state,  # type: ignore[arg-type]
                publishes_alerts=name in ("item", "aggregate", "summary"),
                retry_attempts=0,
            )
        reads = iam.Policy(
            self, "OrganizationsRead", statements=[iam.PolicyStatement(actions=ORGANIZATIONS_READS, resources=["*"])]
        )
        reads.attach_to_role(self.functions["accounts"].role)
        nag.acknowledge_because(reads, nag.XRAY_WILDCARD, FANOUT_REASON)
        assume = iam.Policy(
            self,
            "AssumeMemberRoles",
            statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=member_role_arns(settings, stack.partition),
                    conditions={"StringEquals": {"aws:ResourceOrgID": settings.organization.organization_id or ""}},
                )
            ],
        )
        assume.attach_to_role(self.functions["item"].role)
        nag.acknowledge_scoped(
            assume,
            [
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{arn}]"
                for arn in member_role_arns(settings, "<AWS::Partition>")
            ],
            FANOUT_REASON,
        )
        prices = iam.Policy(
            self, "PriceListRead", statements=[iam.PolicyStatement(actions=[PRICE_READ], resources=["*"])]
        )
        prices.attach_to_role(self.functions["item"].role)  # the reaped alert's saving, priced by the hub (issue 22)
        nag.record_reasons(nag.NO_RESOURCE_LEVEL_PERMISSIONS, ITEM_PRICES_REASON)
        nag.acknowledge_because(prices, nag.NO_RESOURCE_LEVEL_PERMISSIONS, ITEM_PRICES_REASON)
        self.member_principals = [self.functions["item"].role.role_arn]
        self.results_bucket = self._results_bucket()
        for name, (gets, puts) in RESULT_ACCESS.items():
            self._grant(self.functions[name].role, name, reads=gets, writes=puts)

        self.state_machines: dict[str, sfn.StateMachine] = {}
        for capability, two_phase in CAPABILITY_PHASES.items():
            self.state_machines[capability] = self._machine(settings, capability, two_phase)

    def _results_bucket(self) -> s3.Bucket:
        return expiring_bucket(self, "ResultsBucket", RESULTS_DAYS, RemovalPolicy.DESTROY, RESULTS_REASON)

    def _bucket_finding(self, prefix: str) -> str:
        """How cdk-nag names an object ARN of the results bucket in a finding id."""
        stack = Stack.of(self)
        cfn = self.results_bucket.node.default_child
        logical = stack.resolve(stack.get_logical_id(cfn))  # type: ignore[arg-type]
        return f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical}.Arn>/{prefix}/*]"

    def _grant(self, role: iam.IRole, name: str, *, reads: tuple[str, ...], writes: tuple[str, ...]) -> None:
        """``s3:GetObject`` on the ``reads`` prefixes, ``s3:PutObject`` on the ``writes`` ones: nothing else."""
        statements = [
            iam.PolicyStatement(actions=[action], resources=[self.results_bucket.arn_for_objects(f"{p}/*") for p in ps])
            for action, ps in (("s3:GetObject", reads), ("s3:PutObject", writes))
            if ps
        ]
        if not statements:
            return
        policy = iam.Policy(self, f"{name.capitalize()}Results", statements=statements)
        policy.attach_to_role(role)
        nag.acknowledge_scoped(policy, [self._bucket_finding(p) for p in sorted({*reads, *writes})], RESULTS_REASON)

    @staticmethod
    def _arn_pattern(fn: CostwardenFunction) -> str:
        """How cdk-nag names a function's ARN in a finding id: ``<LogicalId.Arn>``."""
        stack = Stack.of(fn)
        cfn = fn.function.node.default_child
        return f"<{stack.resolve(stack.get_logical_id(cfn))}.Arn>"  # type: ignore[arg-type]

    def _machine(self, settings: Settings, capability: str, two_phase: bool) -> sfn.StateMachine:
        stack = Stack.of(self)
        ident = "".join(part.capitalize() for part in capability.split("_"))
        name = f"costwarden-org-{capability.replace('_', '-')}"
        own = self.own_account.get(capability)
        body = definition(
            capability=capability,
            accounts_arn=self.functions["accounts"].function.function_arn,
            item_arn=self.functions["item"].function.function_arn,
            aggregate_arn=self.functions["aggregate"].function.function_arn,
            summary_arn=self.functions["summary"].function.function_arn,
            max_concurrency=settings.organization.max_concurrency,
            two_phase=two_phase,
            results_bucket=self.results_bucket.bucket_name,
            own_account_arn=own.function.function_arn if own is not None else None,
        )
        log_group = logs.LogGroup(
            self, f"{ident}Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        machine = sfn.StateMachine(
            self,
            f"{ident}StateMachine",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(stack.to_json_string(body)),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
            timeout=Duration.hours(2),
        )
        invoked = [*self.functions.values(), *([own] if own is not None else [])]
        for fn in invoked:
            fn.function.grant_invoke(machine)
        # A Distributed Map runs its iterations as child executions of this state machine.
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:StartExecution"],
                resources=[f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{name}"],
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:{name}/*"],
            )
        )
        # ItemReader reads the staged items; ResultWriter writes the children's outputs (and reads its parts back).
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.results_bucket.arn_for_objects(f"{RUNS_PREFIX}/*")]
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=RESULT_WRITER_ACTIONS,
                resources=[self.results_bucket.arn_for_objects(f"{MAP_RESULTS_PREFIX}/*")],
            )
        )
        nag.acknowledge_scoped(
            machine, [self._bucket_finding(p) for p in (MAP_RESULTS_PREFIX, RUNS_PREFIX)], RESULTS_REASON
        )
        findings = [f"AwsSolutions::AwsSolutions-IAM5[Resource::{self._arn_pattern(fn)}:*]" for fn in invoked]
        findings.append(
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            f"execution:{name}/*]"
        )
        nag.acknowledge_scoped(machine, findings, FANOUT_REASON)
        nag.acknowledge_because(machine, nag.XRAY_WILDCARD, FANOUT_REASON)
        schedules = settings.schedules
        if capability == "reaper":
            schedule = events.Schedule.rate(Duration.minutes(schedules.reaper_rate_minutes))
        elif capability == "idle":
            schedule = events.Schedule.cron(minute="0", hour=str(settings.idle.schedule_hour_utc))
        else:
            schedule = events.Schedule.cron(
                minute="0", hour=str(schedules.tag_audit_hour_utc), week_day=schedules.tag_audit_weekday
            )
        rule = events.Rule(
            self, f"{ident}Schedule", description=f"Costwarden {capability}, organization-wide", schedule=schedule
        )
        rule.add_target(targets.SfnStateMachine(machine))
        return machine
