"""Episodes: once per ongoing anomaly, again on escalation, a retraction when estimated data turns out normal."""

from __future__ import annotations

from typing import Any

import pandas as pd
from costwarden.core.episodes import advance, changed, load_state


def findings(*rows: tuple[str, str, str, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "date": d,
                "team": t,
                "severity": s,
                "estimated": e,
                "cost_usd": 300.0,
                "baseline_usd": 100.0,
                "ratio": 3.0,
            }
            for d, t, s, e in rows
        ]
    )


def run(
    state: dict[str, Any], rows: list[tuple[str, str, str, bool]], judged: dict[str, bool]
) -> tuple[Any, list[str]]:
    new, actions = advance(state, findings(*rows) if rows else pd.DataFrame(), judged, ["team"])
    return new, [f"{a.kind}:{a.series}" for a in actions]


def test_ongoing_episode_alerts_once_then_escalates_once() -> None:
    state, acts = run({}, [("2026-03-01", "ml", "warning", False)], {"2026-03-01": False})
    assert acts == ["alert:ml|"]
    state, acts = run(state, [("2026-03-02", "ml", "warning", False)], {"2026-03-02": False})
    assert acts == []
    state, acts = run(state, [("2026-03-03", "ml", "critical", False)], {"2026-03-03": False})
    assert acts == ["escalate:ml|"]
    state, acts = run(state, [("2026-03-04", "ml", "warning", False)], {"2026-03-04": False})
    assert acts == []  # de-escalation is not news
    assert state["ml|"]["severity"] == "critical" and state["ml|"]["start"] == "2026-03-01"


def test_gap_longer_than_a_weekend_starts_a_new_episode() -> None:
    state, _ = run({}, [("2026-03-01", "ml", "warning", False)], {"2026-03-01": False})
    state, acts = run(state, [("2026-03-04", "ml", "warning", False)], {"2026-03-04": False})
    assert acts == []  # 3 days later: same episode
    state, acts = run(state, [("2026-03-09", "ml", "warning", False)], {"2026-03-09": False})
    assert acts == ["alert:ml|"]


def test_estimated_alert_is_retracted_when_final_day_does_not_breach() -> None:
    state, acts = run({}, [("2026-03-01", "ml", "critical", True)], {"2026-03-01": True})
    assert acts == ["alert:ml|"] and state["ml|"]["alert_estimated"] is True
    state, acts = run(state, [], {"2026-03-01": True})  # still estimated: wait
    assert acts == []
    new, actions = advance(state, pd.DataFrame(), {"2026-03-01": False, "2026-03-02": False}, ["team"])
    assert [a.kind for a in actions] == ["retract"] and actions[0].finding["severity"] == "info"
    assert new["ml|"]["retracted"] is True
    # after a retraction, a new breach is a new alert
    _, acts = run(new, [("2026-03-02", "ml", "warning", False)], {"2026-03-02": False})
    assert acts == ["alert:ml|"]


def test_estimated_alert_confirmed_when_final_day_still_breaches() -> None:
    state, _ = run({}, [("2026-03-01", "ml", "critical", True)], {"2026-03-01": True})
    state, acts = run(state, [("2026-03-01", "ml", "critical", False)], {"2026-03-01": False})
    assert acts == [] and state["ml|"]["alert_estimated"] is False


def test_two_keys_and_state_round_trip() -> None:
    frame = findings(("2026-03-01", "ml", "warning", False))
    frame["lifecycle_phase"] = "training"
    new, actions = advance({}, frame, {"2026-03-01": False}, ["team", "lifecycle_phase"])
    assert [a.series for a in actions] == ["ml|training"]
    items = [{"pk": "dedup#cost", "sk": sid, **item} for sid, item in new.items()]
    assert load_state(items) == new
    assert changed(new, new) == {}
