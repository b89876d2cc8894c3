"""A moto account, the Slack stand-in and the interact handler wired together: a button press end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from costwarden.adapters import secrets
from costwarden.adapters.state import DynamoStateStore
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.handlers import interact
from costwarden.handlers.context import LocalContext
from costwarden.interact.verify import signature
from moto import mock_aws

from tests.support.aws import create_state_table

TABLE = "costwarden-state"
APP_SECRET = "costwarden/slack-app"
SIGNING = "test-signing-secret-0123456789abcdef"  # a test secret
RESPONSE_PATH = "/actions/T0TEAM/1234/abcdef"
SETTINGS: dict[str, Any] = {
    "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
    "reaper": {"max_lifetime_days": 10, "max_actions_per_run": 3},
    "budgets": {"hard_limit": {"nlp": "approve"}},
    "tags": {"expires_key": "ttl_until", "optional": ["experiment_id", "created_by", "ttl_until"]},
    "teams": {
        "nlp": {
            "owners": ["U0ALICE01", "S0NLPGRP1"],
            "channel": "ml-nlp",
            "slack": {"launch_roles": ["nlp-launcher", "nlp-notebooks"]},
        },
        "vision": {"owners": ["U0CAROL01"], "channel": "ml-vision"},
    },
}


@dataclass
class World:
    slack: SlackStandIn
    state: DynamoStateStore
    ec2: Any
    worked: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def instance(self, **tags: str) -> tuple[str, str]:
        base = {"team": "nlp", "environment": "experiment"}
        reservation = self.ec2.run_instances(
            ImageId="ami-12345678",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in {**base, **tags}.items()]}
            ],
        )
        instance_id = reservation["Instances"][0]["InstanceId"]
        return instance_id, f"arn:aws:ec2:us-east-1:123456789012:instance/{instance_id}"

    def tags(self, instance_id: str) -> dict[str, str]:
        described = self.ec2.describe_instances(InstanceIds=[instance_id])
        return {t["Key"]: t["Value"] for t in described["Reservations"][0]["Instances"][0].get("Tags", [])}

    def request(self, body: bytes, *, secret: str = SIGNING, age: int = 0) -> dict[str, Any]:
        stamp = str(int(time.time()) - age)
        event = {
            "version": "2.0",
            "headers": {
                "x-slack-request-timestamp": stamp,
                "x-slack-signature": signature(secret.encode(), stamp, body),
                "content-type": "application/x-www-form-urlencoded",
            },
            "body": body.decode(),
            "isBase64Encoded": False,
        }
        return interact.handler(event, LocalContext(function_name="interact"))

    def press(
        self, value: dict[str, Any], *, user: str = "U0ALICE01", channel: str = "ml-nlp", action_ts: str = "", **kw: Any
    ) -> Any:
        self.counter += 1
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": "C0NLP0001", "name": channel},
            "container": {"type": "message", "message_ts": "1764627000.000200"},
            "response_url": self.slack.url(RESPONSE_PATH),
            "message": {
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "expires soon"}},
                    {"type": "actions", "elements": []},
                ]
            },
            "actions": [
                {
                    "action_id": "cw",
                    "value": json.dumps(value),
                    "action_ts": action_ts or f"{time.time():.6f}{self.counter}",
                }
            ],
        }
        return self.request(urlencode({"payload": json.dumps(payload)}).encode(), **kw)

    def command(self, text: str, *, user: str = "U0ALICE01", channel: str = "ml-nlp") -> Any:
        self.counter += 1
        form = {
            "command": "/costwarden",
            "text": text,
            "user_id": user,
            "channel_id": "C0NLP0001",
            "channel_name": channel,
            "trigger_id": f"trigger.{self.counter}",
            "response_url": self.slack.url("/commands/T0TEAM/99/xyz"),
        }
        return self.request(urlencode(form).encode())

    def audit(self) -> list[dict[str, Any]]:
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        return list(self.state.query(f"audit#{today}", "interact#"))

    def replies(self, path: str = RESPONSE_PATH) -> list[dict[str, Any]]:
        return [r.body or {} for r in self.slack.posts_to(path)]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with SlackStandIn() as slack, mock_aws():
        slack.usergroups = {"S0NLPGRP1": ["U0DAVE001"]}
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb, TABLE)
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name=APP_SECRET, SecretString=json.dumps({"signing_secret": SIGNING, "bot_token": slack.bot_token})
        )
        monkeypatch.setenv("STATE_TABLE_NAME", TABLE)
        monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(SETTINGS))
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        for role in ("nlp-launcher", "nlp-notebooks", "costwarden-hard-limit"):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        monkeypatch.setenv("HARD_LIMIT_ROLE_ARN", "arn:aws:iam::123456789012:role/costwarden-hard-limit")
        monkeypatch.setattr(interact, "allowance", slack.allowance())
        monkeypatch.setattr(interact, "slack_api", slack.api_url)
        secrets.clear_cache()
        world = World(slack, DynamoStateStore(TABLE), boto3.client("ec2", region_name="us-east-1"))

        def run_worker(payload: bytes) -> None:  # the async self-invoke, run in-process
            world.worked.append(interact.work(json.loads(payload)))

        monkeypatch.setattr(interact, "_invoke_self", run_worker)
        yield world
        secrets.clear_cache()


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
