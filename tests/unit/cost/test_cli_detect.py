"""``costwarden detect``: the DESIGN.md contract, on synthetic data, the FOCUS sample and the real-CUR CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from costwarden.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[3]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cost"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main.main(["detect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write_costs(path: Path) -> None:
    dates = pd.date_range("2026-01-05", periods=40)
    rows = [(d.date().isoformat(), "ml", 2400.0 if i == 38 else 1000.0 + (i % 3)) for i, d in enumerate(dates)]
    rows += [(d.date().isoformat(), "tiny", 30.0 if i == 38 else 3.0) for i, d in enumerate(dates)]
    pd.DataFrame(rows, columns=["date", "team", "cost_usd"]).to_csv(path, index=False)


def test_json_is_one_array_with_the_contract_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_costs(tmp_path / "c.csv")
    code, out, _ = run(capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json")
    assert code == 0
    findings = json.loads(out)["results"]
    assert isinstance(findings, list) and len(findings) == 1
    assert {"date", "team", "cost_usd", "baseline_usd", "ratio", "severity", "zscore", "impact_usd"} <= set(findings[0])
    assert findings[0]["date"] == "2026-02-12" and findings[0]["severity"] == "critical"


def test_options_change_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_costs(tmp_path / "c.csv")
    _, out, _ = run(capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json", "--min-impact-usd", "5")
    assert {f["team"] for f in json.loads(out)["results"]} == {"ml", "tiny"}
    _, out, _ = run(capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json", "--critical-ratio", "3")
    assert json.loads(out)["results"][0]["severity"] == "warning"
    _, out, _ = run(
        capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json", "--warn-ratio", "2.5", "--critical-ratio", "3"
    )
    assert json.loads(out)["results"] == []


def test_parquet_and_table_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_costs(tmp_path / "c.csv")
    pd.read_csv(tmp_path / "c.csv").to_parquet(tmp_path / "c.parquet")
    code, out, _ = run(capsys, "--costs", str(tmp_path / "c.parquet"), "--format", "table")
    assert code == 0 and "2026-02-12" in out and "critical" in out


def test_missing_column_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pd.DataFrame({"day": ["2026-01-01"], "team": ["a"], "usd": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "bad.csv"))
    assert code == 2 and out == ""
    assert "date" in err and "cost_usd" in err and "day, team, usd" in err


def test_focus_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--costs", str(FIXTURES / "focus_1.0_subset.csv"), "--key", "org", "--format", "json")
    assert code == 0 and json.loads(out)["results"] == []  # one sampled month: too little history for a finding


def test_real_cur_derived_csv(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "cur_daily_by_department.csv"
    _, out, _ = run(capsys, "--costs", str(path), "--format", "json", "--min-impact-usd", "5")
    findings = json.loads(out)["results"]
    # The untagged spend steps up on 2018-10-10 (an episode), and amortised cost keeps the 1st of November quiet.
    assert findings[0]["date"] == "2018-10-10" and findings[0]["team"] == "unowned"
    assert "2018-11-01" not in {f["date"] for f in findings}


def test_console_script_as_a_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    write_costs(tmp_path / "c.csv")
    exe = Path(sys.executable).with_name("costwarden")
    done = subprocess.run(
        [str(exe), "detect", "--costs", str(tmp_path / "c.csv"), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert [f["team"] for f in json.loads(done.stdout)["results"]] == ["ml"]
