"""The launch-time burn guard (docs/burn.md): CloudTrail API-call events of every call that starts, resizes or stops
spend, batched through an SQS queue into the burn function, within minutes of the launch.

* **Rules** (``costwarden.burn.events.rule_patterns``: one per service, and SageMaker's job state changes) on the
  deployment region's default bus, targeting the queue. EventBridge delivers "AWS API Call via CloudTrail" events
  only where a CloudTrail trail logs management events (``costwarden doctor`` checks it: ``burn_trail``).
* **Organization** (``organization.enabled``): a central event bus (``costwarden-burn``) that accepts events from
  accounts of this organization only (``aws:PrincipalOrgID``), with the same rules to the queue, and a
  service-managed StackSet that puts, in every member account of the chosen OUs and every guarded region, the same
  rules forwarding to that bus (with a role allowed ``events:PutEvents`` on it alone).
* **The queue** turns a burst (1,000 launches in a minute) into batches of up to 1,000 events (``BATCH_SIZE``, a
  window of ``BATCH_WINDOW``), so prices are asked per distinct type and region of a batch, never per launch; at
  most ``MAX_CONCURRENCY`` batches run at once. A batch that fails goes back to the queue, then to its DLQ.
* **The function**: light bundle; the Price List (``pricing:GetProducts``) and spot prices
  (``ec2:DescribeSpotPriceHistory``) — neither supports resource-level permissions — and the callers' role tags
  (``iam:ListRoleTags`` on this account's roles); the state table and the alert topic.
"""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import CfnStackSet, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from costwarden.burn.events import rule_patterns
from costwarden.settings import Settings

from infra import constants, nag
from infra.function import CoreResources, CostwardenFunction
from infra.org import member_stack_set

BURN_HANDLER: Final = "costwarden.handlers.burn.handler"
BUS_NAME: Final = "costwarden-burn"
BATCH_SIZE: Final = 1000
BATCH_WINDOW: Final = Duration.seconds(30)
MAX_CONCURRENCY: Final = 2
TIMEOUT: Final = Duration.minutes(3)
MEMORY_MB: Final = 512
DESCRIPTION: Final = "Launch-time burn guard: CloudTrail launch events priced and judged against team baselines"
#: Deliveries of a batch before its events go to the dead-letter queue.
MAX_RECEIVES: Final = 3
PRICE_READS: Final = ("pricing:GetProducts", "ec2:DescribeSpotPriceHistory")
PRICE_READS_REASON: Final = (
    "The burn guard prices launches with pricing:GetProducts and ec2:DescribeSpotPriceHistory, which support no "
    "resource-level permissions ('*' is the only resource IAM accepts; both read-only). Acknowledged on the burn "
    "function's separate price policy, which holds exactly these two actions."
)
ROLE_TAGS_REASON: Final = (
    "The burn guard reads the tags of the role behind a launch's caller (iam:ListRoleTags, read-only) to find the "
    "owning team when the request names none; the callers' roles are known only at run time, so the resource is "
    "this account's role ARN pattern."
)


def guarded_regions(settings: Settings, default: str) -> list[str]:
    """``burn.regions``, else the organization's, else the reaper's, else the deployment region."""
    return list(settings.burn.regions or settings.organization.regions or settings.reaper.regions) or [default]


def _pattern(raw: dict[str, Any]) -> events.EventPattern:
    return events.EventPattern(source=raw["source"], detail_type=raw["detail-type"], detail=raw.get("detail"))


def forwarding_template(bus_arn: str) -> dict[str, Any]:
    """A member account's rules (one per pattern), each forwarding to the central bus through one role."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Costwarden burn guard: forward launch events to the central bus",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "forward",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}],
                    },
                }
            ],
        },
    }
    resources: dict[str, Any] = {"ForwardRole": role}
    for index, pattern in enumerate(rule_patterns()):
        resources[f"Forward{index}"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"Costwarden burn guard: {pattern['source'][0]} launches to the central bus",
                "EventPattern": pattern,
                "State": "ENABLED",
                "Targets": [{"Id": "central", "Arn": bus_arn, "RoleArn": {"Fn::GetAtt": ["ForwardRole", "Arn"]}}],
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Costwarden burn guard: launch events forwarded to the central account's bus",
        "Resources": resources,
    }


class BurnGuard(Construct):
    """Attributes: ``function``, ``queue``, ``rules`` (the deployment region's), ``bus`` and ``stack_set`` (organization
    mode, else ``None``)."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources) -> None:
        super().__init__(scope, construct_id)
        options: dict[str, Any] = {
            "handler": BURN_HANDLER,
            "timeout": TIMEOUT,
            "memory_size": MEMORY_MB,
            "description": DESCRIPTION,
        }
        self.function = CostwardenFunction(self, "Function", core=core, service_name="burn", **options)
        self.queue = self._build_queue()
        self.function.function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=BATCH_SIZE, max_batching_window=BATCH_WINDOW, max_concurrency=MAX_CONCURRENCY
            )
        )
        self._grant_reads()
        target = targets.SqsQueue(self.queue)
        self.rules = [
            events.Rule(self, f"Launches{i}", event_pattern=_pattern(p), targets=[target])
            for i, p in enumerate(rule_patterns())
        ]
        self.bus: events.EventBus | None = None
        self.stack_set: CfnStackSet | None = None
        if core.settings.organization.enabled:
            self._build_organization(core.settings, target)

    def _build_queue(self) -> sqs.Queue:
        dlq = sqs.Queue(
            self, "DeadLetterQueue", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            retention_period=constants.DLQ_RETENTION,
        )  # fmt: skip
        return sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # EventBridge may send to SSE-SQS queues without key grants
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(TIMEOUT.to_seconds() * 6),  # Lambda's advice for SQS sources
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=dlq),
        )

    def _grant_reads(self) -> None:
        stack = Stack.of(self)
        prices = iam.Policy(
            self, "PricePolicy", statements=[iam.PolicyStatement(actions=list(PRICE_READS), resources=["*"])]
        )
        self.function.role.attach_inline_policy(prices)
        nag.record_reasons(nag.NO_RESOURCE_LEVEL_PERMISSIONS, PRICE_READS_REASON)
        nag.acknowledge_because(prices, nag.NO_RESOURCE_LEVEL_PERMISSIONS, PRICE_READS_REASON)
        roles = stack.format_arn(service="iam", region="", resource="role", resource_name="*")
        self.function.role.add_to_principal_policy(iam.PolicyStatement(actions=["iam:ListRoleTags"], resources=[roles]))
        finding = "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]"
        nag.acknowledge_scoped(self.function.role, [finding], ROLE_TAGS_REASON)

    def _build_organization(self, settings: Settings, target: targets.SqsQueue) -> None:
        stack = Stack.of(self)
        org = settings.organization
        self.bus = events.EventBus(self, "Bus", event_bus_name=BUS_NAME)
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationLaunches",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": org.organization_id or ""}},
            )
        )
        for i, p in enumerate(rule_patterns()):
            events.Rule(self, f"OrgLaunches{i}", event_bus=self.bus, event_pattern=_pattern(p), targets=[target])
        self.stack_set = member_stack_set(
            self,
            "Forwarding",
            settings=settings,
            name="costwarden-burn-forwarding",
            description="Costwarden burn guard: launch events of every guarded region forwarded to the central bus",
            template_body=stack.to_json_string(forwarding_template(self.bus.event_bus_arn)),
            regions=guarded_regions(settings, stack.region),
            capabilities=["CAPABILITY_IAM"],
        )
