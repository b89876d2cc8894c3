"""Settings: DESIGN.md's defaults, and a bad value fails with a message naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.settings import SETTINGS_ENV_VAR, Settings, SettingsError, load_settings, parse_settings
from costwarden.teams import TEAMS_FILE_ENV_VAR, write_document


def test_defaults_are_the_designs() -> None:
    settings = Settings()
    assert settings.anomaly.baseline_days == 30
    assert settings.anomaly.min_history_days == 7
    assert (settings.anomaly.warn_ratio, settings.anomaly.critical_ratio) == (1.5, 2.0)
    assert settings.anomaly.min_impact_usd == 50
    assert settings.anomaly.zscore == 3
    assert settings.reaper.dry_run is True
    assert settings.reaper.max_actions_per_run == 25
    assert settings.reaper.warn_before_hours == (72, 24)
    assert settings.reaper.allow_production is False
    assert settings.teams == {} and settings.monthly_budgets() == {}
    assert (settings.budgets.at_risk_ratio, settings.budgets.over_budget_ratio) == (0.9, 1.1)
    assert settings.tags.protect_key == "costwarden:protect"
    assert "cost_center" in settings.tags.required


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"anomaly": {"warn_ratio": "lots"}}, "costwarden.anomaly.warn_ratio"),
        ({"anomaly": {"warn_ratio": 2.5, "critical_ratio": 2.0}}, "critical_ratio"),
        ({"reaper": {"max_actions_per_run": 0}}, "costwarden.reaper.max_actions_per_run"),
        ({"reaper": {"dryrun": False}}, "costwarden.reaper.dryrun"),
        ({"budgets": {"monthly_usd": {"vision": -5}}}, "costwarden.budgets.monthly_usd"),
        ({"notifier": {"slack_secret_name": "https://hooks.example/x"}}, "costwarden.notifier.slack_secret_name"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        parse_settings(raw)


def test_env_round_trip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = parse_settings(
        {"reaper": {"dry_run": False, "regions": ["eu-west-1"]}, "budgets": {"monthly_usd": {"a": 10}}}
    )
    monkeypatch.setenv(SETTINGS_ENV_VAR, settings.to_env())
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(write_document(settings.teams_json(), tmp_path / "teams.json")))
    load_settings.cache_clear()
    assert load_settings() == settings
    assert "teams" not in json.loads(settings.to_env())
    assert json.loads(settings.to_env())["reaper"] == {"dry_run": False, "regions": ["eu-west-1"]}


def test_settings_too_large_for_lambda_env_fail_clearly() -> None:
    # Team data travels in its own document (tests/unit/test_teams.py); what stays in the variable is still capped.
    values = tuple(f"phase-{n:04d}-with-a-long-name" for n in range(200))
    with pytest.raises(SettingsError, match="4 KB"):
        parse_settings({"tags": {"allowed_values": {"lifecycle_phase": values}}})
