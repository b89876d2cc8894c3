"""Settings errors name the key and stay useful, but never print a value that may be a secret (issue 9)."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.settings import SETTINGS_ENV_VAR, SettingsError, load_settings, parse_settings

TOKEN = "s3cr3tPastedToken"
HOOK = f"https://hooks.slack.com/services/T0/B0/{TOKEN}"


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"notifier": {"slack_secret_name": HOOK}}, "costwarden.notifier.slack_secret_name"),
        ({"notifier": {HOOK: "x"}}, "costwarden.notifier[key 0]"),
        ({"budgets": {"monthly_usd": {"vision": 10, HOOK: "lots"}}}, "costwarden.budgets.monthly_usd[key 1]"),
        ({"stack_tags": {"team": ["platform", HOOK]}}, "costwarden.stack_tags.team"),
        ({HOOK: 1}, "costwarden[key 0]"),
        ({"reaper": {"regions": ["eu-west-1", {"url": HOOK}]}}, "costwarden.reaper.regions[1]"),
        (
            {"notifier": {"operator_email": f"hooks.slack.com/services/T0/B0/{TOKEN}"}},
            "costwarden.notifier.operator_email",
        ),
    ],
)
def test_a_webhook_pasted_anywhere_is_never_echoed(raw: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw)
    message = str(caught.value)
    assert named in message
    assert TOKEN not in message


def test_ordinary_values_are_still_shown() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"anomaly": {"warn_ratio": "lots"}, "schedules": {"tag_audit_weekday": "Monday"}})
    message = str(caught.value)
    assert "costwarden.anomaly.warn_ratio" in message and "'lots'" in message
    assert "costwarden.schedules.tag_audit_weekday" in message and "'Monday'" in message


def test_ordinary_keys_are_still_named() -> None:
    with pytest.raises(SettingsError, match=r"costwarden\.reaper\.dryrun"):
        parse_settings({"reaper": {"dryrun": False}})
    with pytest.raises(SettingsError, match=r"costwarden\.budgets\.monthly_usd") as caught:
        parse_settings({"budgets": {"monthly_usd": {"vision": -5}}})
    assert "vision" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f'{{"notifier": "{HOOK}', r"not valid JSON \(line 1, column"),
        (f'["{HOOK}"]', "must be a JSON object, got list"),
    ],
)
def test_a_broken_settings_variable_is_a_settings_error_that_echoes_nothing(
    value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTINGS_ENV_VAR, value)
    load_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=message) as caught:
            load_settings()
    finally:
        load_settings.cache_clear()
    assert TOKEN not in str(caught.value)
    assert caught.value.__context__ is None
