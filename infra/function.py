"""``CostwardenFunction``: the one way Costwarden builds a Lambda function.

Every function (notifier, cost monitor, reaper, tag audit) is built by this construct so they all share:

- the runtime and architecture of ``infra/constants.py`` (Python 3.13, arm64/Graviton: cheaper per GB-second);
- JSON logs (Lambda's native ``logging_format=JSON`` with an application log level), an explicit log group with
  retention, Powertools configured through environment variables, active X-Ray tracing;
- its own IAM role with only what it needs: write to its own log group (an explicit statement instead of the
  ``AWSLambdaBasicExecutionRole`` managed policy, which allows every log group), X-Ray, its dead-letter queue;
  plus what the caller asks for (``publishes_alerts``, ``state_access``, ``grant_*`` on ``function``);
- an SQS dead-letter queue for failed asynchronous invocations (scheduled and SNS-triggered runs are async),
  SQS-managed encryption, SSL-only;
- CloudWatch alarms on Errors, Throttles and dead-letter depth, all publishing to the *operator* topic (never to
  the alert topic: an alarm must not travel through the notifier it may be watching);
- the environment contract of ``costwarden.handlers``: ``COSTWARDEN_SETTINGS``, ``ALERT_TOPIC_ARN``,
  ``STATE_TABLE_NAME``, ``POWERTOOLS_SERVICE_NAME`` (+ whatever ``environment`` adds);
- a bundle built without Docker (``infra/bundling.py``): ``Bundle.LIGHT`` (runtime deps only) or
  ``Bundle.ANALYTICS`` (adds pandas/numpy/scipy/pyarrow; the cost monitor only).

A capability construct uses it like this::

    fn = CostwardenFunction(
        self, "Function", core=core, service_name="reaper",
        handler="costwarden.handlers.reaper.handler", description="Acts on expired experiment resources",
        timeout=Duration.minutes(5),
    )
    fn.function.add_to_role_policy(iam.PolicyStatement(actions=["ec2:StopInstances"], resources=[...]))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from costwarden.settings import Settings

from infra import constants, nag
from infra.bundling import Bundle, function_code

StateAccess = Literal["none", "read", "read_write"]


@dataclass(frozen=True)
class CoreResources:
    """What every capability construct receives from the stack: settings and the shared resources.

    ``alert_topic`` is the alert bus every producer publishes ``AlertEvent``s to (the notifier subscribes to it);
    ``operator_topic`` receives CloudWatch alarms about Costwarden itself; ``state_table`` holds dedup, audit and
    cache items (``costwarden.adapters.state``).
    """

    settings: Settings
    alert_topic: sns.ITopic
    operator_topic: sns.ITopic
    state_table: dynamodb.ITable


#: Item-level access to the state table. Not CDK's ``grant_read_data``/``grant_read_write_data``: those also grant
#: ``dynamodb:GetRecords``/``GetShardIterator`` on the *table* ARN, where IAM never matches them (they apply to
#: ``table/<name>/stream/<label>``; the table has no stream). The offline SAR check (tests/infra/
#: test_iam_reference.py) flags such dead grants.
STATE_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
STATE_WRITE_ACTIONS = ("dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


class CostwardenFunction(Construct):
    """A Lambda function with Costwarden's runtime, logging, tracing, DLQ, alarms and bundling.

    Attributes: ``function`` (the ``lambda_.Function``), ``role``, ``log_group``, ``dead_letter_queue`` and
    ``alarms`` (name → ``cloudwatch.Alarm``: ``errors``, ``throttles``, ``dlq_depth``).

    :param core: settings and shared resources from the stack.
    :param service_name: short name (``notifier``, ``cost_monitor``...): Powertools service name and alarm names.
    :param handler: dotted path of the handler inside the ``costwarden`` package.
    :param description: one line saying what the function does (shown in the console).
    :param bundle: ``Bundle.LIGHT`` (default) or ``Bundle.ANALYTICS`` (pandas & co., the cost monitor only).
    :param timeout: function timeout.
    :param memory_size: MB; also scales CPU (pandas wants more).
    :param publishes_alerts: grant ``sns:Publish`` on the alert topic (and its KMS key).
    :param state_access: access to the state table: ``none``, ``read`` or ``read_write``.
    :param environment: extra environment variables (names only for secrets, never their values).
    :param reserved_concurrency: reserve (and cap) concurrent executions; ``None`` leaves it unreserved.
    :param log_level: application log level (``DEBUG`` ... ``ERROR``).
    :param retry_attempts: Lambda's own retries of a failed asynchronous invocation (0-2) before the DLQ.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        core: CoreResources,
        service_name: str,
        handler: str,
        description: str,
        bundle: Bundle = Bundle.LIGHT,
        timeout: Duration = constants.DEFAULT_TIMEOUT,
        memory_size: int = constants.DEFAULT_MEMORY_MB,
        publishes_alerts: bool = True,
        state_access: StateAccess = "read_write",
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int | None = None,
        log_level: str = constants.DEFAULT_LOG_LEVEL,
        retry_attempts: int = 2,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service_name = service_name
        self.log_group = self._build_log_group()
        self.role = self._build_role(description)
        self.dead_letter_queue = self._build_dead_letter_queue()
        env = {
            constants.ENV_SETTINGS: core.settings.to_env(),
            constants.ENV_ALERT_TOPIC_ARN: core.alert_topic.topic_arn,
            constants.ENV_STATE_TABLE_NAME: core.state_table.table_name,
            "POWERTOOLS_SERVICE_NAME": service_name,
            "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
            "LOG_LEVEL": log_level,
            **(environment or {}),
        }
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=constants.LAMBDA_RUNTIME,
            architecture=constants.LAMBDA_ARCHITECTURE,
            handler=handler,
            code=function_code(bundle),
            timeout=timeout,
            memory_size=memory_size,
            role=self.role,
            environment=env,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(log_level),
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=self.log_group,
            # Active tracing is set below with its own policy, so the X-Ray wildcard is acknowledged on that policy
            # alone (``tracing=ACTIVE`` would put it into the role's default policy, next to capability grants).
            dead_letter_queue=self.dead_letter_queue,
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=retry_attempts,
        )
        self._enable_active_tracing()
        nag.acknowledge(self.function, nag.LATEST_RUNTIME)
        if publishes_alerts:
            core.alert_topic.grant_publish(self.function)
            nag.acknowledge(self.role, nag.KMS_DATA_KEY_WILDCARD)
        if state_access == "read":
            core.state_table.grant(self.function, *STATE_READ_ACTIONS)
        elif state_access == "read_write":
            core.state_table.grant(self.function, *STATE_READ_ACTIONS, *STATE_WRITE_ACTIONS)
        self.alarms = self._build_alarms(core.operator_topic)

    def _build_log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "Logs",
            retention=constants.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _build_role(self, description: str) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Costwarden {self.service_name}: {description}"[:1000],
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group): this function's own group only.
        # The log group already exists, so logs:CreateLogGroup is not needed.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        return role

    def _enable_active_tracing(self) -> None:
        xray = iam.Policy(
            self,
            "TracingPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],  # X-Ray has no resource-level permissions for these actions
                )
            ],
        )
        self.role.attach_inline_policy(xray)
        nag.acknowledge(xray, nag.XRAY_WILDCARD)
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        cfn_function.node.add_dependency(xray)

    def _build_dead_letter_queue(self) -> sqs.Queue:
        return sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=constants.DLQ_RETENTION,
        )

    def _build_alarms(self, operator_topic: sns.ITopic) -> dict[str, cloudwatch.Alarm]:
        period = constants.ALARM_PERIOD
        metrics: dict[str, tuple[cloudwatch.IMetric, str]] = {
            "errors": (
                self.function.metric_errors(period=period, statistic="Sum"),
                f"Costwarden {self.service_name} raised errors (see its log group).",
            ),
            "throttles": (
                self.function.metric_throttles(period=period, statistic="Sum"),
                f"Costwarden {self.service_name} was throttled.",
            ),
            "dlq_depth": (
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum"
                ),
                f"Failed invocations of Costwarden {self.service_name} wait in its dead-letter queue.",
            ),
        }
        action = cw_actions.SnsAction(operator_topic)
        alarms: dict[str, cloudwatch.Alarm] = {}
        for name, (metric, description) in metrics.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{name.title().replace('_', '')}Alarm",
                metric=metric,
                alarm_description=description,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            alarms[name] = alarm
        return alarms
