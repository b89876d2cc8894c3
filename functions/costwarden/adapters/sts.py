"""Assume a member account's role once and hand out that account's clients (the ``Clients`` factory shape).

One ``AssumeRole`` per account and role (credentials last an hour; a run item takes minutes), then one cached
client per (service, region): requests grow with accounts, not with resources. Clients use the same retry
configuration as every other client (``adapters.aws.RETRY_CONFIG``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3

from costwarden.adapters import aws

SESSION_NAME = "costwarden"
_SESSION_RE = re.compile(r"[^\w+=,.@-]")


class AssumeRoleError(RuntimeError):
    """The member role could not be assumed; the message names the account and the role."""


def member_clients(
    account_id: str,
    role_name: str,
    *,
    session_name: str = SESSION_NAME,
    partition: str = "aws",
    sts_client: Any | None = None,
) -> Callable[[str, str], Any]:
    """A ``Clients`` factory ``(service, region) -> client`` acting as ``role_name`` in ``account_id``."""
    arn = f"arn:{partition}:iam::{account_id}:role/{role_name}"
    sts = sts_client or aws.client("sts")
    try:
        credentials = sts.assume_role(
            RoleArn=arn, RoleSessionName=_SESSION_RE.sub("-", session_name)[:64], DurationSeconds=3600
        )["Credentials"]
    except aws.AWS_ERRORS as error:
        raise AssumeRoleError(f"account {account_id}: cannot assume {arn}: {error}") from None
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    cache: dict[tuple[str, str], Any] = {}

    def clients(service: str, region: str) -> Any:
        key = (service, region)
        if key not in cache:
            made = session.client(service, region_name=region, config=aws.RETRY_CONFIG)  # type: ignore[call-overload]
            cache[key] = aws.watched(made, service, region)
        return cache[key]

    return clients


def caller_account(sts_client: Any | None = None) -> str | None:
    """The account these credentials belong to (``GetCallerIdentity``), or None when it cannot be told."""
    try:
        return str((sts_client or aws.client("sts")).get_caller_identity()["Account"])
    except aws.AWS_ERRORS:
        return None
