"""What the organization handlers share: the run's instant, taken from the state machine's execution start, and
the results bucket (``costwarden.org.results``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from costwarden.adapters.org_results import S3ResultStore
from costwarden.org.results import bucket_name


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


def result_store(event: dict[str, Any]) -> S3ResultStore | None:
    """The results bucket the state machine names in the step's payload (``bucket``); None in-process (the demo
    runs the same steps with their results inline)."""
    raw = event.get("bucket") if isinstance(event, dict) else None
    return None if raw is None else S3ResultStore(bucket_name(raw))
