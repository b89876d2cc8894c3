"""The notifier routes by the team directory it loads from its document: 1,000 teams, 25 shared channels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from costwarden.handlers import notifier
from costwarden.models.alert import Severity
from costwarden.settings import SettingsError, parse_settings
from costwarden.teams import TEAMS_FILE_ENV_VAR, write_document

from tests.functional.notifier.support import PATHS, SECRET, NotifierWorld, make_event, sns_event

CHANNELS = 25


def _channel_path(n: int) -> str:
    return f"/services/T000/BCHAN{n:02d}/s3cr3tChannel{n:02d}Token"


@pytest.fixture
def directory(world: NotifierWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Deploy a 1,000-team directory (one channel missing from the secret) and a secret with one URL per channel."""
    teams = {
        f"team-{n:04d}": {"monthly_usd": 1_000 + n, "owners": [f"S{n:08d}"], "channel": f"ml-alerts-{n % CHANNELS:02d}"}
        for n in range(1_000)
    }
    teams["team-0999"]["channel"] = "ml-not-in-secret"
    settings = parse_settings({"teams": teams})
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(write_document(settings.teams_json(), tmp_path / "teams.json")))
    secret = {**world.secret, "channels": {f"ml-alerts-{n:02d}": world.slack.url(_channel_path(n)) for n in range(25)}}
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=SECRET, SecretString=json.dumps(secret)
    )
    notifier.reset_caches()
    return teams


def _alert(team: str, severity: Severity = Severity.WARNING) -> dict[str, Any]:
    return sns_event(make_event(team=team, severity=severity, dedup_key=f"cost_anomaly#{team}#2026-11-25"))


def test_a_team_is_posted_to_its_directory_channel(world: NotifierWorld, directory: dict[str, Any]) -> None:
    result = world.invoke(_alert("team-0427"))  # 427 % 25 == 2

    assert [r.path for r in world.slack.accepted()] == [_channel_path(2)]
    assert result["results"][0]["posted"] == ["channel:ml-alerts-02"]


def test_teams_sharing_a_channel_and_critical_to_oncall(world: NotifierWorld, directory: dict[str, Any]) -> None:
    world.invoke(_alert("team-0003"))
    world.invoke(_alert("team-0028", Severity.CRITICAL))

    assert [r.path for r in world.slack.accepted()] == [_channel_path(3), _channel_path(3), PATHS["oncall"]]


def test_teams_outside_the_directory_keep_the_secrets_own_routes(
    world: NotifierWorld, directory: dict[str, Any]
) -> None:
    world.invoke(_alert("vision"))  # the older shape: the secret's teams.vision
    world.invoke(_alert("speech"))

    assert [r.path for r in world.slack.accepted()] == [PATHS["team:vision"], PATHS["default"]]


def test_a_channel_missing_from_the_secret_still_delivers_and_says_so(
    world: NotifierWorld,
    directory: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = world.invoke(_alert("team-0999"))

    assert [r.path for r in world.slack.accepted()] == [PATHS["default"]]
    assert result["results"][0]["posted"] == ["default"]
    (warning,) = [r for r in caplog.records if "routing fallback" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert "'ml-not-in-secret' of team 'team-0999'" in warning.getMessage()
    out = capsys.readouterr().out
    assert "s3cr3t" not in out + caplog.text
    assert '"RoutingFallbacks"' in out  # the EMF metric line


def test_an_unreadable_directory_fails_loudly_and_posts_nothing(
    world: NotifierWorld, directory: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1, "teams": {"team-0001": {"monthly_usd": -1}}}')
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(broken))

    with pytest.raises(SettingsError, match=r"broken\.json\.teams\.team-0001\.monthly_usd"):
        world.invoke(_alert("team-0001"))
    assert world.slack.accepted() == []
