"""The notifier against moto (state table, Secrets Manager) and the local Slack stand-in.

The handler module is import-safe (its idempotency layer is built on first use), so it is imported at the top of the
tests; ``reset_caches()`` makes every test build a fresh layer against its own moto account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.handlers import notifier
from costwarden.handlers.context import LocalContext
from costwarden.notifier.slack import RetryPolicy
from moto import mock_aws

from tests.functional.notifier.support import PATHS, SECRET, TABLE, NotifierWorld, Sleeps
from tests.support.aws import create_state_table


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def world(slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifierWorld]:
    sleeps = Sleeps()
    secret = {
        "default": slack.url(PATHS["default"]),
        "oncall": slack.url(PATHS["oncall"]),
        "teams": {"vision": slack.url(PATHS["team:vision"])},
    }
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb, TABLE)
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name=SECRET, SecretString=json.dumps(secret)
        )
        monkeypatch.setenv("STATE_TABLE_NAME", TABLE)
        monkeypatch.setenv("SLACK_SECRET_NAME", SECRET)
        monkeypatch.setattr(notifier, "sleep", sleeps)
        monkeypatch.setattr(notifier, "webhook_allowance", slack.allowance())
        monkeypatch.setattr(notifier, "slack_api_url", slack.api_url)
        monkeypatch.setattr(notifier, "retry_policy", RetryPolicy(attempt_timeout_seconds=1.5, reserve_seconds=1.0))
        notifier.reset_caches()

        def invoke(event: dict[str, Any], timeout_ms: int = 60_000) -> dict[str, Any]:
            return notifier.handler(event, LocalContext(function_name="notifier", timeout_ms=timeout_ms))

        yield NotifierWorld(slack=slack, sleeps=sleeps, secret=secret, invoke=invoke)
        notifier.reset_caches()
