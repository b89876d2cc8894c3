"""The stack's private working buckets (Athena results, monthly reports, organization run results): one shape.

S3-managed encryption, every public access blocked, bucket-owner objects, TLS only, objects expired after ``days``
(and abandoned multipart uploads after one). Server access logging would need a further log bucket, itself flagged
by the same cdk-nag rule, so each caller acknowledges ``AwsSolutions-S1`` with its own reason.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge_scoped

S1: Final = "AwsSolutions::AwsSolutions-S1"


def expiring_bucket(
    scope: Construct,
    construct_id: str,
    days: int,
    removal_policy: RemovalPolicy,
    logs_reason: str,
    *,
    rule_id: str = "expire-objects",
) -> s3.Bucket:
    """A private bucket whose objects expire after ``days`` (lifecycle rule ``rule_id``); ``logs_reason``: why it
    has no server access logs."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        removal_policy=removal_policy,
        lifecycle_rules=[
            s3.LifecycleRule(
                id=rule_id,
                expiration=Duration.days(days),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
    )
    acknowledge_scoped(bucket, [S1], logs_reason)
    return bucket
