"""Normalising Cost Explorer pages, cost tables and FOCUS exports into the long frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from costwarden.cost.frame import UNTAGGED, FrameError, ce_dates, from_ce_pages, from_table, load_costs
from costwarden.settings import AnomalySettings

CATEGORIES = AnomalySettings().excluded_charge_categories


def read_costs(path: Path, keys: list[str]) -> pd.DataFrame:
    return load_costs(path, keys, excluded_charge_categories=CATEGORIES).frame


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cost"


def _page(days: list[tuple[str, bool, list[tuple[list[str], str]]]], token: str | None = None) -> dict[str, object]:
    page: dict[str, object] = {
        "GroupDefinitions": [{"Type": "TAG", "Key": "team"}, {"Type": "TAG", "Key": "lifecycle_phase"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": start, "End": "x"},
                "Total": {},
                "Groups": [
                    {"Keys": keys, "Metrics": {"AmortizedCost": {"Amount": amount, "Unit": "USD"}}}
                    for keys, amount in groups
                ],
                "Estimated": estimated,
            }
            for start, estimated, groups in days
        ],
    }
    if token:
        page["NextPageToken"] = token
    return page


def test_ce_pages_untagged_strings_and_estimated() -> None:
    pages = [
        _page(
            [
                (
                    "2025-03-01",
                    False,
                    [(["team$ml", "lifecycle_phase$training"], "412.5"), (["team$", "lifecycle_phase$"], "88.12")],
                )
            ]
        ),
        _page([("2025-03-02", True, [(["team$ml", "lifecycle_phase$training"], "-3.25")]), ("2025-03-03", True, [])]),
    ]
    frame = from_ce_pages(pages, ["team", "lifecycle_phase"], "AmortizedCost")
    assert frame["team"].tolist() == ["ml", UNTAGGED, "ml"]
    assert frame["lifecycle_phase"].tolist() == ["training", UNTAGGED, "training"]
    assert frame["cost_usd"].tolist() == [412.5, 88.12, -3.25]
    assert frame["estimated"].tolist() == [False, False, True]
    assert ce_dates(pages) == {"2025-03-01": False, "2025-03-02": True, "2025-03-03": True}


def test_ce_pages_empty_answer_gives_empty_frame() -> None:
    frame = from_ce_pages([{"ResultsByTime": []}], ["team"], "AmortizedCost")
    assert frame.empty
    assert list(frame.columns) == ["date", "team", "cost_usd", "estimated"]


def test_ce_pages_wrong_group_count_is_an_error() -> None:
    with pytest.raises(FrameError, match="expected 1 group keys"):
        from_ce_pages([_page([("2025-03-01", False, [(["team$a", "x$y"], "1")])])], ["team"], "AmortizedCost")


def test_table_missing_column_names_it_and_the_columns_found() -> None:
    table = pd.DataFrame({"day": ["2025-01-01"], "team": ["a"], "cost": [1.0]})
    with pytest.raises(FrameError) as error:
        from_table(table, ["team"])
    assert "date" in str(error.value) and "cost_usd" in str(error.value)
    assert "day, team, cost" in str(error.value)


def test_table_blank_keys_become_untagged_and_bad_cost_is_rejected() -> None:
    table = pd.DataFrame({"date": ["2025-01-01", "2025-01-02"], "team": [" ml ", None], "cost_usd": [1.0, 2.0]})
    frame = from_table(table, ["team"]).frame
    assert frame["team"].tolist() == ["ml", UNTAGGED]
    with pytest.raises(FrameError, match=r"row 1, column cost_usd: .lots. is not a finite amount"):
        from_table(pd.DataFrame({"date": ["2025-01-01"], "team": ["a"], "cost_usd": ["lots"]}), ["team"])


def test_focus_file_tags_null_leading_space_keys_and_credit() -> None:
    raw = pd.read_csv(FIXTURES / "focus_1.0_subset.csv", keep_default_na=False, dtype=str)
    frame = read_costs(FIXTURES / "focus_1.0_subset.csv", ["org"])
    # Credit and Adjustment rows are left out like Cost Explorer's record-type filter: only usage is judged.
    assert len(frame) == (raw["ChargeCategory"] == "Usage").sum() < len(raw)
    assert (frame["cost_usd"] >= 0).all()
    # ' org' (leading space) and 'org' are the same key; NULL tags are untagged.
    assert set(frame["team" if "team" in frame else "org"]) == {"trey", UNTAGGED}
    assert frame["date"].dt.strftime("%Y-%m").unique().tolist() == ["2024-09"]


def test_focus_key_may_be_a_focus_column() -> None:
    frame = read_costs(FIXTURES / "focus_1.0_subset.csv", ["ProviderName"])
    assert "AWS" in set(frame["ProviderName"])


def test_parquet_table_and_missing_file(tmp_path: Path) -> None:
    table = pd.DataFrame({"date": pd.to_datetime(["2025-01-01"]), "team": ["a"], "cost_usd": [3.5]})
    table.to_parquet(tmp_path / "c.parquet")
    frame = read_costs(tmp_path / "c.parquet", ["team"])
    assert frame["cost_usd"].tolist() == [3.5]
    with pytest.raises(FrameError, match="no such file"):
        read_costs(tmp_path / "missing.csv", ["team"])


def test_estimated_column_text_is_parsed_not_truthy() -> None:
    table = pd.DataFrame(
        {"date": ["2025-01-01"] * 3, "team": ["a"] * 3, "cost_usd": [1.0] * 3, "estimated": ["false", "TRUE", None]}
    )
    assert from_table(table, ["team"]).frame["estimated"].tolist() == [False, True, False]
