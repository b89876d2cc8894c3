"""A 1,000-team budget and digest run: the cost monitor handler loads the team directory from its document (as
deployed: ``COSTWARDEN_TEAMS_FILE``, settings without teams) and judges every budget it names."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from costwarden.models.alert import AlertKind
from costwarden.settings import MAX_SETTINGS_ENV_BYTES, parse_settings
from costwarden.teams import TEAMS_FILE_ENV_VAR, write_document

from .conftest import World

ROOT = Path(__file__).resolve().parents[3]
START = date(2026, 1, 1)
RUN_AT = "2026-03-20T08:00:00Z"  # judges through 2026-03-19: 19 of March's 31 days
#: Budget as a share of the month a team is heading for: a few teams OVER_BUDGET and AT_RISK (each alert is an SNS
#: publish, a queue message and a state item), a quarter without a budget, the rest ON_TRACK.
SHARES = {"OVER_BUDGET": 0.8, "AT_RISK": 1.0 / 0.95, "ON_TRACK": 2.0, "NO_BUDGET": None}


def _expected(n: int) -> str:
    if n % 4 == 3:
        return "NO_BUDGET"
    return {0: "OVER_BUDGET", 1: "AT_RISK"}.get(n % 100, "ON_TRACK")


def _team(n: int) -> str:
    return f"ml-team-{n:04d}"


def _level(n: int) -> float:
    return 100.0 + n


def _spend(world: World, teams: int, until: date) -> None:
    """Every team spends its level every day (flat: no anomaly), one row per team and day."""
    days = [(START + timedelta(days=i)).isoformat() for i in range((until - START).days + 1)]
    world.fake.rows = pd.DataFrame(
        [
            {
                "date": day,
                "team": _team(n),
                "lifecycle_phase": "training",
                "service": "Amazon Elastic Compute Cloud - Compute",
                "record_type": "Usage",
                "cost": _level(n),
            }
            for n in range(teams)
            for day in days
        ]
    )


def _directory(teams: int) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for n in range(teams):
        share = SHARES[_expected(n)]
        entry: dict[str, object] = {"owners": [f"owner.{n}@example.com"], "channel": f"ml-alerts-{n % 30:02d}"}
        if share is not None:
            entry["monthly_usd"] = round(_level(n) * 31 * share, 2)
        out[_team(n)] = entry
    return out


@pytest.mark.parametrize("teams", [1_000])
def test_a_thousand_team_budget_and_digest_run_uses_the_delivered_directory(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, teams: int
) -> None:
    from costwarden.adapters import aws
    from costwarden.handlers.context import LocalContext
    from costwarden.handlers.cost_monitor import handler

    _spend(world, teams, date(2026, 3, 20))
    world.fake.install(aws.client("ce", "us-east-1"))
    settings = parse_settings({"teams": _directory(teams), "anomaly": {"second_group_key": None}})
    env = settings.to_env()
    assert len(env.encode()) < MAX_SETTINGS_ENV_BYTES  # what a deployed function's environment carries
    monkeypatch.setenv("COSTWARDEN_SETTINGS", env)
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(write_document(settings.teams_json(), tmp_path / "teams.json")))
    monkeypatch.setenv("ALERT_TOPIC_ARN", world.topic_arn)
    monkeypatch.setenv("STATE_TABLE_NAME", world.table_name)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "cost_monitor")
    event = json.loads((ROOT / "events" / "cost_monitor" / "scheduled.json").read_text())
    event["time"] = RUN_AT

    summary = handler(event, LocalContext(function_name="cost_monitor"))

    assert summary["teams"] == teams
    views = {view["team"]: view for view in summary["budgets"]}
    assert len(views) == teams * 3 // 4  # every team of the directory with a budget, none other
    statuses = Counter(views[_team(n)]["status"] if _team(n) in views else "NO_BUDGET" for n in range(teams))
    assert statuses == Counter(_expected(n) for n in range(teams))
    assert views[_team(417)]["budget_usd"] == settings.teams[_team(417)].monthly_usd
    assert views[_team(417)]["days_elapsed"] == 19 and views[_team(417)]["days_in_month"] == 31

    published = world.published(digests=True)
    budget_alerts = Counter(e.team for e in published if e.kind is AlertKind.BUDGET)
    assert budget_alerts == Counter({_team(n): 1 for n in range(teams) if n % 100 in (0, 1)})
    (digest,) = [e for e in published if e.kind is AlertKind.DIGEST]
    assert digest.details["teams_total"] == teams
    assert digest.details["budget_counts"] == {"OVER_BUDGET": 10, "AT_RISK": 10, "ON_TRACK": 730, "NO_BUDGET": 250}
