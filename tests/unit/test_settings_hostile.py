"""Settings refuse what a person would not mean, naming the key: the hostile documents first."""

from __future__ import annotations

import json

import pytest
from costwarden.settings import SettingsError, decode_json, load_settings, parse_settings


def _error(raw: object) -> str:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw)  # type: ignore[arg-type]
    return str(caught.value)


def test_the_same_team_twice_is_an_error_not_the_last_one(monkeypatch: pytest.MonkeyPatch) -> None:
    text = '{"teams": {"nlp": {"monthly_usd": 5000, "channel": "ml-nlp"}, "nlp": {"monthly_usd": 10}}}'
    monkeypatch.setenv("COSTWARDEN_SETTINGS", text)
    load_settings.cache_clear()
    with pytest.raises(SettingsError, match="'nlp' is given twice"):
        load_settings()


def test_nesting_20000_deep_is_an_error_not_a_recursion_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSTWARDEN_SETTINGS", '{"teams": ' + "[" * 20_000 + "]" * 20_000 + "}")
    load_settings.cache_clear()
    with pytest.raises(SettingsError, match="nested too deeply"):
        load_settings()


def test_nesting_deeper_than_the_model_is_refused_from_python_too() -> None:
    deep: object = 1
    for _ in range(40):
        deep = {"x": deep}
    assert "nested too deeply" in _error({"teams": deep})


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_literals_are_refused(literal: str) -> None:
    with pytest.raises(SettingsError, match=f"{literal} is not a number"):
        decode_json(f'{{"anomaly": {{"warn_ratio": {literal}}}}}', "COSTWARDEN_SETTINGS")


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"anomaly": {"warn_ratio": float("inf")}}, "anomaly.warn_ratio"),
        ({"anomaly": {"critical_ratio": float("nan")}}, "anomaly.critical_ratio"),
        ({"teams": {"nlp": {"monthly_usd": float("inf")}}}, "teams.nlp.monthly_usd"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_key(raw: dict[str, object], where: str) -> None:
    message = _error(raw)
    assert where in message and "finite" in message


@pytest.mark.parametrize("key", ["", "   "])
def test_blank_keys_are_refused(key: str) -> None:
    assert "blank key" in _error({"budgets": {"monthly_usd": {key: 5}}})
    assert "blank key" in _error({"tags": {"allowed_values": {key: ["a"]}}})


@pytest.mark.parametrize("region", ["moon", "us-east", "US-EAST-1", " us-east-1", ""])
def test_nonsense_regions_are_refused(region: str) -> None:
    assert "reaper.regions[0]" in _error({"reaper": {"regions": [region]}})


def test_real_regions_pass() -> None:
    assert parse_settings({"reaper": {"regions": ["us-east-1", "eu-central-2", "us-gov-west-1"]}}).reaper.regions


def test_a_duplicate_key_is_named_only_when_it_is_a_plain_name() -> None:
    secret = "https://hooks.slack.com/services/T0/B0/abcdef"
    text = json.dumps({"x": 1}).replace("}", f', "{secret}": 1, "{secret}": 2}}')
    with pytest.raises(SettingsError) as caught:
        decode_json(text, "cdk.json")
    assert "hooks.slack.com" not in str(caught.value) and "given twice" in str(caught.value)
