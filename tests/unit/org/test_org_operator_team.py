"""Issue 19 bug: the organization's reap-blocked alert goes to the operator team under the *configured* team key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from costwarden.adapters.state import MemoryStateStore
from costwarden.models.alert import AlertEvent, AlertKind
from costwarden.services.org import aggregate_plans
from costwarden.settings import parse_settings

NOW = datetime(2026, 12, 7, 6, tzinfo=UTC)


def _blocked_run(raw_settings: dict[str, Any]) -> list[AlertEvent]:
    sent: list[AlertEvent] = []

    def publish(event: AlertEvent) -> str:
        sent.append(event)
        return "message-id"

    outputs = [
        {"account_id": "111111111111", "region": "us-east-1", "ok": True, "planned_actions": 20},
        {"account_id": "222222222222", "region": "us-east-1", "ok": True, "planned_actions": 20},
    ]
    settings = parse_settings({"reaper": {"max_actions_per_run": 25, "dry_run": False}, **raw_settings})
    result = aggregate_plans(settings, outputs, state=MemoryStateStore(), publish_fn=publish, now=NOW)
    assert result.event is not None and result.event.kind is AlertKind.REAP_BLOCKED
    assert [e.team for e in sent] == [result.event.team]  # published once, the event the step built
    return sent


def test_reap_blocked_goes_to_the_team_under_a_non_default_team_key() -> None:
    sent = _blocked_run({"tags": {"team_key": "owner"}, "stack_tags": {"owner": "mlops", "team": "platform"}})
    assert [e.team for e in sent] == ["mlops"]


def test_reap_blocked_default_operator_team() -> None:
    assert [e.team for e in _blocked_run({})] == ["platform"]
