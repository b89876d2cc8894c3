"""The monthly report against Cost Explorer (Stubber, real response shapes): the planned requests, counted, the
daily cache reused on the next run, and the CLI writing a self-contained file."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.state import MemoryStateStore
from costwarden.advisor.report import render_html
from costwarden.services.advisor.report import SAVINGS_PK, SAVINGS_SK, run_report
from costwarden.settings import parse_settings

SETTINGS = parse_settings(
    {
        "tags": {"team_key": "owner", "required": ["owner"], "optional": [], "allowed_values": {}},
        "budgets": {"monthly_usd": {"risk": 2000}},
    }
)
NOW = datetime(2026, 12, 1, 7, tzinfo=UTC)
EXCLUDED = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund", "Tax"]}}}


def monthly(dim: str, values: dict[tuple[str, str], tuple[float, float]]) -> dict[str, Any]:
    """A MONTHLY GetCostAndUsage answer grouped by owner and ``dim``: (team, value) -> (October, November)."""
    periods = []
    for i, (start, end) in enumerate((("2026-10-01", "2026-11-01"), ("2026-11-01", "2026-12-01"))):
        groups = [
            {
                "Keys": [f"owner${team}", f"{dim}${value}"],
                "Metrics": {"AmortizedCost": {"Amount": str(usd[i]), "Unit": "USD"}},
            }
            for (team, value), usd in values.items()
        ]
        periods.append({"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": groups, "Estimated": False})
    return {
        "GroupDefinitions": [{"Type": "TAG", "Key": "owner"}, {"Type": "TAG", "Key": dim}],
        "ResultsByTime": periods,
        "DimensionValueAttributes": [],
    }


def daily(start: date, end: date) -> dict[str, Any]:
    days = []
    day = start
    while day < end:
        usd = {"inference": 40.0, "training": 10.0} if day.month == 11 else {"inference": 30.0, "training": 10.0}
        groups = [
            {
                "Keys": ["owner$risk", f"lifecycle_phase${phase}"],
                "Metrics": {"AmortizedCost": {"Amount": str(v), "Unit": "USD"}},
            }
            for phase, v in usd.items()
        ]
        days.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": groups,
                "Estimated": day >= date(2026, 11, 30),
            }
        )
        day += timedelta(days=1)
    return {
        "GroupDefinitions": [{"Type": "TAG", "Key": "owner"}, {"Type": "TAG", "Key": "lifecycle_phase"}],
        "ResultsByTime": days,
        "DimensionValueAttributes": [],
    }


def expect_monthly(stub: Stubber, dim: str, values: dict[tuple[str, str], tuple[float, float]]) -> None:
    stub.add_response(
        "get_cost_and_usage",
        monthly(dim, values),
        {
            "TimePeriod": {"Start": "2026-10-01", "End": "2026-12-01"},
            "Granularity": "MONTHLY",
            "Metrics": ["AmortizedCost"],
            "GroupBy": [{"Type": "TAG", "Key": "owner"}, {"Type": "TAG", "Key": dim}],
            "Filter": EXCLUDED,
        },
    )


def expect_daily(stub: Stubber, start: date, end: date) -> None:
    stub.add_response(
        "get_cost_and_usage",
        daily(start, end),
        {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": ["AmortizedCost"],
            "GroupBy": [{"Type": "TAG", "Key": "owner"}, {"Type": "TAG", "Key": "lifecycle_phase"}],
            "Filter": EXCLUDED,
        },
    )


def test_report_requests_are_planned_counted_and_the_cache_reused() -> None:
    client = boto3.client("ce", region_name="us-east-1")
    store = MemoryStateStore()
    store.put(SAVINGS_PK, SAVINGS_SK, {"teams": {"risk": {"usd_month": 321.0, "items": ["spot: p3.8xlarge"]}}})
    models = {("risk", "fraud-v3"): (900.0, 1200.0), ("risk", ""): (340.0, 300.0)}
    projects = {("risk", "payments"): (1240.0, 1500.0)}
    with Stubber(client) as stub:
        expect_monthly(stub, "model_id", models)
        expect_monthly(stub, "project", projects)
        expect_daily(stub, date(2026, 10, 1), date(2026, 12, 1))  # empty cache: one range for both months
        ce = CostExplorer(client=client)
        first = run_report(SETTINGS, ce, store, month="2026-11", today=NOW.date(), now=NOW)
        stub.assert_no_pending_responses()
        assert first.ce_requests == 3
        # Next run: the cache holds every final day; only its last two days are asked again.
        expect_monthly(stub, "model_id", models)
        expect_monthly(stub, "project", projects)
        expect_daily(stub, date(2026, 11, 29), date(2026, 12, 1))
        second = run_report(SETTINGS, ce, store, month="2026-11", today=NOW.date(), now=NOW)
        stub.assert_no_pending_responses()
    assert second.ce_requests == 3 and ce.requests == 6
    data = second.to_dict()
    [risk] = data["teams"]
    assert risk["this_month_usd"] == 1500.0 and risk["last_month_usd"] == 1240.0  # 30 x 50 and 31 x 40
    assert risk["by"]["model_id"][0] == {"value": "fraud-v3", "this_month_usd": 1200.0, "last_month_usd": 900.0}
    assert risk["by"]["lifecycle_phase"][0]["value"] == "inference"
    assert risk["budget"]["status"] == "ON_TRACK" and risk["savings_usd_month"] == 321.0
    assert risk["change_pct"] == round((1500 / 1240 - 1) * 100, 1)
    page = render_html(second)
    assert re.search(r"(?i)(https?:|<script|<link|\bsrc=|url\()", page) is None


def test_cli_report_writes_file_and_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from costwarden.cli import main as cli_main

    assert cli_main.main(["report", "--month", "2026-13", "--out", str(tmp_path / "r.html")]) == 2
    assert "--month: '2026-13': month must be 01-12" in capsys.readouterr().err
    assert cli_main.main(["report", "--month", "2099-01", "--out", str(tmp_path / "r.html")]) == 2
    assert "has not started yet" in capsys.readouterr().err
    assert cli_main.main(["report", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert cli_main.main(["report", "--out", str(tmp_path / "missing" / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
