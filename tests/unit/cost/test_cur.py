"""Daily per-team costs derived from real CUR line items (fixtures: small subsets of the Well-Architected CUR)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from costwarden.cost.cur import amortized_cost, daily_by_team, main
from costwarden.cost.frame import UNTAGGED

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cost"
ROOT = Path(__file__).resolve().parents[3]
#: CI's clean clone has ../shared beside the repository; a worktree may sit one level deeper.
SHARED = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
            if (p / "data" / "aws-cur-wa-labs").exists()
        ),
        ROOT.parent / "shared",
    )
    / "data"
    / "aws-cur-wa-labs"
)


def _samples() -> list[pd.DataFrame]:
    return [pd.read_parquet(path) for path in sorted(FIXTURES.glob("cur_*2018_sample.parquet"))]


def test_amortized_cost_rules() -> None:
    table = pd.DataFrame(
        {
            "line_item_line_item_type": ["Usage", "DiscountedUsage", "RIFee", "Fee"],
            "line_item_unblended_cost": [2.0, 0.0, 700.0, 9000.0],
            "reservation_effective_cost": [0.0, 0.4, 0.0, 0.0],
            "reservation_unused_amortized_upfront_fee_for_billing_period": [0.0, 0.0, 5.0, 0.0],
            "reservation_unused_recurring_fee": [0.0, 0.0, 1.5, 0.0],
        }
    )
    assert amortized_cost(table).tolist() == [2.0, 0.4, 6.5, 0.0]


def test_amortized_view_removes_the_first_of_month_reservation_fees() -> None:
    tables = _samples()
    amortized = daily_by_team(tables).groupby("date")["cost_usd"].sum()
    unblended = daily_by_team(tables, cost="unblended").groupby("date")["cost_usd"].sum()
    firsts = [d for d in unblended.index if d.endswith("-01")]
    assert firsts
    # RIFee rows are all dated the 1st: unblended jumps there, amortised does not carry the fee.
    assert all(unblended[d] > amortized[d] + 50 for d in firsts)


def test_untagged_kept_and_month_column_drift_tolerated(tmp_path: Path) -> None:
    tables = _samples()
    tables[2] = tables[2].drop(columns=["reservation_unused_recurring_fee"])  # December lacks columns in real CURs
    daily = daily_by_team(tables)
    assert UNTAGGED in set(daily["team"])
    assert {"CentralIT", "Sales"} <= set(daily["team"])
    assert list(daily.columns) == ["date", "team", "cost_usd"]
    out = tmp_path / "daily.csv"
    assert main([str(out), *map(str, sorted(FIXTURES.glob("cur_*2018_sample.parquet")))]) == 0
    assert pd.read_csv(out)["date"].str.match(r"\d{4}-\d{2}-\d{2}$").all()


@pytest.mark.skipif(not SHARED.exists(), reason=f"real CUR not present at {SHARED} (only on the shared workspace)")
def test_full_real_cur_matches_committed_fixture(tmp_path: Path) -> None:
    out = tmp_path / "daily.csv"
    main([str(out), *map(str, sorted(SHARED.glob("*.parquet")))])
    derived = pd.read_csv(out)
    committed = pd.read_csv(FIXTURES / "cur_daily_by_department.csv")
    pd.testing.assert_frame_equal(derived, committed)
    assert derived["date"].nunique() == 92


def test_cur_billed_in_two_currencies_keeps_them_apart_and_detect_refuses_the_mix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from costwarden.cli import main as cli_main

    tables = _samples()
    tables[1] = tables[1].assign(line_item_currency_code="EUR")  # November billed in EUR
    daily = daily_by_team(tables)
    assert list(daily.columns) == ["date", "team", "cost_usd", "currency"]
    assert set(daily["currency"]) == {"USD", "EUR"}
    assert daily.loc[daily["currency"] == "EUR", "date"].str.startswith("2018-11").all()
    daily.to_csv(tmp_path / "daily.csv", index=False)
    assert cli_main.main(["detect", "--costs", str(tmp_path / "daily.csv")]) == 2
    assert "column currency mixes currencies" in capsys.readouterr().err


def test_cur_non_finite_cost_or_bad_date_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = _samples()[0]
    table.loc[table.index[3], "line_item_unblended_cost"] = float("inf")
    table.to_parquet(tmp_path / "inf.parquet")
    assert main([str(tmp_path / "out.csv"), str(tmp_path / "inf.parquet")]) == 2
    err = capsys.readouterr().err
    assert "row 4, column line_item_unblended_cost: 'inf' is not a finite amount" in err
    table = _samples()[0]
    table["line_item_usage_start_date"] = table["line_item_usage_start_date"].astype(str)
    table.loc[table.index[5], "line_item_usage_start_date"] = "31/10/2018"
    table.to_parquet(tmp_path / "date.parquet")
    assert main([str(tmp_path / "out.csv"), str(tmp_path / "date.parquet")]) == 2
    assert "row 6, column line_item_usage_start_date: '31/10/2018' is not an ISO 8601" in capsys.readouterr().err
    assert main([str(tmp_path / "out.csv"), str(tmp_path / "missing.parquet")]) == 2
    assert "cannot read" in capsys.readouterr().err
