"""``costwarden bedrock`` on files: a hostile token CSV is named by line and column, then the estimate per team."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from costwarden.bedrock.offline import estimate, read_usage
from costwarden.bedrock.prices import prices_from_file
from costwarden.cli.main import main
from costwarden.settings import Settings

from tests.support.bedrock import SONNET, profile_arn, settings_doc

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bedrock"
HEADER = "profile,team,model,kind,tokens\n"
NLP = profile_arn("nlp-chat")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profile,team,kind\n", r"^line 1: missing column\(s\) model, tokens"),
        ("", r"^line 1: missing column\(s\) profile, team, model, kind, tokens"),
        (HEADER + f"{NLP},nlp,{SONNET},thinking,1\n", r"^line 2, column kind: kind 'thinking' is not a token kind"),
        (HEADER + f"{NLP},nlp,{SONNET},input,many\n", r"^line 2, column tokens: 'many' is not a number"),
        (HEADER + f"{NLP},nlp,{SONNET},input,-5\n", r"^line 2, column tokens: '-5' is not a count"),
        (HEADER + f"{NLP},nlp,{SONNET},input,inf\n", r"^line 2, column tokens: 'inf' is not a count"),
        (HEADER + f",nlp,{SONNET},input,5\n", r"^line 2, column profile: empty"),
        (
            HEADER + f"{NLP},nlp,{SONNET},input,5\n{NLP},vision,{SONNET},output,5\n",
            r"^line 3: .* another team or model",
        ),
    ],
)
def test_a_hostile_token_file_is_named_by_line_and_column(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_usage(text, region="us-east-1")


def test_the_fixture_day_per_team_by_kind_against_the_daily_budget() -> None:
    settings = Settings.model_validate(settings_doc())
    prices = prices_from_file({SONNET: {"input": 3, "output": 15, "cache_read": 0.3}}, region="us-east-1")
    results = estimate(settings, (FIXTURES / "tokens.csv").read_text(), prices, day=date(2026, 12, 7), region="x")
    nlp, vision = results
    assert nlp["parts_usd"] == {"input": 30.0, "output": 75.0, "cache_read": 6.0}
    assert (nlp["spend_usd"], nlp["daily_budget_usd"], nlp["severity"]) == (111.0, 100.0, "warning")
    assert vision["unpriced"] == ["amazon.nova-pro-v1:0: not in the prices file"] and vision["spend_usd"] == 0


def test_the_cli_names_a_bad_file_and_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"m": {"input": 1}}')
    code = main(["bedrock", "--metrics", str(FIXTURES / "tokens.csv"), "--prices", str(prices)])
    err = capsys.readouterr().err
    assert code == 2 and "costwarden bedrock: error: prices['m']: input and output prices are required" in err
    code = main(["bedrock", "--metrics", str(tmp_path / "missing.csv"), "--prices", str(FIXTURES / "prices.json")])
    assert code == 2 and "--metrics" in capsys.readouterr().err
