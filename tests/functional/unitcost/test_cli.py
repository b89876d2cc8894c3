"""``costwarden unit-costs``: the envelope, the exit codes, hostile input named without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.cli.main import main
from moto import mock_aws

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "unitcost"
BEDROCK, SAGEMAKER, USAGE = FIXTURES / "bedrock_cur2.csv", FIXTURES / "sagemaker_cur2.csv", FIXTURES / "usage.csv"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["unit-costs", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_json_envelope_has_one_result_per_model_and_unit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--cur", str(SAGEMAKER), "--usage", str(USAGE), "--format", "json")
    body = json.loads(out)
    assert code == 0 and body["command"] == "unit-costs" and body["complete"] is True
    rows = {(r["model"], r["unit"]): r for r in body["results"]}
    assert set(rows) == {("fraud-v3", "1k_inferences"), ("orphan", "1k_inferences"), ("fraud-v3", "training_run")}
    inference = rows[("fraud-v3", "1k_inferences")]
    assert (inference["team"], inference["quantity"], inference["cost_usd"]) == ("fraud", 144_000, 101.52)
    assert inference["usd_per_unit"] == pytest.approx(101.52 / 144)
    orphan = rows[("orphan", "1k_inferences")]
    assert (orphan["team"], orphan["usd_per_unit"], orphan["note"]) == ("unowned", None, "no Invocations recorded")
    training = rows[("fraud-v3", "training_run")]
    assert (training["quantity"], training["cost_usd"], training["gpu_hours"]) == (2, 7.65, 2.0)
    assert body["totals"]["unowned_cost_usd"] == 2.76


def test_tokens_carry_their_parts_and_the_reconciliation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--cur", str(BEDROCK), "--month", "2026-11", "--format", "json")
    body = json.loads(out)
    assert code == 0
    assert body["totals"]["bedrock"] == {
        "bill_usd": 61.85, "tokens_usd": 61.1, "other_usd": 0.75, "gap_usd": 0.0, "reconciled": True
    }  # fmt: skip
    fraud = next(r for r in body["results"] if r["application"] == "fraudbot01")
    assert list(fraud["parts"]) == ["input", "output", "cache_read", "cache_write"]
    assert "gpu_hours" not in fraud
    code, out, _ = _run(capsys, "--cur", str(BEDROCK), "--month", "2026-10", "--format", "json")
    assert code == 0 and json.loads(out)["results"] == []


def test_a_token_line_of_an_unknown_kind_is_a_gap_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = BEDROCK.read_text().splitlines()
    unknown = [line.replace("NovaPro-output-tokens", "NovaPro-reasoning-tokens") for line in lines]
    (tmp_path / "cur.csv").write_text("\n".join(unknown) + "\n")
    code, out, _ = _run(capsys, "--cur", str(tmp_path / "cur.csv"))
    assert code == 1
    assert "Bedrock: bill 61.85 USD = tokens 54.70 + other 0.75 (GAP 6.40 USD)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "--cur FILE is needed"),
        (("--cur", "/nonexistent/cur.csv"), "/nonexistent/cur.csv: no such file"),
        (("--cur", str(BEDROCK), "--usage", "/nonexistent/usage.csv"), "no such file"),
        (("--cur", str(USAGE)), "missing column(s) line_item_usage_start_date"),
    ],
)
def test_bad_input_exits_2_naming_it(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in out + err


def test_a_hostile_row_names_its_row_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "usage.csv"
    bad.write_text("date,model,metric,value\n2026-11-01,fraud-v3,Invocations,lots\n")
    code, _, err = _run(capsys, "--cur", str(SAGEMAKER), "--usage", str(bad))
    assert code == 2 and "row 2, column value: not a finite number >= 0: 'lots'" in err
    with pytest.raises(SystemExit) as stopped:
        main(["unit-costs", "--cur", str(BEDROCK), "--month", "2026-13"])
    assert stopped.value.code == 2 and "not a month YYYY-MM" in capsys.readouterr().err


def test_without_usage_the_denominators_are_read_from_cloudwatch(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        code, out, err = _run(capsys, "--cur", str(SAGEMAKER), "--format", "json")
    body = json.loads(out)
    assert code == 0 and body["complete"] is True
    assert "metric requests: ListMetrics 1" in err
    inference = next(r for r in body["results"] if r["model"] == "fraud-v3" and r["unit"] == "1k_inferences")
    # Weeks later, ListMetrics no longer covers November: its days are unknown, so there is no unit cost.
    assert (inference["usd_per_unit"], inference["note"]) == (None, "Invocations not read on 3 of 3 days")
