"""What every demo chapter gets: the simulated account, the stack's resources in it, and the Slack stand-in.

A chapter is a function ``chapter(env: DemoEnv) -> None`` in ``costwarden/demo/<area>.py`` (listed in
``costwarden.demo.runner.CHAPTERS``). It creates whatever it needs through ``env.client(service)`` (bound to the
local moto server), runs its part of Costwarden, publishes alerts with ``env.publish(event)`` (or lets a handler
publish to ``env.alert_topic_arn``: the runner sees everything SNS delivered either way), and tells the reader what
happened with ``env.say(...)``. After each chapter the runner delivers what SNS queued to the real notifier handler
and prints what Slack received.

The functions' environment is set as in AWS: ``ALERT_TOPIC_ARN``, ``STATE_TABLE_NAME``, ``SLACK_SECRET_NAME``
(and ``AWS_ENDPOINT_URL`` pointing at moto), so a chapter can call a handler directly, e.g.
``handler(scheduled_event, LocalContext(function_name="cost_monitor"))``; ``env.use_settings({...})`` sets
``COSTWARDEN_SETTINGS`` for them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config

from costwarden.demo.slack_standin import SlackStandIn
from costwarden.models.alert import AlertEvent
from costwarden.services.topic import publish
from costwarden.settings import SETTINGS_ENV_VAR, Settings, load_settings, parse_settings
from costwarden.teams import TEAMS_FILE_ENV_VAR, write_document

#: The demo runs with the Slack app on (buttons on alerts, the signed endpoint): on-call may press every team's.
DEMO_ONCALL = "U0DEMOONCL"
SLACK_APP: dict[str, Any] = {"enabled": True, "oncall_users": [DEMO_ONCALL]}

#: Fast failure if the local server is gone; the demo never talks to anything but 127.0.0.1.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=30)


@dataclass
class DemoEnv:
    """The simulated account a chapter runs in (all addresses on 127.0.0.1)."""

    endpoint_url: str
    region: str
    account_id: str
    alert_topic_arn: str
    state_table_name: str
    kms_key_id: str
    slack_secret_name: str
    #: SQS queue subscribed to the alert topic: what SNS delivered, in the SNS JSON notification format.
    delivery_queue_url: str
    slack: SlackStandIn
    out_dir: Path
    #: Webhook paths on the stand-in per channel name (``default``, ``oncall``, ``team:<name>``).
    slack_paths: dict[str, str] = field(default_factory=dict)
    #: Every event the alert topic delivered (filled by the runner from the deliveries, so alerts published by
    #: handlers themselves count too), in delivery order: written to alerts.json.
    published: list[AlertEvent] = field(default_factory=list)
    #: Every webhook POST the Slack stand-in received, with its channel: written to slack.json.
    slack_received: list[dict[str, Any]] = field(default_factory=list)
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    #: Alert kinds (``AlertKind`` values) whose Slack messages the runner prints as one line instead of in full,
    #: e.g. the daily digests of the cost chapter's runs, shown in full by the last chapter only.
    brief_kinds: set[str] = field(default_factory=set)

    #: One boto3 session for the demo's clients: it loads each service model once (a session per client loaded the
    #: JSON models ~150 times, a large part of the demo's time). Clients stay separate: chapters hook some of them.
    session: Any = field(default=None, repr=False)

    def client(self, service: str, region: str | None = None) -> Any:
        """A new boto3 client bound to the local moto server (fake credentials, never a real endpoint)."""
        if self.session is None:
            self.session = boto3.session.Session()
        return self.session.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
            config=_CLIENT_CONFIG,
        )

    def publish(self, event: AlertEvent) -> str:
        """Publish through the production ``publish()`` to the alert topic; returns the SNS message id.

        The runner records it in ``published`` when SNS delivers it (so nothing is counted twice).
        """
        return publish(event, self.alert_topic_arn, sns_client=self.client("sns"))

    def use_settings(self, overrides: dict[str, Any]) -> Settings:
        """Give the functions run from now on these settings, validated, cache cleared, delivered as deployed:
        ``COSTWARDEN_SETTINGS``, and the team directory as a document named by ``COSTWARDEN_TEAMS_FILE``. The Slack
        app (``SLACK_APP``) is on unless ``overrides`` say otherwise.

        They stay in force for later chapters (the runner restores the caller's environment when the demo ends);
        a chapter that needs particular settings sets them itself rather than relying on an earlier chapter.
        """
        settings = parse_settings({"interact": SLACK_APP, **overrides}, source="demo settings")
        os.environ[SETTINGS_ENV_VAR] = settings.to_env()
        os.environ[TEAMS_FILE_ENV_VAR] = str(write_document(settings.teams_json(), self.out_dir / "teams.json"))
        load_settings.cache_clear()
        return settings

    def say(self, text: str = "") -> None:
        """Print one line (or paragraph) of the demo's narration."""
        print(text, file=self.stream, flush=True)
