"""The organization idle run's last step: one alert per team over all accounts, robust to malformed item outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from costwarden.adapters.state import MemoryStateStore
from costwarden.models.alert import AlertEvent
from costwarden.services.org import publish_idle
from costwarden.settings import parse_settings

NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)


def _row(account: str, vol: str, team: str, usd: float | None, attribution: str = "tag") -> dict[str, Any]:
    return {
        "account": account,
        "arn": f"arn:aws:ec2:us-east-1:{account}:volume/{vol}",
        "id": vol,
        "type": "ec2:volume",
        "region": "us-east-1",
        "team": team,
        "kind": "unattached",
        "monthly_usd": usd,
        "evidence": "unattached",
        "recommendation": "delete it",
        "attribution": attribution,
    }


def test_one_alert_per_team_and_malformed_rows_are_reported_not_raised() -> None:
    sent: list[AlertEvent] = []
    outputs: list[dict[str, Any]] = [
        {"account_id": "111111111111", "findings": [_row("111111111111", "vol-1", "nlp", 120.0)]},
        {
            "account_id": "222222222222",
            "findings": [
                _row("222222222222", "vol-2", "nlp", 30.0),
                _row("222222222222", "vol-3", "cv", None, "account default"),
            ],
            "findings_left_off": 4,
        },
        {"account_id": "333333333333", "findings": ["not a row", {"team": "x"}]},
        {"Error": "States.TaskFailed", "Cause": "boom"},  # a Catch result: no findings
    ]
    state = MemoryStateStore()

    def publish(event: AlertEvent) -> str:
        sent.append(event)
        return "message-id"

    result = publish_idle(parse_settings({}), outputs, state=state, publish_fn=publish, now=NOW)

    assert result["teams"] == {"cv": 1, "nlp": 2}
    assert result["findings_left_off"] == 4
    assert len(result["errors"]) == 2 and all("333333333333" in e for e in result["errors"])
    by_team = {e.team: e for e in sent}
    assert set(by_team) == {"cv", "nlp"}
    assert by_team["nlp"].details["waste_usd"] == 150.0
    assert by_team["nlp"].details["figures"]["Accounts"] == "111111111111, 222222222222"
    assert by_team["cv"].details["figures"]["Owner"] == "account default (team tag of account 222222222222)"
    # Same week: nothing again.
    assert publish_idle(parse_settings({}), outputs, state=state, publish_fn=publish, now=NOW)["alerts_sent"] == []
    assert len(sent) == 2
