"""What the organization handlers share: the run's instant, taken from the state machine's execution start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def run_time(event: dict[str, Any]) -> datetime:
    """``time`` (the execution's start, passed by every state): both phases judge expiry at the same instant, so
    a resource cannot expire between plan and act and grow the plan past what was approved."""
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str) and raw:
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
