"""The cost chapter of ``costwarden demo``: findings with root causes, a budget at risk, an incremental next day."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from costwarden.demo import cost
from costwarden.models.alert import AlertEvent, AlertKind, Severity

pytestmark = pytest.mark.e2e


def _alerts(out: Path) -> list[AlertEvent]:
    return [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]


def test_one_warning_one_critical_with_root_causes_and_one_budget_at_risk(demo: tuple[int, Path, str]) -> None:
    code, out, printed = demo
    assert code == 0, printed
    anomalies = {
        a.team: a for a in _alerts(out) if a.kind is AlertKind.COST_ANOMALY and a.title.startswith(("vision", "nlp"))
    }
    assert anomalies["vision"].severity is Severity.CRITICAL
    assert anomalies["nlp"].severity is Severity.WARNING
    vision_items = anomalies["vision"].details["items"]
    assert any(item.endswith(" in Amazon SageMaker") and item.startswith("+$") for item in vision_items)
    assert any("Elastic Compute Cloud" in item for item in anomalies["nlp"].details["items"])
    budgets = [a for a in _alerts(out) if a.kind is AlertKind.BUDGET]
    assert [(b.team, b.details["figures"]["Status"]) for b in budgets] == [("recsys", "AT_RISK")]


def test_next_day_is_one_request_and_no_repeat(demo: tuple[int, Path, str]) -> None:
    _, _, printed = demo
    chapter = printed.split("Cost monitor:")[1]
    first, second = chapter.split("Next day,")[:2]
    assert "Cost Explorer: 10 request(s)" in first  # two pages of backfill + four cause dimensions for two alerts
    assert "Cost Explorer: 1 request(s)" in second
    assert "alerts  none (nothing new)" in second


def test_slack_received_the_cost_alerts(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    posted = json.loads((out / "slack.json").read_text())
    text = json.dumps([p for p in posted if p["status"] == 200])
    assert re.search(r"vision: \+\$[\d,]+ in Amazon SageMaker on [\d-]+ \(3\.\dx usual\)", text)
    assert "recsys: AT RISK" in text


def test_history_shape() -> None:
    rows = cost.line_items()
    teams = {team for _day, team, *_ in rows}
    days = {day for day, *_ in rows}
    assert len(teams) >= 5 and len(days) >= 60


def test_a_team_burnt_85_percent_of_its_experiment_pool_by_the_12th(demo: tuple[int, Path, str]) -> None:
    _, _, printed = demo
    pools = printed.split("Pools, a look back at 2026-11-13")[1]
    assert "speech    experiment      4,250 USD by the 12th, 85% spent, AT_RISK" in pools
    assert "speech    production      7,200 USD by the 12th, 72% projected, ON_TRACK" in pools
    assert "360 USD without an environment tag" in pools
    assert "[warning] speech: experiment pool 80 % used for 2026-11" in pools
    assert "experiment_id=sweep-lr: $2,600" in pools and "experiment_id=sweep-bs: $1,200" in pools
