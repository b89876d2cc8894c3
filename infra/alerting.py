"""The alert bus and the operator channel: two SNS topics, each encrypted with its own customer-managed KMS key.

- ``alert_topic``: every producer publishes ``AlertEvent``s here; the Slack notifier (and any e-mail or pager a
  team adds) subscribes. Message attributes ``kind``, ``severity``, ``team`` allow filter policies.
- ``operator_topic``: CloudWatch alarms about Costwarden itself (function errors, throttles, dead letters). It is
  separate on purpose: an alarm about the notifier must not be delivered *through* the notifier. An e-mail
  subscription is added when ``settings.notifier.operator_email`` is set.

Both topics refuse plain-HTTP requests (``enforce_ssl``: a Deny on ``aws:SecureTransport = false``); both keys
rotate yearly. The operator key lets CloudWatch use it, or encrypted alarm notifications would be dropped.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from costwarden.settings import Settings


class Alerting(Construct):
    """The alert topic and the operator topic (attributes ``alert_topic``, ``operator_topic`` and their keys)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.alert_key = self._build_key("AlertKey", "Costwarden alert topic (alert events to Slack and e-mail)")
        self.alert_topic = sns.Topic(
            self,
            "AlertTopic",
            display_name="Costwarden alerts",
            master_key=self.alert_key,
            enforce_ssl=True,
        )
        self.operator_key = self._build_key("OperatorKey", "Costwarden operator topic (alarms about Costwarden)")
        self.operator_topic = sns.Topic(
            self,
            "OperatorTopic",
            display_name="Costwarden operator alarms",
            master_key=self.operator_key,
            enforce_ssl=True,
        )
        self._allow_cloudwatch_alarms()
        if settings.notifier.operator_email:
            self.operator_topic.add_subscription(subscriptions.EmailSubscription(settings.notifier.operator_email))

    def _build_key(self, construct_id: str, description: str) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            description=description,
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _allow_cloudwatch_alarms(self) -> None:
        """CloudWatch alarm actions publish to the operator topic: the key and the topic policy must let them."""
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.operator_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.operator_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[self.operator_topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
