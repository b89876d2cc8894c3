"""The Slack app's endpoint (issue 13): one function behind a Lambda Function URL, built only when
``settings.interact.enabled``.

Why a Function URL with reserved concurrency, not an API Gateway HTTP API with route throttling: the endpoint has
one route and Slack is its only caller; every request must be verified by the function anyway (Slack's signature
is HMAC over the body — no API Gateway authorizer can check it without running code), so API Gateway would add a
hop, a second access log and a stage to secure, and nothing it checks. The throttle is the function's reserved
concurrency (``interact.reserved_concurrency``, opt-in): a flood of forged requests is answered 401 by at most
that many instances, cannot starve the account's other functions and cannot run up an unbounded bill; Slack itself
sends a handful of requests a minute. It is off by default because a reservation fails the deploy on a new account
whose concurrency quota is 10 (Lambda keeps 10 unreserved). ``auth_type=NONE`` is required (Slack cannot sign
SigV4); the function's own signature check is the authentication.

The signing secret and bot token live in a Secrets Manager secret created by the operator; the template holds its
*name* only (``SLACK_APP_SECRET_NAME``). The function may invoke itself (the asynchronous worker half) and nothing
else; Lambda does not retry the worker (``retry_attempts=0``): a retried *Extend* would extend twice.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from costwarden.bedrock.iam import deny_statements
from costwarden.resources.iam import extend_statements, hard_limit_statements, stop_statements
from costwarden.settings import Settings

from infra import nag
from infra.function import CoreResources, CostwardenFunction
from infra.scheduled import wildcard_findings

INTERACT_HANDLER = "costwarden.handlers.interact.handler"
ENV_APP_SECRET_NAME = "SLACK_APP_SECRET_NAME"  # noqa: S105 - the variable's name, not a secret
INTERACT_TIMEOUT = Duration.seconds(30)
INTERACT_MEMORY_MB = 512


class Interact(Construct):
    """Attributes: ``function``, ``url`` (the Function URL), ``policy``, ``secret``, ``output``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, core: CoreResources, notifier: CostwardenFunction | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        name = settings.interact.app_secret_name
        self.secret = secretsmanager.Secret.from_secret_name_v2(self, "SlackApp", name)
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name="interact",
            handler=INTERACT_HANDLER,
            description="Slack app endpoint: verifies, acknowledges, then runs Extend/Acknowledge/Snooze/plan",
            timeout=INTERACT_TIMEOUT,
            memory_size=INTERACT_MEMORY_MB,
            publishes_alerts=False,
            state_access="read_write",
            environment={ENV_APP_SECRET_NAME: name},
            reserved_concurrency=settings.interact.reserved_concurrency,
            retry_attempts=0,
        )
        fn = self.function.function
        self.secret.grant_read(fn)
        stack = Stack.of(self)
        regions = list(settings.reaper.regions) or [stack.region]
        statements = extend_statements(settings, partition=stack.partition, account=stack.account, regions=regions)
        statements += stop_statements(settings, partition=stack.partition, account=stack.account)
        self.policy = iam.Policy(
            self, "ExtendPolicy", statements=[iam.PolicyStatement.from_json(s) for s in statements]
        )
        # The worker half: this function invokes itself, and only itself.
        self.policy.add_statements(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn]))
        self.function.role.attach_inline_policy(self.policy)
        nag.acknowledge_scoped(
            self.policy, wildcard_findings(extend_statements, settings), nag.INTERACT_SCOPED_WILDCARD_REASON
        )
        nag.acknowledge_because(self.policy, nag.XRAY_WILDCARD, nag.INTERACT_READS_REASON)
        self.hard_limit_role = self._hard_limit_role(settings, fn)
        self.timer_group = self._grace_timer(settings, fn, notifier)
        self.url = fn.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self.output = CfnOutput(
            self,
            "InteractivityUrl",
            value=self.url.url,
            description="Slack app: Interactivity Request URL and /costwarden slash command URL (slack/manifest.yaml)",
        )

    def _hard_limit_role(self, settings: Settings, fn: lambda_.Function) -> iam.Role | None:
        """The hard limit's own role (issue 13), only when some team opted in: stop the opted-in teams' development
        and experiment EC2 instances and SageMaker notebooks / training / processing jobs (tag conditions; never
        protected), delete their endpoints only with ``budgets.hard_limit_endpoints: delete``, and put/delete the
        deny policy on their launch roles, nothing else (``resources/iam.py`` ``hard_limit_statements``). The
        endpoint assumes it for Enforce / Lift only."""
        stack = Stack.of(self)
        statements = hard_limit_statements(settings, partition=stack.partition, account=stack.account, regions=[])
        statements += deny_statements(settings, partition=stack.partition, account=stack.account)  # Bedrock's deny
        if not statements:
            return None
        role = iam.Role(
            self,
            "HardLimitRole",
            assumed_by=iam.ArnPrincipal(self.function.role.role_arn),
            description="Costwarden hard limit: stop opted-in teams' dev/experiment EC2 and SageMaker, deny-launch",
        )
        policy = iam.Policy(self, "HardLimitPolicy", statements=[iam.PolicyStatement.from_json(s) for s in statements])
        role.attach_inline_policy(policy)
        nag.acknowledge_because(policy, nag.XRAY_WILDCARD, nag.HARD_LIMIT_READS_REASON)
        nag.acknowledge_scoped(policy, wildcard_findings(hard_limit_statements, settings), nag.HARD_LIMIT_SCOPED_REASON)
        role.grant_assume_role(self.function.role)
        fn.add_environment("HARD_LIMIT_ROLE_ARN", role.role_arn)
        return role

    def _grace_timer(
        self, settings: Settings, fn: lambda_.Function, notifier: CostwardenFunction | None
    ) -> scheduler.CfnScheduleGroup | None:
        """``hard_limit: auto`` (``interact/hardlimit_timer.py``), only when some team is ``auto``: a schedule group
        for the one-time ``at()`` schedules, Scheduler's own role that may invoke this function and nothing else,
        the notifier allowed to create/replace schedules in that group only (and to pass that role to Scheduler
        only), this function allowed to delete them (*Hold*). Why Scheduler and not a Step Functions Wait: the
        module docstring of ``interact/hardlimit_timer.py``."""
        if not any(mode == "auto" for mode in settings.budgets.hard_limit.values()):
            return None
        if notifier is None:
            raise ValueError("budgets.hard_limit auto needs the notifier: it arms the grace timer")
        stack = Stack.of(self)
        group = scheduler.CfnScheduleGroup(self, "HardLimitTimers", name=f"{stack.stack_name}-hard-limit")
        role = iam.Role(
            self,
            "HardLimitTimerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Costwarden hard limit grace timer: EventBridge Scheduler invokes the Slack app's function",
        )
        invoke = iam.Policy(
            self,
            "HardLimitTimerInvoke",
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[fn.function_arn])],
        )
        role.attach_inline_policy(invoke)
        schedules = f"arn:{stack.partition}:scheduler:{stack.region}:{stack.account}:schedule/{group.name}/*"
        arm = iam.Policy(
            self,
            "HardLimitTimerArm",
            statements=[
                iam.PolicyStatement(
                    actions=["scheduler:CreateSchedule", "scheduler:UpdateSchedule"], resources=[schedules]
                ),
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
                ),
            ],
        )
        notifier.role.attach_inline_policy(arm)
        self.policy.add_statements(iam.PolicyStatement(actions=["scheduler:DeleteSchedule"], resources=[schedules]))
        named = f"arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/{group.name}/*"
        schedules_finding = [f"AwsSolutions::AwsSolutions-IAM5[Resource::{named}]"]
        nag.acknowledge_scoped(arm, schedules_finding, nag.HARD_LIMIT_TIMER_REASON)
        nag.acknowledge_scoped(self.policy, schedules_finding, nag.HARD_LIMIT_TIMER_REASON)
        environment = {
            "HARD_LIMIT_TIMER_GROUP": str(group.name),
            "HARD_LIMIT_TIMER_TARGET": fn.function_arn,
            "HARD_LIMIT_TIMER_ROLE": role.role_arn,
        }
        for key, value in environment.items():
            notifier.function.add_environment(key, value)
        return group
