"""The alert event: the one message shape every producer publishes and every subscriber reads (DESIGN.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION: Literal[1] = 1


class AlertKind(StrEnum):
    COST_ANOMALY = "cost_anomaly"
    BUDGET = "budget"
    FORECAST = "forecast"
    EXPIRY_WARNING = "expiry_warning"
    REAPED = "reaped"
    REAP_BLOCKED = "reap_blocked"
    TAG_VIOLATION = "tag_violation"
    DIGEST = "digest"
    LIMIT = "limit"
    SAVINGS = "savings"
    REPORT = "report"
    COMMITMENT = "commitment"
    IDLE = "idle"
    BEDROCK = "bedrock"
    BURN_RATE = "burn_rate"
    UNIT_COST = "unit_cost"


class RankedEnum(StrEnum):
    """A string enum whose members are declared in rising order: ``rank`` is a member's position, what escalation
    compares (a severity, a budget status)."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)


class Severity(RankedEnum):
    """Ordered for escalation: info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertEvent(BaseModel):
    """One alert, JSON in the SNS message body.

    ``details`` is free-form per kind, with two conventions the Slack notifier renders specially:
    ``details["figures"]`` (label -> short display value, shown as Block Kit fields, in order) and
    ``details["items"]`` (a list of short lines, shown as a list: resources, services, teams).
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: AlertKind
    severity: Severity
    team: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1)
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    dedup_key: str = Field(min_length=1, max_length=512)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("occurred_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, body: str | bytes) -> AlertEvent:
        return cls.model_validate_json(body)
