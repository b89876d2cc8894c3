"""Recommendations never cost more (issue 21, item 5): every option is compared with on-demand, an option that
would cost more is shown as "not worth it" with its numbers, and absurd figures are errors naming row and column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from costwarden.advisor.commitments import Stability, recommend_plan
from costwarden.advisor.fleet import advise_fleet, parse_fleet
from costwarden.advisor.purchase_mix import SpotCandidate, TeamMix
from costwarden.advisor.savings import team_savings
from costwarden.advisor.storage import Bucket, StorageFinding, apply_candidates
from costwarden.advisor.training import JobCandidate, TrainingJob
from costwarden.cli import main as cli_main

HEADER = "instance_type,monthly_hours,on_demand_rate,reserved_rate_1yr_no_upfront,spot_rate,workload_type"
SP_HEADER = HEADER + ",savings_plan_rate"


def advise(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str) -> tuple[int, str, str]:
    path = tmp_path / "fleet.csv"
    path.write_text(content)
    code = cli_main.main(["advise", "--fleet", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------- hostile figures


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("g4dn,1e27,3.912,2.35,1.18,always_on", "monthly_hours"),
        ("g4dn,730,1e27,2.35,1.18,always_on", "on_demand_rate"),
        ("g4dn,730,3.912,1e27,1.18,always_on", "reserved_rate_1yr_no_upfront"),
        ("g4dn,730,3.912,2.35,1e27,scheduled_batch", "spot_rate"),
        ("g4dn,730,3.912,-2.35,1.18,always_on", "reserved_rate_1yr_no_upfront"),
        ("g4dn,730,-3.912,2.35,1.18,always_on", "on_demand_rate"),
        ("g4dn,NaN,3.912,2.35,1.18,always_on", "monthly_hours"),
        ("g4dn,730,3.912,2.35,sNaN,always_on", "spot_rate"),
        ("g4dn,-Infinity,3.912,2.35,1.18,always_on", "monthly_hours"),
    ],
)
def test_absurd_figures_exit_2_naming_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, column: str
) -> None:
    code, out, err = advise(capsys, tmp_path, f"{HEADER}\n{row}\n")
    assert code == 2, (out, err)
    assert f"row 2, column {column}:" in err
    assert "Traceback" not in err and "InvalidOperation" not in err and out == ""


def test_huge_hours_message_says_the_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = advise(capsys, tmp_path, f"{HEADER}\ng4dn,1e27,3.912,2.35,1.18,always_on\n")
    assert code == 2
    assert "row 2, column monthly_hours: '1e27' must be at most 1000000000" in err


def test_largest_accepted_figures_still_price(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # At the bounds the arithmetic stays exact in Decimal (no rounding to a 28-digit context, no quantize error).
    code, out, err = advise(capsys, tmp_path, f"{SP_HEADER}\ng4dn,1000000000,100000,99999,1,always_on,1\n")
    assert code == 0, err
    row = json.loads(out)["results"][0]
    assert row["strategy"] == "savings_plan" and row["monthly_savings"] == 99_999_000_000_000


# --------------------------------------------------------------------------------------------- fleet: never more


def test_reserved_above_on_demand_is_not_worth_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 730 h: on-demand 730 x 2.00 = 1,460; reserved 730 x 3.44 = 2,511.20, 1,051.20 more.
    code, out, err = advise(capsys, tmp_path, f"{HEADER}\ng5.xlarge,730,2.00,3.44,0.8,always_on\n")
    assert code == 0, err
    report = json.loads(out)
    row = report["results"][0]
    assert row["strategy"] == "on_demand"
    assert row["optimal_monthly"] == 1460.0 and row["monthly_savings"] == 0 and row["savings_pct"] == 0.0
    assert report["totals"]["monthly_savings"] == 0
    assert row["notes"] == [
        "reserved_1yr_no_upfront not worth it: 730 h x 3.44 = $2,511.20/month, $1,051.20 more than on-demand "
        "($1,460.00)"
    ]
    reserved = next(o for o in row["options"] if o["strategy"] == "reserved_1yr_no_upfront")
    assert reserved == {
        "strategy": "reserved_1yr_no_upfront",
        "billed_hours": 730.0,
        "rate": 3.44,
        "monthly": 2511.2,
        "monthly_savings": -1051,
        "worth_it": False,
    }


def test_savings_plan_above_on_demand_loses_to_a_cheaper_reservation() -> None:
    # on-demand 730 x 2.00 = 1,460; SP 730 x 2.44 = 1,781.20 (321.20 more); reserved 730 x 1.50 = 1,095.
    report = advise_fleet(parse_fleet(f"{SP_HEADER}\ng5.xlarge,730,2.00,1.50,0.8,always_on,2.44\n"))
    row = report.to_dict()["rows"][0]
    assert row["strategy"] == "reserved_1yr_no_upfront"
    assert row["optimal_monthly"] == 1095.0 and row["monthly_savings"] == 365
    assert row["notes"] == [
        "savings_plan not worth it: 730 h x 2.44 = $1,781.20/month, $321.20 more than on-demand ($1,460.00)"
    ]


def test_both_commitments_above_on_demand_leave_on_demand() -> None:
    report = advise_fleet(parse_fleet(f"{SP_HEADER}\ng5.xlarge,100,2.00,2.50,0.8,always_on,2.10\n"))
    row = report.to_dict()["rows"][0]
    assert row["strategy"] == "on_demand" and row["monthly_savings"] == 0
    assert [n.split(" not worth it")[0] for n in row["notes"]] == ["savings_plan", "reserved_1yr_no_upfront"]
    assert [o["worth_it"] for o in row["options"]] == [True, False, False]  # on-demand, savings plan, reserved


def test_a_commitment_equal_to_on_demand_is_not_bought() -> None:
    row = advise_fleet(parse_fleet(f"{HEADER}\ng5.xlarge,100,2.00,2.00,0.8,always_on\n")).to_dict()["rows"][0]
    assert row["strategy"] == "on_demand" and row["monthly_savings"] == 0
    assert "saves nothing against on-demand" in row["notes"][0]


def test_spot_above_on_demand_says_so_with_its_numbers() -> None:
    # 100 h x 1.2 (experimental) = 120 h x 0.95 = 114 against 100 on-demand.
    row = advise_fleet(parse_fleet(f"{HEADER}\nx1.large,100,1.0,0.9,0.95,experimental\n")).to_dict()["rows"][0]
    assert row["strategy"] == "on_demand" and row["monthly_savings"] == 0
    assert row["notes"] == ["spot not worth it: 120 h x 0.95 = $114.00/month, $14.00 more than on-demand ($100.00)"]


def test_no_row_and_no_total_is_ever_negative() -> None:
    rows = "\n".join(
        [
            "a,730,2.00,3.44,0.8,always_on,2.50",
            "b,730,2.00,1.50,0.8,always_on,2.44",
            "c,100,1.0,0.9,0.95,experimental,",
            "d,100,1.0,0.9,2.00,scheduled_batch,",
        ]
    )
    report = advise_fleet(parse_fleet(f"{SP_HEADER}\n{rows}\n"))
    assert [r.monthly_savings >= 0 for r in report.results] == [True] * 4
    assert all(r.optimal_monthly <= r.on_demand_monthly for r in report.results)
    assert report.totals()["monthly_savings"] == 365


# --------------------------------------------------------------------------------------------- the other levers


def candidate(on_demand: float, spot: float | None) -> SpotCandidate:
    return SpotCandidate("nlp", "ec2", "g5.xlarge", 100.0, on_demand, spot, "spot history")


def test_purchase_mix_spot_above_on_demand_is_not_worth_it_and_not_counted() -> None:
    dearer, cheaper = candidate(100.0, 130.0), candidate(100.0, 40.0)
    assert dearer.to_dict()["worth_it"] is False and dearer.to_dict()["savings_usd"] == 0.0
    assert dearer.to_dict()["extra_cost_usd"] == 30.0
    assert cheaper.to_dict()["worth_it"] is True and cheaper.to_dict()["extra_cost_usd"] == 0.0
    mix = TeamMix("nlp", candidates=[dearer, cheaper])
    assert mix.could_save_usd == 60.0
    saved = team_savings([], [mix], mix_days=30)
    assert len(saved["nlp"][1]) == 1 and "g5.xlarge" in saved["nlp"][1][0]


def test_purchase_mix_cli_shows_not_worth_it(capsys: pytest.CaptureFixture[str]) -> None:
    from costwarden.cli.advise import _print_tables

    mix = TeamMix("nlp", by_purchase_type={"On Demand Instances": 100.0}, candidates=[candidate(100.0, 130.0)])
    data = {
        "savings_on_the_table_usd_month": 0,
        "teams": {},
        "storage": {"findings": [], "decisions": []},
        "purchase_mix": {"teams": [mix.to_dict()]},
        "commitments": {"commitments": [], "alerts": [], "recommendations": []},
    }
    _print_tables(data)
    out = capsys.readouterr().out
    assert "g5.xlarge (ec2, 100 h): not worth it: spot $130.00 against on-demand $100.00" in out


def test_training_job_on_spot_above_on_demand_is_not_worth_it() -> None:
    job = TrainingJob("j", "nlp", "ml.p3.2xlarge", 1, 3600.0, False, True, datetime(2026, 11, 1, tzinfo=UTC))
    dearer = JobCandidate(job, 10.0, 12.5, "configured")
    assert dearer.savings_usd == 0.0
    assert dearer.to_dict()["worth_it"] is False and dearer.to_dict()["recommendation"] == "stay on-demand"
    assert JobCandidate(job, 10.0, 4.0, "configured").to_dict()["worth_it"] is True


def finding(now: float | None, after: float | None) -> StorageFinding:
    bucket = Bucket("artefacts", "eu-west-1", {"environment": "dev"})
    return StorageFinding(bucket, "nlp", "tag", "none", now, after, {"Rules": []}, keep=False)


def test_storage_rules_that_cost_more_are_not_worth_it_and_never_applied() -> None:
    dearer = finding(10.0, 12.0)
    assert dearer.monthly_savings_usd == 0.0 and dearer.worth_it is False
    assert dearer.to_dict()["worth_it"] is False
    assert "not worth it: $12.00/month under the rules against $10.00 now" in dearer.to_dict()["notes"][-1]
    assert finding(10.0, 4.0).worth_it is True and finding(None, None).worth_it is True  # unknown: report as before
    [candidate_] = apply_candidates(
        [dearer], environment_key="environment", apply_environments=["dev"], protect_key="p", protect_value="t"
    )
    assert candidate_.skip_reason is not None and "not worth it" in candidate_.skip_reason


def stable() -> list[Stability]:
    return [Stability("nlp", 90, True, 240.0, 250.0, "stable")]


@pytest.mark.parametrize("pct", ["-12.5", "0", "NaN", "Infinity", "1e400"])
def test_no_savings_plan_recommended_without_a_positive_finite_saving(pct: str) -> None:
    summary = {"HourlyCommitmentToPurchase": "5.0", "EstimatedSavingsPercentage": pct}
    assert recommend_plan("COMPUTE_SP", summary, stable()) is None


@pytest.mark.parametrize("hourly", ["NaN", "Infinity", "-1"])
def test_no_savings_plan_recommended_for_absurd_commitments(hourly: str) -> None:
    summary = {"HourlyCommitmentToPurchase": hourly, "EstimatedSavingsPercentage": "20"}
    assert recommend_plan("COMPUTE_SP", summary, stable()) is None


def test_a_real_saving_is_still_recommended() -> None:
    plan = recommend_plan(
        "COMPUTE_SP", {"HourlyCommitmentToPurchase": "9", "EstimatedSavingsPercentage": "20"}, stable()
    )
    assert plan is not None and plan.hourly_commitment_usd == 8.0 and (plan.estimated_monthly_savings_usd or 0) > 0
