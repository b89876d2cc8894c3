"""Wiring shared by the Lambda handler and the CLI: regions, clients, state store, publisher."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from costwarden.adapters import aws
from costwarden.adapters.state import STATE_TABLE_ENV_VAR, DynamoStateStore, MemoryStateStore
from costwarden.models.alert import AlertEvent
from costwarden.models.ports import StateStore
from costwarden.reaper.execute import Publisher
from costwarden.settings import Settings

TOPIC_ENV_VAR = "ALERT_TOPIC_ARN"


def regions_for(settings: Settings, override: Sequence[str] | None = None) -> list[str]:
    """``--regions`` if given, else settings.reaper.regions, else the deployment (boto3 default) region."""
    chosen = [r.strip() for r in (override or settings.reaper.regions) if r.strip()]
    return list(dict.fromkeys(chosen)) or [aws.default_region()]


def state_store(table_name: str | None = None, *, probe: bool = True) -> tuple[StateStore, str | None]:
    """The deployed state table, or ``MemoryStateStore`` with a note saying why (no table / table missing).

    ``probe=False`` (the Lambda handler): a configured table is used as is, so a transient error fails the run
    loudly instead of silently dropping the audit and the "already warned" state.
    """
    name = table_name if table_name is not None else os.environ.get(STATE_TABLE_ENV_VAR, "")
    if not name:
        return MemoryStateStore(), f"{STATE_TABLE_ENV_VAR} is not set"
    if not probe:
        return DynamoStateStore(name), None
    try:
        aws.client("dynamodb").describe_table(TableName=name)
    except Exception as error:  # recorded (decision, summary or log); the run goes on
        return MemoryStateStore(), f"state table {name!r} is not usable ({type(error).__name__})"
    return DynamoStateStore(name), None


def sns_publisher(topic_arn: str | None = None, sns_client: Any | None = None) -> Publisher | None:
    """``publish`` bound to the alert topic, or None when there is no topic (CLI on an undeployed account)."""
    arn = topic_arn if topic_arn is not None else os.environ.get(TOPIC_ENV_VAR, "")
    if not arn:
        return None
    from costwarden.services.topic import publish

    def _publish(event: AlertEvent) -> str:
        return publish(event, arn, sns_client=sns_client)

    return _publish


def default_clients(service: str, region: str) -> Any:
    return aws.client(service, region)
