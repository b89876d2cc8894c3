"""Unit costs from CUR 2.0 line items: tokens reconciled to the bill, inference per 1k, training per run."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from costwarden.unitcost import compute
from costwarden.unitcost import lines as cur
from costwarden.unitcost.lines import UnitCostError
from costwarden.unitcost.usage import read_usage

from tests.support.unitcost import days, hosting_days, invocations, normalised, raw_frame

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "unitcost" / "bedrock_cur2.csv"


@pytest.fixture(scope="module")
def bedrock_lines() -> pd.DataFrame:
    return cur.normalise(cur.read_file(FIXTURE), team_key="team", model_key="model_id")


def test_the_bedrock_fixture_reconciles_to_the_cent_with_every_token_kind(bedrock_lines: pd.DataFrame) -> None:
    results = compute.tokens(bedrock_lines, "month")
    check = compute.reconcile(results, bedrock_lines)
    # Every Bedrock line item but the credit and the tax: 2 days x (18.45 + 11.85) + 0.50 untagged + 0.75 guardrail.
    assert check.bill_usd == pytest.approx(61.85, abs=0.005)
    assert round(check.tokens_usd + check.other_usd, 2) == round(check.bill_usd, 2)
    assert check.other_usd == pytest.approx(0.75)
    assert check.ok and check.to_dict()["gap_usd"] == 0.0
    by_app = {r.application: r for r in results}
    fraud, search = by_app["fraudbot01"], by_app["searchapp02"]
    assert (fraud.team, fraud.model, search.team, search.model) == ("fraud", "claude-sonnet", "search", "nova-pro")
    assert fraud.cost_usd == pytest.approx(36.90) and fraud.quantity == 15_000_000
    assert fraud.usd_per_unit == pytest.approx(36.90 / 15)
    assert {k: p["usd_per_1m"] for k, p in fraud.parts.items()} == {
        "input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75
    }  # fmt: skip
    assert search.parts["cache_write"] == {"tokens": 500_000, "cost_usd": 0.5, "usd_per_1m": 1.0}
    assert search.usd_per_unit == pytest.approx(23.70 / 26.5)


def test_leaving_out_the_cache_lines_is_caught_by_the_reconciliation(bedrock_lines: pd.DataFrame) -> None:
    check = compute.reconcile(compute.tokens(bedrock_lines, "month", kinds=("input", "output")), bedrock_lines)
    assert not check.ok
    assert check.gap_usd == pytest.approx(2 * (1.20 + 3.75 + 0.40 + 0.25))


def test_untagged_token_cost_is_shown_on_its_own_row_never_spread(bedrock_lines: pd.DataFrame) -> None:
    results = compute.tokens(bedrock_lines, "month")
    unowned = [r for r in results if r.team == "unowned"]
    assert [(r.model, r.application, r.cost_usd) for r in unowned] == [("Claude3Haiku", "", 0.5)]
    assert "without an application inference profile" in unowned[0].note
    assert sum(r.cost_usd or 0 for r in results) == pytest.approx(61.10)


def test_daily_token_costs_split_by_day(bedrock_lines: pd.DataFrame) -> None:
    daily = [r for r in compute.tokens(bedrock_lines, "day") if r.application == "fraudbot01"]
    assert [(r.period, r.cost_usd) for r in daily] == [("2026-11-03", pytest.approx(18.45)), ("2026-11-04", 18.45)]
    assert daily[0].to_dict()["parts"]["output"]["tokens"] == 500_000


def test_cost_per_1k_inferences_and_no_division_by_zero() -> None:
    first = date(2026, 11, 1)
    lines = normalised(
        hosting_days("fraud-v3", "fraud", "fraud-v3", dict.fromkeys(days(first, 3), "ml.g5.xlarge"))
        + hosting_days("ocr-v1", "docs", "ocr-v1", dict.fromkeys(days(first, 3), "ml.g5.xlarge"))
    )
    usage = invocations("fraud-v3", dict.fromkeys(days(first, 3), 48_000)).pipe(
        lambda f: pd.concat([f, invocations("ocr-v1", dict.fromkeys(days(first, 3), 0))])
    )
    month = {r.model: r for r in compute.inference(lines, usage, "month")}
    assert month["fraud-v3"].cost_usd == pytest.approx(3 * 33.84)
    assert month["fraud-v3"].usd_per_unit == pytest.approx(3 * 33.84 / 144_000 * 1000)
    assert month["fraud-v3"].instance_types == ("ml.g5.xlarge",)
    assert month["ocr-v1"].usd_per_unit is None and month["ocr-v1"].note == "no Invocations recorded"
    unread = compute.inference(lines, usage[usage["model"] == "fraud-v3"], "month")
    assert {r.model: r.note for r in unread}["ocr-v1"] == "Invocations not read on 3 of 3 days"
    # Two days read of three: the third day's cost must not be charged to the others' requests.
    partial = {r.model: r for r in compute.inference(lines, usage.iloc[1:], "month")}["fraud-v3"]
    assert (partial.usd_per_unit, partial.note) == (None, "Invocations not read on 1 of 3 days")
    daily = {r.period: r for r in compute.inference(lines, usage.iloc[1:], "day") if r.model == "fraud-v3"}
    assert daily["2026-11-01"].note == "Invocations not read" and daily["2026-11-02"].usd_per_unit is not None


def test_a_custom_denominator_gives_its_own_unit() -> None:
    first = date(2026, 11, 1)
    lines = normalised(hosting_days("fraud-v3", "fraud", "fraud-v3", {first: "ml.g5.xlarge"}))
    usage = pd.DataFrame(
        [("2026-11-01", "fraud-v3", "Invocations", 1000.0), ("2026-11-01", "fraud-v3", "1k_transactions", 200.0)],
        columns=["date", "model", "metric", "value"],
    )
    rows = {r.unit: r for r in compute.inference(lines, usage, "day", {"fraud-v3": "1k_transactions"})}
    assert rows["1k_inferences"].usd_per_unit == pytest.approx(33.84)
    assert rows["1k_transactions"].usd_per_unit == pytest.approx(33.84 / 200 * 1000)


def _job(name: str, seconds: int, instance: str = "ml.p3.2xlarge", count: int = 1) -> dict[str, object]:
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "TrainingStartTime": pd.Timestamp("2026-11-02T10:00:00Z").to_pydatetime(),
        "BillableTimeInSeconds": seconds,
        "ResourceConfig": {"InstanceType": instance, "InstanceCount": count},
        "Tags": [{"Key": "team", "Value": "fraud"}, {"Key": "model_id", "Value": "fraud-v3"}],
    }


def test_a_training_runs_cost_is_billable_seconds_times_the_price() -> None:
    runs = compute.training_runs(
        [_job("a", 5400), _job("b", 1800, "ml.p3.8xlarge", 2), {"TrainingJobName": "running"}],
        team_key="team",
        model_key="model_id",
    )
    assert [r.name for r in runs] == ["a", "b"]
    prices = {"ml.p3.2xlarge": 3.825, "ml.p3.8xlarge": 14.688}
    (row,) = compute.training(cur.normalise(raw_frame([{
        "line_item_usage_start_date": "2026-11-02", "line_item_usage_type": "USE1-Host:ml.g5.xlarge",
        "line_item_unblended_cost": "1", "line_item_product_code": "AmazonSageMaker"}]), team_key="team",
        model_key="model_id"), runs, prices.get, "month")  # fmt: skip
    expected = 5400 / 3600 * 3.825 + 1800 / 3600 * 2 * 14.688
    assert (row.model, row.team, row.unit, row.quantity) == ("fraud-v3", "fraud", "training_run", 2)
    assert row.cost_usd == pytest.approx(expected)
    assert row.usd_per_unit == pytest.approx(expected / 2)
    assert row.gpu_hours == pytest.approx(1.5 * 1 + 0.5 * 4 * 2)
    assert row.usd_per_gpu_hour == pytest.approx(expected / 5.5)
    assert "billable seconds x price" in row.note


def test_a_training_job_on_the_bill_is_priced_by_its_line_items_and_no_price_is_none() -> None:
    runs = compute.training_runs([_job("a", 5400), _job("z", 60, "ml.x9.weird")], team_key="team", model_key="m")
    billed = normalised([{
        "line_item_usage_start_date": "2026-11-02", "line_item_product_code": "AmazonSageMaker",
        "line_item_usage_type": "USE1-Train:ml.p3.2xlarge", "line_item_unblended_cost": "4.10",
        "line_item_resource_id": runs[0].arn, "line_item_usage_amount": "1.5"}])  # fmt: skip
    by_model = {r.model: r for r in compute.training(billed, runs, lambda _t: None, "month")}
    assert by_model["a"].cost_usd == pytest.approx(4.10)
    assert by_model["z"].cost_usd is None and by_model["z"].usd_per_unit is None
    assert by_model["z"].gpu_hours is None and "no price" in by_model["z"].note


#: column | value | what the error says (after "row 2, column <column>: "), one hostile cell per line.
HOSTILE_CELLS = """
line_item_unblended_cost | 12,5 | not a number
line_item_unblended_cost | inf | not a number
line_item_usage_start_date | 31/12/2026 | not an ISO 8601
resource_tags | {team: fraud | not a JSON object
resource_tags | [1, 2, 3] | not a map of tags
"""


@pytest.mark.parametrize(("column", "value", "problem"), [c.split(" | ") for c in HOSTILE_CELLS.strip().splitlines()])
def test_hostile_line_items_name_the_row_and_column(column: str, value: str, problem: str) -> None:
    row = {"line_item_usage_start_date": "2026-11-02", "line_item_usage_type": "X", "line_item_unblended_cost": "1"}
    with pytest.raises(UnitCostError, match=re.escape(f"cur.csv: row 2, column {column}: {problem}")):
        cur.normalise(raw_frame([row | {column: value}]), team_key="team", model_key="model_id", source="cur.csv")


def test_a_file_that_is_not_a_cur_export_says_so(tmp_path: Path) -> None:
    with pytest.raises(UnitCostError, match="missing column"):
        cur.normalise(raw_frame([{"date": "2026-11-01"}]), team_key="team", model_key="model_id")
    with pytest.raises(UnitCostError, match="no such file"):
        cur.read_file(tmp_path / "absent.csv")
    binary = tmp_path / "cur.parquet"
    binary.write_bytes(b"\x00\x01 not parquet")
    with pytest.raises(UnitCostError, match="not a readable CSV or Parquet"):
        cur.read_file(binary)


#: column | value | what the error says, one hostile usage cell per line.
HOSTILE_USAGE = """
date | 2026-13-01 | not a YYYY-MM-DD date
model |   | empty
metric |  | empty
value | -3 | not a finite number >= 0
value | nan | not a finite number >= 0
value | 1e999 | not a finite number >= 0
"""


@pytest.mark.parametrize(
    ("column", "value", "problem"), [c.split(" | ") for c in HOSTILE_USAGE.strip("\n").splitlines()]
)
def test_hostile_usage_rows_name_the_row_and_column(column: str, value: str, problem: str) -> None:
    base = {"date": "2026-11-01", "model": "fraud-v3", "metric": "Invocations", "value": "10"}
    with pytest.raises(UnitCostError, match=re.escape(f"usage.csv: row 2, column {column}: {problem}")):
        read_usage(pd.DataFrame([base | {column: value}]), "usage.csv")
    with pytest.raises(UnitCostError, match="missing column"):
        read_usage(pd.DataFrame([{"day": "2026-11-01"}]))


def test_tags_from_parquet_maps_and_legacy_flat_columns() -> None:
    base = {"line_item_usage_start_date": "2026-11-02", "line_item_usage_type": "X", "line_item_unblended_cost": "1"}
    parquet = pd.DataFrame(
        [
            base | {"resource_tags": {"user_team": " fraud ", "user_model_id": "fraud-v3"}},
            base | {"resource_tags": [("user_team", "search"), ("user_model_id", ["not", "text"])]},
            base | {"resource_tags": None, "line_item_resource_id": "arn:aws:sagemaker:us-east-1:1:endpoint/e1"},
        ]
    )
    lines = cur.normalise(parquet, team_key="team", model_key="model_id")
    assert lines[["team", "model"]].values.tolist() == [["fraud", "fraud-v3"], ["search", ""], ["unowned", "e1"]]
    flat = raw_frame([base | {"resource_tags_user_team": "docs"}, base | {"resource_tags": '{"user_team": "nlp"}'}])
    assert cur.normalise(flat, team_key="team", model_key="model_id")["team"].tolist() == ["docs", "nlp"]
    with pytest.raises(UnitCostError, match="row 3, column resource_tags: not a map of tags"):
        cur.normalise(pd.DataFrame([base, base | {"resource_tags": [1, 2]}]), team_key="team", model_key="m")
