"""One builder for the alert events tests feed the notifier, the publisher and the renderers.

A test names only the fields its assertion is about; everything else is a plausible cost anomaly, validated by the
model exactly as a subscriber parses one (so an override the contract rejects fails the test that wrote it).
"""

from __future__ import annotations

from typing import Any

from costwarden.models.alert import AlertEvent, AlertKind, Severity

#: A warning cost anomaly for team ``vision``, as the cost monitor publishes one (figures and items included).
ANOMALY: dict[str, Any] = {
    "kind": AlertKind.COST_ANOMALY,
    "severity": Severity.WARNING,
    "team": "vision",
    "title": "vision: spend 1.7x its baseline",
    "summary": "vision spent 2,950 USD yesterday against a baseline of 1,740 USD.",
    "details": {"figures": {"Spend": "2,950 USD", "Baseline": "1,740 USD"}, "items": ["Amazon EC2 +1,100 USD"]},
    "dedup_key": "cost_anomaly#vision#2026-11-25",
}


def alert_event(**fields: Any) -> AlertEvent:
    """``ANOMALY`` with ``fields`` replacing its values (``details={}`` for an event without details)."""
    return AlertEvent.model_validate({**ANOMALY, **fields})
