"""The Slack notifier: a ``CostwardenFunction`` subscribed to the alert topic.

Delivery path and where a message can end up when something fails:

1. SNS invokes the function asynchronously. If SNS cannot hand the message to Lambda (throttling, a missing
   permission), SNS retries on its own policy for Lambda endpoints (3 immediate tries, then back-off for up to
   ~23 days) and, once it gives up, puts the message into the *subscription* dead-letter queue built here.
2. Once Lambda has accepted the event, a failing invocation (the handler raises on a permanent Slack error or when
   its retries are spent) is retried by Lambda twice, then lands in the *function's* dead-letter queue
   (``CostwardenFunction``).

Both queues have depth alarms, and the function has Errors/Throttles alarms; they all publish to the operator
topic, never to the alert topic (an alarm about the notifier must not go through the notifier).

The Slack webhooks live in a Secrets Manager secret the operator creates (``docs/infra.md``); the stack only knows
its *name* (``SLACK_SECRET_NAME``) and grants read access to it. The URLs are never in the template, an
environment variable or a log line. If the secret is encrypted with a customer-managed key, also grant
``kms:Decrypt`` on that key to the function's role. With the Slack app on (``interact.enabled``) the function may also
read the app's secret, for its bot token (``notifier.people``: e-mail lookups and direct messages).
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants, nag
from infra.function import CoreResources, CostwardenFunction


class Notifier(Construct):
    """Attributes: ``function`` (the ``CostwardenFunction``), ``subscription_dlq``, ``secret``, ``dlq_alarm``."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources) -> None:
        super().__init__(scope, construct_id)
        secret_name = core.settings.notifier.slack_secret_name
        self.secret = secretsmanager.Secret.from_secret_name_v2(self, "SlackWebhooks", secret_name)
        self.function = CostwardenFunction(
            self,
            "Function",
            core=core,
            service_name="notifier",
            handler=constants.NOTIFIER_HANDLER,
            description="Turns Costwarden alert events into Slack messages, routed per team and to on-call",
            timeout=constants.NOTIFIER_TIMEOUT,
            publishes_alerts=False,
            state_access="read_write",  # Powertools idempotency records (never post the same alert twice)
            environment={constants.ENV_SLACK_SECRET_NAME: secret_name},
        )
        self.secret.grant_read(self.function.function)
        if core.settings.interact.enabled:
            # The Slack app's bot token: owners' e-mails looked up, direct messages sent (notifier.people, issue 22).
            app_name = core.settings.interact.app_secret_name
            self.app_secret = secretsmanager.Secret.from_secret_name_v2(self, "SlackApp", app_name)
            self.app_secret.grant_read(self.function.function)
        self.subscription_dlq = sqs.Queue(
            self,
            "SubscriptionDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # SNS may send to SSE-SQS queues without key grants
            enforce_ssl=True,
            retention_period=constants.DLQ_RETENTION,
        )
        nag.acknowledge(self.subscription_dlq, nag.SNS_SUBSCRIPTION_DLQ)
        # LambdaSubscription also adds the queue policy letting this topic (and only it) send to the queue.
        core.alert_topic.add_subscription(
            subscriptions.LambdaSubscription(self.function.function, dead_letter_queue=self.subscription_dlq)
        )
        self.dlq_alarm = cloudwatch.Alarm(
            self,
            "SubscriptionDlqDepthAlarm",
            metric=self.subscription_dlq.metric_approximate_number_of_messages_visible(
                period=constants.ALARM_PERIOD, statistic="Maximum"
            ),
            alarm_description="SNS could not deliver alert events to the Costwarden notifier (subscription DLQ).",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cw_actions.SnsAction(core.operator_topic)
        self.dlq_alarm.add_alarm_action(action)
        self.dlq_alarm.add_ok_action(action)
