"""``costwarden detect`` on hostile input, through the real CLI entry point.

Every case here was a traceback, a MemoryError or a silent wrong number before: now it is either a correct answer
or exit code 2 with a message naming the row (CSV line) and column. FOCUS files are built from the real FOCUS 1.0
sample rows in tests/fixtures/cost, so every other column looks like a real export.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from costwarden.cli import main as cli_main
from costwarden.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cost"
START = pd.Timestamp("2024-08-05")  # a Monday


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main.main(["detect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def focus_rows() -> pd.DataFrame:
    """The real FOCUS 1.0 subset, every cell as the text the export holds."""
    return pd.read_csv(FIXTURES / "focus_1.0_subset.csv", dtype=str, keep_default_na=False)


def focus_series(days: int = 40, *, spike_day: int | None = None) -> pd.DataFrame:
    """One AWS usage row per day for the ``trey`` org (a real sample row, re-dated), 100 a day (spike: 400)."""
    template = focus_rows().iloc[[0]]
    rows = []
    for day in range(days):
        row = template.copy()
        row["ChargePeriodStart"] = (START + pd.Timedelta(days=day)).strftime("%Y-%m-%d 00:00:00")
        row["ChargePeriodEnd"] = (START + pd.Timedelta(days=day + 1)).strftime("%Y-%m-%d 00:00:00")
        cost = "400.0" if day == spike_day else "100.0"
        row["EffectiveCost"] = row["BilledCost"] = cost
        rows.append(row)
    return pd.concat(rows, ignore_index=True)


def findings(out: str) -> list[dict[str, object]]:
    parsed = json.loads(out)["results"]
    assert isinstance(parsed, list)
    return parsed


# ------------------------------------------------------------------------------------------------ currencies


def test_focus_file_mixing_currencies_is_refused_never_summed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = focus_series(spike_day=35)
    table.loc[30:, "BillingCurrency"] = "JPY"
    table.loc[30:, ["EffectiveCost", "BilledCost"]] = "15000.0"
    table.to_csv(tmp_path / "mixed.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "mixed.csv"), "--key", "org", "--format", "json")
    assert code == 2 and out == ""
    assert "BillingCurrency" in err and "USD (30 rows)" in err and "JPY (10 rows" in err
    assert "line 32" in err  # the first JPY row: data row 31, after the header
    assert "--currency" in err


def test_a_chosen_currency_is_analysed_alone_and_labelled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = focus_series(spike_day=35)
    jpy = focus_series()
    jpy["BillingCurrency"] = "JPY"
    jpy[["EffectiveCost", "BilledCost"]] = "15000.0"
    pd.concat([table, jpy]).to_csv(tmp_path / "mixed.csv", index=False)
    code, out, err = run(
        capsys, "--costs", str(tmp_path / "mixed.csv"), "--key", "org", "--format", "json", "--currency", "USD"
    )
    assert code == 0, err
    (finding,) = findings(out)
    assert finding["cost_usd"] == 400.0 and finding["currency"] == "USD"
    assert "left out 40 row(s) in JPY" in err


def test_single_non_usd_currency_is_analysed_in_it_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = focus_series(spike_day=35)
    table["BillingCurrency"] = "EUR"
    table.to_csv(tmp_path / "eur.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "eur.csv"), "--key", "org", "--format", "json")
    # The 50 USD impact floor cannot be converted offline: the user gives the floor in EUR.
    assert code == 2 and "EUR" in err and "--min-impact" in err
    code, out, err = run(
        capsys, "--costs", str(tmp_path / "eur.csv"), "--key", "org", "--format", "json", "--min-impact", "50"
    )
    assert code == 0, err
    (finding,) = findings(out)
    assert finding["currency"] == "EUR" and finding["cost_eur"] == 400.0 and finding["baseline_eur"] == 100.0
    assert not any(name.endswith("_usd") for name in finding)
    code, out, _ = run(capsys, "--costs", str(tmp_path / "eur.csv"), "--key", "org", "--min-impact", "50")
    assert code == 0 and "amounts in EUR" in out and "cost_eur" in out


def test_plain_csv_with_a_currency_column_is_held_to_the_same_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dates = pd.date_range("2026-01-05", periods=40).strftime("%Y-%m-%d")
    usd = pd.DataFrame({"date": dates, "team": "ml", "cost_usd": 1000.0, "currency": "USD"})
    eur = usd.assign(team="vision", currency="EUR")
    pd.concat([usd, eur]).to_csv(tmp_path / "c.csv", index=False)
    code, _, err = run(capsys, "--costs", str(tmp_path / "c.csv"))
    assert code == 2 and "column currency mixes currencies" in err and "EUR (40 rows, first at line 42)" in err


def test_a_missing_currency_value_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = focus_series()
    table.loc[4, "BillingCurrency"] = "NULL"
    table.to_csv(tmp_path / "f.csv", index=False)
    code, _, err = run(capsys, "--costs", str(tmp_path / "f.csv"), "--key", "org")
    assert code == 2 and "line 6" in err and "BillingCurrency" in err and "empty" in err


# ------------------------------------------------------------------------------------------ charge categories


def test_focus_credits_and_adjustments_do_not_hide_usage_then_fake_a_spike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = focus_series()
    credits = usage.iloc[:30].copy()  # a 90 % credit on every usage day for a month, then it runs out
    credits["ChargeCategory"] = ["Credit" if day % 2 else "Adjustment" for day in range(30)]
    credits[["EffectiveCost", "BilledCost"]] = "-90.0"
    pd.concat([usage, credits]).to_csv(tmp_path / "credits.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "credits.csv"), "--key", "org", "--format", "json")
    assert code == 0, err
    assert findings(out) == []
    # Kept on request (an empty list keeps every category), the credits make day 31 look like a 10x jump.
    code, out, _ = run(
        capsys,
        "--costs",
        str(tmp_path / "credits.csv"),
        "--key",
        "org",
        "--format",
        "json",
        "--exclude-charge-categories",
        "",
    )
    assert code == 0 and [f["date"] for f in findings(out)][:1] == ["2024-09-04"]


def test_excluded_charge_categories_come_from_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = focus_series()
    purchase = usage.iloc[[35]].copy()
    purchase["ChargeCategory"] = "Purchase"
    purchase[["EffectiveCost", "BilledCost"]] = "5000.0"
    pd.concat([usage, purchase]).to_csv(tmp_path / "p.csv", index=False)
    code, out, _ = run(capsys, "--costs", str(tmp_path / "p.csv"), "--key", "org", "--format", "json")
    assert code == 0 and findings(out) == []  # the default leaves purchases out
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"anomaly": {"excluded_charge_categories": ["Credit"]}}))
    load_settings.cache_clear()  # a CLI process reads its settings once; this test is two processes
    code, out, _ = run(capsys, "--costs", str(tmp_path / "p.csv"), "--key", "org", "--format", "json")
    assert code == 0 and [f["cost_usd"] for f in findings(out)] == [5100.0]


# -------------------------------------------------------------------------------------------- non-finite cost


@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "NaN", "1e400", "1e308", "-2e15"])
def test_non_finite_cost_is_an_error_naming_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    dates = pd.date_range("2026-01-05", periods=40).strftime("%Y-%m-%d")
    lines = ["date,team,cost_usd"] + [f"{d},ml,{bad if i == 37 else '100'}" for i, d in enumerate(dates)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json")
    assert code == 2 and out == ""
    assert "line 39" in err and "cost_usd" in err and ("finite" in err or "plausible" in err)


@pytest.mark.parametrize("bad", ["inf", "NaN", "lots", "NULL"])
def test_focus_cost_that_is_not_a_finite_number_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    table = focus_series()
    table.loc[12, "EffectiveCost"] = bad
    table.to_csv(tmp_path / "f.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "f.csv"), "--key", "org", "--format", "json")
    assert code == 2 and out == ""
    assert "line 14" in err and "EffectiveCost" in err


# ---------------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("bad", ["1500-01-01", "9999-12-31", "0001-01-01"])
def test_out_of_range_date_is_a_specific_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str) -> None:
    lines = ["date,team,cost_usd", "2026-01-05,ml,1", f"{bad},ml,2", "2026-01-06,ml,1"]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "--costs", str(tmp_path / "c.csv"))
    assert code == 2 and out == ""
    assert "line 3" in err and "column date" in err and bad in err and "range" in err


def test_out_of_range_date_in_parquet_names_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    dates = pa.array([dt.date(2026, 1, 5), dt.date(1200, 1, 1)], type=pa.date32())
    pq.write_table(pa.table({"date": dates, "team": ["a", "a"], "cost_usd": [1.0, 2.0]}), tmp_path / "c.parquet")
    code, _, err = run(capsys, "--costs", str(tmp_path / "c.parquet"))
    assert code == 2 and "row 2" in err and "column date" in err and "1200-01-01" in err


def sparse_centuries_file(path: Path) -> str:
    """2,000 lines, 500 years apart: ``ml`` for 500 days in 1700, ``vision`` for 500 days in 2200 (one spike), and
    1,000 teams with one row each in either century. A dense (series x day) axis would be 1,002 x 182,600 cells
    (and the windows 30 times that): it asked for gigabytes. Returns the spike's date."""
    old = pd.date_range("1700-01-04", periods=500)
    new = pd.date_range("2200-01-06", periods=500)
    costs = [100.0] * 1000
    costs[800] = 900.0
    lines = pd.DataFrame(
        {
            "date": [d.strftime("%Y-%m-%d") for d in [*old, *new]],
            "team": ["ml"] * 500 + ["vision"] * 500,
            "cost_usd": costs,
        }
    )
    singles = pd.DataFrame(
        {
            "date": [(old if i % 2 else new)[i % 500].strftime("%Y-%m-%d") for i in range(1000)],
            "team": [f"team-{i:04d}" for i in range(1000)],
            "cost_usd": 75.0,
        }
    )
    pd.concat([lines, singles]).to_csv(path, index=False)
    return new[300].strftime("%Y-%m-%d")


def test_dates_centuries_apart_cost_what_their_rows_cost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spike = sparse_centuries_file(tmp_path / "sparse.csv")
    tracemalloc.start()
    try:
        code, out, err = run(capsys, "--costs", str(tmp_path / "sparse.csv"), "--format", "json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, err
    assert [(f["date"], f["team"]) for f in findings(out)] == [(spike, "vision")]
    assert peak < 64 * 2**20


def test_focus_non_iso_charge_period_start_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = focus_series()
    table.loc[7, "ChargePeriodStart"] = "08/12/2024 00:00"
    table.to_csv(tmp_path / "f.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "f.csv"), "--key", "org")
    assert code == 2 and out == ""
    assert "line 9" in err and "ChargePeriodStart" in err and "08/12/2024 00:00" in err and "ISO 8601" in err


def test_focus_charge_period_start_with_an_offset_counts_on_its_utc_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = focus_series(spike_day=35)
    # 20:00 at UTC-05:00 on the day before is 01:00 UTC on the spike day: the same UTC day.
    table.loc[35, "ChargePeriodStart"] = (START + pd.Timedelta(days=34)).strftime("%Y-%m-%dT20:00:00-05:00")
    table.to_csv(tmp_path / "f.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "f.csv"), "--key", "org", "--format", "json")
    assert code == 0, err
    assert [f["date"] for f in findings(out)] == [(START + pd.Timedelta(days=35)).strftime("%Y-%m-%d")]


# ------------------------------------------------------------------------------------------------- encodings


def latin1_file(path: Path, rows: Sequence[tuple[str, str, float]]) -> None:
    lines = ["date,team,cost_usd"] + [f"{d},{team},{cost}" for d, team, cost in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def latin1_rows() -> list[tuple[str, str, float]]:
    dates = pd.date_range("2026-01-05", periods=40).strftime("%Y-%m-%d")
    return [(d, "ml" if i < 20 else "Müller", 900.0 if i == 38 else 100.0) for i, d in enumerate(dates)]


def test_latin1_file_is_an_error_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin1_file(tmp_path / "c.csv", latin1_rows())
    code, out, err = run(capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json")
    assert code == 2 and out == ""
    assert "UTF-8" in err and "line 22" in err and "column team" in err and "--encoding" in err
    assert "b'" not in err


def test_latin1_file_with_declared_encoding_is_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin1_file(tmp_path / "c.csv", latin1_rows())
    code, out, err = run(capsys, "--costs", str(tmp_path / "c.csv"), "--format", "json", "--encoding", "latin-1")
    assert code == 0, err
    assert [f["team"] for f in findings(out)] == ["Müller"]


def test_unknown_encoding_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin1_file(tmp_path / "c.csv", latin1_rows())
    code, _, err = run(capsys, "--costs", str(tmp_path / "c.csv"), "--encoding", "klingon-8")
    assert code == 2 and "klingon-8" in err


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--baseline-days", "100000", "--baseline-days"),
        ("--baseline-days", "3", "--baseline-days"),
        ("--warn-ratio", "0.5", "--warn-ratio"),
        ("--critical-ratio", "1.2", "critical_ratio"),
    ],
)
def test_rule_options_are_held_to_the_settings_bounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, named: str
) -> None:
    # A 100,000-day window would make every block's windows gigabytes; the settings allow 7..180 days.
    focus_series().to_csv(tmp_path / "f.csv", index=False)
    code, out, err = run(capsys, "--costs", str(tmp_path / "f.csv"), "--key", "org", option, value)
    assert code == 2 and out == "" and named in err


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_rule_options_must_be_finite(tmp_path: Path, value: str) -> None:
    focus_series().to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(SystemExit) as exit_:  # argparse's own usage error: exit code 2
        cli_main.main(["detect", "--costs", str(tmp_path / "f.csv"), "--min-impact-usd", value])
    assert exit_.value.code == 2
