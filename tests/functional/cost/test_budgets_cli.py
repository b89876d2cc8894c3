"""``costwarden budgets`` and ``costwarden limits`` (issue 15): hostile input first (exit 2, one clear line), then
a month of Cost Explorer data grouped by team and environment, judged with the monitor's rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from costwarden.cli.budgets import parse_month
from costwarden.cli.main import CliError, main
from costwarden.settings import load_settings

from .conftest import World

SETTINGS = {
    "teams": {
        "nlp": {"monthly_usd": 20_000, "pools": {"production": 10_000, "experiment": 5_000}},
        "web": {"monthly_usd": 1_000},
    }
}


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """The CLI reads settings once per process (``load_settings`` is cached): never leave ours to later tests."""
    from costwarden.settings import load_settings

    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "expected YYYY-MM"),
        ("26-03", "expected YYYY-MM"),
        ("march", "expected YYYY-MM"),
        ("2026-03-01", "expected YYYY-MM"),
        ("1999-12", "expected YYYY-MM"),
        ("2099-01", "in the future"),
    ],
)
def test_a_bad_month_exits_2_with_a_clear_message(
    month: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COSTWARDEN_TEAMS_FILE", raising=False)  # the directory comes from the variable here
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(SETTINGS))
    load_settings.cache_clear()
    assert main(["budgets", "--month", month]) == 2
    err = capsys.readouterr().err
    assert err.startswith("costwarden budgets: error: --month") and message in err
    assert "Traceback" not in err


def test_the_current_month_is_judged_through_yesterday() -> None:
    assert parse_month(None, date(2026, 3, 12)) == (date(2026, 3, 1), date(2026, 3, 11))
    assert parse_month("2026-02", date(2026, 3, 12)) == (date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(CliError, match="no complete day yet"):
        parse_month(None, date(2026, 3, 1))


def test_budgets_json_shows_pools_team_budget_and_spend_in_no_pool(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from costwarden.adapters import aws

    world.fake.install(aws.client("ce", "us-east-1"))
    monkeypatch.delenv("COSTWARDEN_TEAMS_FILE", raising=False)  # the directory comes from the variable here
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(SETTINGS))
    load_settings.cache_clear()
    world.fake.add_series("nlp", date(2026, 3, 1), [100.0] * 31, environment="production")
    world.fake.add_series("nlp", date(2026, 3, 1), [200.0] * 31, environment="experiment")
    world.fake.add_series("nlp", date(2026, 3, 1), [10.0] * 31, environment=None)
    world.fake.add_series("web", date(2026, 3, 1), [40.0] * 31, environment="production")

    assert main(["budgets", "--month", "2026-03", "--format", "json"]) == 0
    out = {e["team"]: e for e in json.loads(capsys.readouterr().out)["results"]}
    nlp = out["nlp"]
    assert nlp["production"]["month_to_date_usd"] == 3_100.0 and nlp["production"]["status"] == "ON_TRACK"
    assert nlp["experiment"]["month_to_date_usd"] == 6_200.0 and nlp["experiment"]["status"] == "OVER_BUDGET"
    assert nlp["experiment"]["actual_share"] == 1.24
    assert nlp["unassigned"] == {"unowned": 310.0}
    assert nlp["team_budget"]["month_to_date_usd"] == 9_610.0 and nlp["team_budget"]["status"] == "ON_TRACK"
    assert out["web"]["team_budget"]["status"] == "OVER_BUDGET" and "production" not in out["web"]

    assert main(["budgets", "--month", "2026-03"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["TEAM", "SCOPE", "BUDGET", "MTD", "PROJECTED", "USED", "STATUS"]
    assert ["nlp", "experiment", "$5,000", "$6,200", "$6,200", "124%", "actual", "OVER_BUDGET"] in [
        line.split() for line in table
    ]
    assert ["nlp", "no", "pool", "-", "$310", "-", "-", "unowned=$310"] in [line.split() for line in table]
