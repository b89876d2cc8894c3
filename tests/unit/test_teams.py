"""The team directory: per-team data for 1,000 teams, validated naming team and key, delivered as a document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from costwarden.settings import (
    MAX_ERRORS_SHOWN,
    MAX_SETTINGS_ENV_BYTES,
    SETTINGS_ENV_VAR,
    BudgetSettings,
    Settings,
    SettingsError,
    TeamSettings,
    load_settings,
    parse_settings,
)
from costwarden.teams import SCHEMA_VERSION, TEAMS_FILE_ENV_VAR, TeamDocumentError, decode, encode, write_document


def directory(count: int = 1_000) -> dict[str, dict[str, Any]]:
    """``count`` teams with long names, a budget, two owners and one of 40 shared channels each."""
    return {
        f"ml-team-{n:04d}-with-a-rather-long-name": {
            "monthly_usd": 1_000.0 + n,
            "owners": [f"lead-{n}@example.com", f"S{n:08d}"],
            "channel": f"ml-alerts-{n % 40:02d}",
        }
        for n in range(count)
    }


def test_a_thousand_teams_validate_and_leave_the_environment_small() -> None:
    settings = parse_settings({"teams": directory(), "reaper": {"dry_run": False}})
    assert len(settings.teams) == 1_000
    assert len(settings.monthly_budgets()) == 1_000
    env = settings.to_env()
    assert len(env.encode()) < MAX_SETTINGS_ENV_BYTES
    assert json.loads(env) == {"reaper": {"dry_run": False}}
    assert settings.teams["ml-team-0041-with-a-rather-long-name"] == TeamSettings(
        monthly_usd=1_041.0, owners=("lead-41@example.com", "S00000041"), channel="ml-alerts-01"
    )


def test_teams_without_a_budget_are_listed_but_not_budgeted() -> None:
    settings = parse_settings({"teams": {"vision": {"channel": "ml-cv"}, "nlp": {"monthly_usd": 500}}})
    assert settings.monthly_budgets() == {"nlp": 500.0}
    assert settings.teams["vision"].monthly_usd is None


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"monthly_usd": -5}, r"costwarden\.teams\.vision\.monthly_usd: Input should be greater than 0"),
        ({"monthly_usd": "lots"}, r"costwarden\.teams\.vision\.monthly_usd"),
        ({"owners": ["bob"]}, r"costwarden\.teams\.vision\.owners\[0\]: .*e-mail address, a Slack user id"),
        ({"owners": "bob@example.com"}, r"costwarden\.teams\.vision\.owners"),
        ({"channel": "#ML Vision"}, r"costwarden\.teams\.vision\.channel: .*a-z, 0-9"),
        ({"chanel": "ml-cv"}, r"costwarden\.teams\.vision\.chanel: Extra inputs are not permitted"),
        ("12000", r"costwarden\.teams\.vision: "),
    ],
)
def test_a_bad_team_entry_names_the_team_and_the_key(entry: Any, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        parse_settings({"teams": {"nlp": {"monthly_usd": 10}, "vision": entry}})


@pytest.mark.parametrize("name", ["", " vision", "vision\n", "a\x00b", "x" * 257])
def test_team_names_are_tag_values(name: str) -> None:
    with pytest.raises(SettingsError, match=r"costwarden\.teams(\.|\[key 0\])"):
        parse_settings({"teams": {name: {}}})


def test_owners_accept_mail_and_slack_ids_and_drop_repeats() -> None:
    owners = ["ana@example.com", "U024BE7LH", "W012A3CDE", "S0614TZR7", "ana@example.com"]
    entry = parse_settings({"teams": {"vision": {"owners": owners}}}).teams["vision"]
    assert entry.owners == ("ana@example.com", "U024BE7LH", "W012A3CDE", "S0614TZR7")


def test_a_thousand_bad_entries_give_a_bounded_error() -> None:
    bad = {name: {**entry, "monthly_usd": -1} for name, entry in directory().items()}
    with pytest.raises(SettingsError) as caught:
        parse_settings({"teams": bad})
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 + MAX_ERRORS_SHOWN + 1
    assert lines[-1] == f"  ... and {1_000 - MAX_ERRORS_SHOWN} more"


def test_legacy_budgets_move_into_the_directory() -> None:
    settings = parse_settings(
        {"budgets": {"monthly_usd": {"vision": 9_000, "nlp": 100}}, "teams": {"vision": {"channel": "ml-cv"}}}
    )
    assert settings.teams["vision"] == TeamSettings(monthly_usd=9_000, channel="ml-cv")
    assert settings.monthly_budgets() == {"vision": 9_000.0, "nlp": 100.0}
    assert settings.budgets.legacy_monthly_usd == {}  # one place to read: the directory
    assert "monthly_usd" not in settings.to_env()
    assert settings.teams_json()["nlp"] == {"monthly_usd": 100.0}


def test_legacy_budgets_move_the_same_way_when_settings_are_built_in_code() -> None:
    settings = Settings(budgets=BudgetSettings.model_validate({"monthly_usd": {"vision": 9_000}}))
    assert settings.monthly_budgets() == {"vision": 9_000.0}
    assert settings.budgets.legacy_monthly_usd == {}


def test_a_budget_in_both_places_is_refused_naming_the_new_place() -> None:
    with pytest.raises(SettingsError, match=r"both give a budget for 1 team\(s\), first 'vision': keep teams"):
        parse_settings({"budgets": {"monthly_usd": {"vision": 9_000}}, "teams": {"vision": {"monthly_usd": 8_000}}})


# --- the delivered document -----------------------------------------------------------------------------------------


def _deploy(monkeypatch: pytest.MonkeyPatch, path: Path, raw: dict[str, Any]) -> Path:
    """Set the environment a deployed function has: settings without teams, the document beside them."""
    settings = parse_settings(raw)
    monkeypatch.setenv(SETTINGS_ENV_VAR, settings.to_env())
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(write_document(settings.teams_json(), path)))
    return path


def test_functions_load_the_directory_from_the_document_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _deploy(monkeypatch, tmp_path / "teams.json", {"teams": directory(), "anomaly": {"warn_ratio": 1.7}})
    assert path.stat().st_mode & 0o044 == 0o044  # readable by Lambda's runtime user
    first = load_settings()
    assert len(first.teams) == 1_000 and first.anomaly.warn_ratio == 1.7
    path.unlink()  # cached per container: the second read does not touch the file
    assert load_settings() is first


def test_the_document_is_stable_and_versioned() -> None:
    teams = parse_settings({"teams": directory(3)}).teams_json()
    assert encode(teams) == encode(dict(reversed(list(teams.items()))))
    assert json.loads(encode(teams))["schema_version"] == SCHEMA_VERSION
    assert decode(encode(teams), "x") == teams


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON: .* line 1 column 2"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "expected a JSON object"),
        (b'{"schema_version": 2, "teams": {}}', "schema_version 2 is not 1"),
        (b'{"teams": {}}', "schema_version None is not 1"),
        (b'{"schema_version": 1, "teams": [], "extra": 1}', r"unknown keys \['extra'\]"),
        (b'{"schema_version": 1, "teams": []}', "teams must be an object"),
        (b"[" * 100_000, "nested too deeply|not JSON"),
    ],
)
def test_a_broken_document_fails_naming_the_file(content: bytes, message: str, tmp_path: Path) -> None:
    with pytest.raises(TeamDocumentError, match=f"^{tmp_path}/teams.json: .*(?:{message})"):
        decode(content, str(tmp_path / "teams.json"))


def test_a_bad_entry_in_the_document_names_file_team_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "teams.json"
    path.write_text(json.dumps({"schema_version": 1, "teams": {"vision": {"monthly_usd": 0}}}))
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(path))
    with pytest.raises(SettingsError, match=rf"{path}\.teams\.vision\.monthly_usd: Input should be greater than 0"):
        load_settings()


def test_a_missing_document_is_a_settings_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, str(tmp_path / "gone.json"))
    with pytest.raises(SettingsError, match=f"gone.json: cannot read the team directory.*{TEAMS_FILE_ENV_VAR}"):
        load_settings()


@pytest.mark.parametrize("inline", [{"teams": {"a": {}}}, {"budgets": {"monthly_usd": {"a": 1}}}])
def test_team_data_in_both_the_variable_and_the_document_is_refused(
    inline: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _deploy(monkeypatch, tmp_path / "teams.json", {"teams": {"b": {}}})
    monkeypatch.setenv(SETTINGS_ENV_VAR, json.dumps(inline))
    with pytest.raises(SettingsError, match="team data is given twice"):
        load_settings()


@pytest.mark.parametrize(("raw", "message"), [("{oops", "is not valid JSON"), ("[1]", "must be a JSON object")])
def test_a_broken_settings_variable_is_a_settings_error(
    raw: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTINGS_ENV_VAR, raw)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_without_a_document_the_variable_may_still_carry_teams(monkeypatch: pytest.MonkeyPatch) -> None:
    """A laptop (CLI, tests) has no layer: small directories may stay inline."""
    monkeypatch.setenv(SETTINGS_ENV_VAR, json.dumps({"teams": {"vision": {"monthly_usd": 5}}}))
    assert load_settings().monthly_budgets() == {"vision": 5.0}


def test_the_cli_names_a_broken_directory_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deployed function's environment copied to a laptop names /opt/...: a plain error, never a traceback."""
    from costwarden.cli.main import main

    monkeypatch.setenv(TEAMS_FILE_ENV_VAR, "/opt/costwarden/teams.json")
    template = Path(__file__).resolve().parents[1] / "fixtures" / "tags" / "training_stack.yaml"
    assert main(["tags", "validate", str(template)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("costwarden tags: error: /opt/costwarden/teams.json: cannot read the team directory")
    assert "Traceback" not in err
