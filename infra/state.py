"""The state table: one DynamoDB table for dedup markers, idempotency records, the reaper's audit log and cached
Cost Explorer days (``costwarden.adapters.state``: string keys ``pk``/``sk``, TTL attribute ``expiration``).

On-demand billing (a few hundred requests a day), point-in-time recovery (the audit log is evidence of what the
reaper did), encryption with the AWS-managed key, and RETAIN: deleting the stack must not delete the audit log.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import constants


class StateTable(Construct):
    """Attribute ``table``: the state table."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=constants.TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=constants.TABLE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=constants.TABLE_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )
