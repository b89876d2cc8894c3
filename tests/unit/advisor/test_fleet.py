"""``costwarden advise --fleet``: the source's example fleet pinned, the honest optional columns, hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.advisor.fleet import FleetError, advise_fleet, parse_fleet
from costwarden.cli import main as cli_main

HEADER = "instance_type,monthly_hours,on_demand_rate,reserved_rate_1yr_no_upfront,spot_rate,workload_type"
SOURCE_FLEET = f"""{HEADER}
g4dn.12xlarge,2920,3.912,2.35,1.18,always_on
p3.8xlarge,576,12.24,7.34,3.67,scheduled_batch
p3.8xlarge,320,12.24,7.34,3.67,experimental
m5.4xlarge,4380,0.768,0.461,0.23,always_on
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main.main(["advise", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_source_example_fleet_reproduces_its_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fleet.csv").write_text(SOURCE_FLEET)
    code, out, err = run(capsys, "--fleet", str(tmp_path / "fleet.csv"), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    got = [
        (r["strategy"], r["on_demand_monthly"], r["optimal_monthly"], r["monthly_savings"], r["savings_pct"])
        for r in report["results"]
    ]
    assert got == [
        # always-on: 2,920 h x 3.912 on demand vs 2,920 h x 2.35 reserved
        ("reserved_1yr_no_upfront", 11423.04, 6862.00, 4561, 39.9),
        # scheduled batch: 576 h x 12.24 vs 576 x 1.1 = 633.6 h x 3.67 spot
        ("spot", 7050.24, 2325.31, 4725, 67.0),
        # experimental: 320 h x 12.24 vs 320 x 1.2 = 384 h x 3.67 spot
        ("spot", 3916.80, 1409.28, 2508, 64.0),
        ("reserved_1yr_no_upfront", 3363.84, 2019.18, 1345, 40.0),
    ]
    assert [r["billed_hours"] for r in report["results"]] == [2920.0, 633.6, 384.0, 4380.0]
    assert all(r["notes"] == [] for r in report["results"])
    # Totals are the exact sums rounded once: 25,753.92 - 12,615.772 = 13,138.148.
    assert report["totals"] == {
        "on_demand_monthly": 25753.92,
        "optimal_monthly": 12615.77,
        "monthly_savings": 13138,
        "savings_pct": 51.0,
    }
    assert set(report["results"][0]) >= {
        "strategy",
        "on_demand_monthly",
        "optimal_monthly",
        "monthly_savings",
        "savings_pct",
    }


def test_table_has_every_row_and_the_total(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fleet.csv").write_text(SOURCE_FLEET)
    code, out, _ = run(capsys, "--fleet", str(tmp_path / "fleet.csv"))
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["INSTANCE", "TYPE", "WORKLOAD"]
    assert lines[-1].split() == ["TOTAL", "25,753.92", "12,615.77", "13,138", "51.0"]
    assert "4,725" in lines[2]


def one(row: str, header: str = HEADER) -> dict[str, object]:
    report = advise_fleet(parse_fleet(f"{header}\n{row}\n"))
    result: dict[str, object] = report.to_dict()["rows"][0]
    return result


def test_no_checkpointing_refuses_spot_for_long_runs_and_says_why() -> None:
    header = HEADER + ",checkpointing,interruption_rate,run_hours"
    row = one("p3.8xlarge,576,12.24,7.34,3.67,scheduled_batch,false,0.05,36", header)
    assert row["strategy"] == "on_demand" and row["monthly_savings"] == 0
    assert "36 h" in str(row["notes"]) and "20 h between interruptions" in str(row["notes"])
    unknown = one("p3.8xlarge,576,12.24,7.34,3.67,scheduled_batch,false,,", header)
    assert unknown["strategy"] == "on_demand" and "unknown length" in str(unknown["notes"])


def test_no_checkpointing_short_runs_still_spot_with_rerun_allowance() -> None:
    header = HEADER + ",checkpointing,interruption_rate,run_hours"
    row = one("p3.8xlarge,100,12.24,7.34,3.67,scheduled_batch,false,0.05,8", header)
    # rerun allowance max(0.05, 0.05 x 8 / 2) = 0.2 → 120 h at spot
    assert row["strategy"] == "spot" and row["billed_hours"] == 120.0
    assert row["optimal_monthly"] == 440.4


def test_interruption_rate_replaces_the_ten_percent() -> None:
    header = HEADER + ",interruption_rate"
    batch = one("p3.8xlarge,576,12.24,7.34,3.67,scheduled_batch,0.25", header)
    assert batch["billed_hours"] == 720.0  # 576 x 1.25
    experiment = one("p3.8xlarge,320,12.24,7.34,3.67,experimental,0.25", header)
    assert experiment["billed_hours"] == 432.0  # 320 x (1 + 0.25 + 0.10)
    assert "replaces the 10 % allowance" in str(batch["notes"])


def test_savings_plan_preferred_for_always_on_and_says_so() -> None:
    header = HEADER + ",savings_plan_rate"
    row = one("g4dn.12xlarge,2920,3.912,2.35,1.18,always_on,2.5", header)
    assert row["strategy"] == "savings_plan" and row["optimal_monthly"] == 7300.0
    assert "instance families change" in str(row["notes"]) and "438 USD/month more" in str(row["notes"])


def test_spot_never_recommended_when_it_is_not_cheaper() -> None:
    row = one("x1.large,100,1.0,0.9,0.95,experimental")
    assert row["strategy"] == "on_demand" and row["monthly_savings"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("instance_type,monthly_hours\nx,1\n", "row 1: missing column(s) on_demand_rate"),
        (HEADER + ",checkpoint\n", "row 1: unknown column(s) checkpoint"),
        (HEADER + "\n", "no rows after the header"),
        (HEADER + "\ng4dn,abc,1,1,1,always_on\n", "row 2, column monthly_hours: 'abc' is not a number"),
        (HEADER + "\ng4dn,10,1,1,1,always_on\ng4dn,-5,1,1,1,always_on\n", "row 3, column monthly_hours"),
        (HEADER + "\ng4dn,10,NaN,1,1,always_on\n", "row 2, column on_demand_rate: 'NaN' is not a finite"),
        (HEADER + "\ng4dn,10,1,0,1,always_on\n", "row 2, column reserved_rate_1yr_no_upfront"),
        (HEADER + "\ng4dn,10,1,1,1,sometimes\n", "row 2, column workload_type: 'sometimes' is not one of"),
        (HEADER + "\ng4dn,10,1,1\n", "row 2: 4 values for 6 columns"),
        (HEADER + ',checkpointing\ng4dn,10,1,1,1,always_on,"maybe"\n', "row 2, column checkpointing"),
        (HEADER + ",interruption_rate\ng4dn,10,1,1,1,always_on,1.5\n", "column interruption_rate: '1.5' must be at"),
        (HEADER + '\n"g4dn,10,1,1,1,always_on\n', "not valid CSV"),
        (HEADER + ",spot_rate\n", "given twice: spot_rate"),
    ],
)
def test_hostile_files_exit_2_naming_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "fleet.csv"
    path.write_text(content)
    code, out, err = run(capsys, "--fleet", str(path))
    assert code == 2, (out, err)
    assert message in err and str(path) in err
    assert "Traceback" not in err and out == ""


def test_unreadable_paths_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00garbage")
    for path, message in (
        (tmp_path / "missing.csv", "no such file"),
        (tmp_path, "is a directory"),
        (tmp_path / "bin.csv", "not UTF-8"),
    ):
        code, _, err = run(capsys, "--fleet", str(path))
        assert code == 2 and message in err and "Traceback" not in err


def test_parse_accepts_bom_blank_lines_and_case() -> None:
    rows = parse_fleet("\ufeff" + HEADER.upper() + "\n\ng4dn,10,1,0.5,0.2,ALWAYS_ON\n\n")
    assert len(rows) == 1 and rows[0].line == 3
    with pytest.raises(FleetError):
        parse_fleet(HEADER + "\n,10,1,1,1,always_on\n")
