"""Planned spend (parser, the detection hook), episode quieting, and which buttons an alert carries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.core import episodes, planned
from costwarden.cost.planned_spend import adjust_findings
from costwarden.interact.buttons import action_blocks, series_of
from costwarden.interact.payload import decode_button
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.settings import SettingsError, parse_settings

LIMITS = {"warn_ratio": 1.5, "critical_ratio": 2.0, "min_impact_usd": 50.0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "usage: plan"),
        (["nlp", "2026-12-01", "2026-12-02", "100"], "usage: plan"),
        (["nlp", "tomorrow", "2026-12-02", "100", "x"], "<from> must be a date"),
        (["nlp", "2026-12-03", "2026-12-02", "100", "x"], "is before <from>"),
        (["nlp", "2026-12-01", "2027-02-02", "100", "x"], "at most 31 days"),
        (["nlp", "2026-12-01", "2026-12-02", "-5", "x"], "<usd> must be above 0"),
        (["nlp", "2026-12-01", "2026-12-02", "nan", "x"], "<usd> must be above 0"),
        (["nlp", "2026-12-01", "2026-12-02", "1e99", "x"], "<usd> must be above 0"),
        (["nlp", "2026-12-01", "2026-12-02", "ten", "x"], "<usd> must be a number"),
    ],
)
def test_bad_plans_name_the_argument(args: list[str], message: str) -> None:
    with pytest.raises(planned.PlanError, match=message):
        planned.parse_plan(args)


def test_plan_spreads_over_its_days() -> None:
    plan = planned.parse_plan(["plan", "nlp", "2026-12-01", "2026-12-04", "$4,000", "sweep", "run"])
    assert plan.per_day == 1000 and plan.reason == "sweep run"
    state = MemoryStateStore()
    planned.store(state, plan, by="U0ALICE01", now=datetime(2026, 11, 30, tzinfo=UTC))
    items = state.query("plan#nlp")
    assert planned.planned_extra(items, date(2026, 12, 2)) == 1000
    assert planned.planned_extra(items, date(2026, 12, 5)) == 0


def _findings(cost: float, baseline: float = 1000.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "date": pd.Timestamp("2026-12-02"),
                "team": "nlp",
                "cost_usd": cost,
                "baseline_usd": baseline,
                "ratio": cost / baseline,
                "zscore": 9.0,
                "impact_usd": cost - baseline,
                "severity": "critical" if cost / baseline >= 2 else "warning",
                "estimated": False,
            }
        ]
    )


def test_a_planned_day_within_the_plan_is_not_an_anomaly() -> None:
    items = [{"from": "2026-12-01", "to": "2026-12-04", "usd": 4000}]
    out = adjust_findings(_findings(2400), "team", lambda team: items, **LIMITS)
    assert out.empty


def test_above_the_plan_still_fires_and_carries_the_planned_amount() -> None:
    items = [{"from": "2026-12-01", "to": "2026-12-04", "usd": 4000}]
    out = adjust_findings(_findings(5000), "team", lambda team: items, **LIMITS)
    [row] = out.to_dict("records")
    assert row["planned_usd"] == 1000 and row["baseline_usd"] == 2000 and row["severity"] == "critical"
    asked: list[str] = []
    other = adjust_findings(_findings(5000), "team", lambda team: asked.append(team) or [], **LIMITS)
    assert other["severity"].tolist() == ["critical"] and asked == ["nlp"]


def test_snoozed_episode_does_not_escalate() -> None:
    state = {"nlp|": {"severity": "warning", "start": "2026-12-01", "last": "2026-12-01", "quiet": True}}
    findings = _findings(5000).assign(date="2026-12-02")
    new_state, actions = episodes.advance(state, findings, {"2026-12-02": False}, ["team"])
    assert actions == [] and new_state["nlp|"]["severity"] == "critical"
    del state["nlp|"]["quiet"]
    _, actions = episodes.advance(state, findings, {"2026-12-02": False}, ["team"])
    assert [a.kind for a in actions] == ["escalate"]


ENABLED = parse_settings({"interact": {"enabled": True}})


def _event(kind: AlertKind, dedup: str, **details: object) -> AlertEvent:
    return AlertEvent(
        kind=kind, severity=Severity.WARNING, team="nlp#x", title="t", summary="s", details=details, dedup_key=dedup
    )


def test_buttons_only_with_the_app() -> None:
    event = _event(AlertKind.EXPIRY_WARNING, "expiry#a", arn="arn:aws:ec2:us-east-1:1:instance/i-1")
    assert action_blocks(event, "ml-nlp", parse_settings({})) == []
    [block] = action_blocks(event, "ml-nlp", ENABLED)
    labels = [e["text"]["text"] for e in block["elements"]]
    assert labels == ["Extend 1 day", "Extend 3 days", "Extend 7 days"]
    button = decode_button(block["elements"][1]["value"])
    assert (button.action, button.team, button.channel, button.days) == ("extend", "nlp#x", "ml-nlp", 3)


def test_anomaly_buttons_name_the_series_even_when_the_team_has_a_hash() -> None:
    event = _event(AlertKind.COST_ANOMALY, "cost#nlp#x|training#2026-12-02#warning")
    assert series_of(event) == "nlp#x|training"
    [block] = action_blocks(event, "ml-nlp", ENABLED)
    assert [decode_button(e["value"]).action for e in block["elements"]] == ["ack", "snooze", "planned"]
    retract = _event(AlertKind.COST_ANOMALY, "cost#nlp|#2026-12-02#retract")
    assert action_blocks(retract, "ml-nlp", ENABLED) == []
    assert action_blocks(_event(AlertKind.DIGEST, "digest#1"), "ml-nlp", ENABLED) == []


def test_enforce_buttons_only_for_critical_anomalies_of_opted_in_teams() -> None:
    settings = parse_settings(
        {
            "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
            "budgets": {"hard_limit": {"nlp#x": "approve"}},
            "teams": {"nlp#x": {"slack": {"launch_roles": ["nlp-launcher"]}}},
        }
    )
    critical = _event(AlertKind.COST_ANOMALY, "cost#nlp#x|#2026-12-02#critical").model_copy(
        update={"severity": Severity.CRITICAL}
    )
    [block] = action_blocks(critical, "oncall", settings)  # on-call's rendering: where Enforce can be pressed
    actions = [decode_button(e["value"]).action for e in block["elements"]]
    assert actions == ["ack", "snooze", "planned", "enforce", "hold"]
    [team_block] = action_blocks(critical, "ml-nlp", settings)  # the team's channel: no on-call-only buttons
    assert [decode_button(e["value"]).action for e in team_block["elements"]] == ["ack", "snooze", "planned"]
    warning = _event(AlertKind.COST_ANOMALY, "cost#nlp#x|#2026-12-02#warning")
    assert "enforce" not in json.dumps(action_blocks(warning, "oncall", settings))
    assert "enforce" not in json.dumps(action_blocks(critical, "oncall", ENABLED))


def test_hard_limit_without_the_app_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=r"interact\.enabled is false"):
        parse_settings({"budgets": {"hard_limit": {"nlp": "auto"}}})
    assert parse_settings({"budgets": {"hard_limit": {"nlp": "off"}}}).budgets.hard_limit == {"nlp": "off"}


def test_digest_shows_who_acknowledged() -> None:
    from costwarden.cost.digest_input import open_anomalies
    from costwarden.demo.example_digest import example_input
    from costwarden.digest.compose import compose_digest
    from costwarden.notifier.digest_blocks import blocks_as_text, digest_blocks

    state = {
        "nlp|": {
            "severity": "critical",
            "last": "2026-12-01",
            "alert_date": "2026-12-01",
            "cost_usd": 3000.0,
            "baseline_usd": 1000.0,
            "ratio": 3.0,
            "acknowledged_by": "U0ALICE01",
        }
    }
    [anomaly] = open_anomalies(state, last_day=date(2026, 12, 1))
    assert anomaly.acknowledged_by == "U0ALICE01"
    inp = example_input()
    event = compose_digest(inp.model_copy(update={"anomalies": (anomaly,)}), 15)
    assert "acknowledged: nlp <@U0ALICE01>" in blocks_as_text(digest_blocks(event))
