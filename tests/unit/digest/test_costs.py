"""The cost-to-run estimate: arithmetic per line, usage derived from the schedules, the printed table."""

from __future__ import annotations

import pytest
from costwarden.digest.costs import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    PRICES,
    FunctionLoad,
    Measured,
    Usage,
    estimate,
    usage_from_settings,
)
from costwarden.settings import Settings, parse_settings


def _usage(**overrides: object) -> Usage:
    fields: dict[str, object] = {
        "functions": (FunctionLoad("f", invocations_per_month=1_000, avg_duration_ms=1_000, memory_mb=1_024),),
        "ce_requests_per_month": 0,
        "dynamodb_writes_per_month": 0,
        "dynamodb_reads_per_month": 0,
        "dynamodb_storage_gb": 0,
        "sns_publishes_per_month": 0,
        "dashboards": 0,
        "kms_keys": 0,
        "secrets": 0,
    }
    fields.update(overrides)
    return Usage(**fields)  # type: ignore[arg-type]


def _line(usage: Usage, item: str) -> float:
    return {line.item: line.monthly_usd for line in estimate(usage).lines}[item]


def test_lambda_compute_is_gb_seconds_times_the_architectures_price() -> None:
    usage = _usage()
    assert usage.functions[0].gb_seconds == 1_000
    assert _line(usage, "Lambda f compute") == pytest.approx(1_000 * 0.0000133334)
    x86 = _usage(functions=(FunctionLoad("f", 1_000, 1_000, 1_024, architecture="x86_64"),))
    assert _line(x86, "Lambda f compute") == pytest.approx(1_000 * 0.0000166667)
    assert _line(usage, "Lambda requests") == pytest.approx(1_000 * 0.20 / 1e6)


def test_cost_explorer_is_a_cent_a_request() -> None:
    assert _line(_usage(ce_requests_per_month=100), "Cost Explorer API") == pytest.approx(1.00)


def test_sns_counts_each_started_64_kb() -> None:
    small = _usage(sns_publishes_per_month=1_000_000, sns_avg_message_kb=4)
    large = _usage(sns_publishes_per_month=1_000_000, sns_avg_message_kb=100)
    assert _line(small, "SNS publishes") == pytest.approx(0.50)
    assert _line(large, "SNS publishes") == pytest.approx(1.00)


def test_total_and_table() -> None:
    result = estimate(_usage(ce_requests_per_month=100, dashboards=1))
    assert result.total_usd == pytest.approx(sum(line.monthly_usd for line in result.lines))
    table = result.markdown()
    lines = table.splitlines()
    assert lines[0] == "| Item | Quantity per month | Unit price (USD) | USD per month |"
    assert lines[2].startswith("| CloudWatch dashboard | 1 dashboard | 3.00 | 3.00 |")  # largest first
    assert f"**{result.total_usd:,.2f}**" in table
    assert "before free tiers" in table


def test_usage_follows_the_schedules() -> None:
    hourly = usage_from_settings(Settings(), teams=300)
    every_15 = usage_from_settings(parse_settings({"schedules": {"reaper_rate_minutes": 15}}), teams=300)
    runs = {f.name: f.invocations_per_month for f in hourly.functions}
    assert runs["reaper"] == pytest.approx(HOURS_PER_MONTH)
    assert runs["tag_audit"] == pytest.approx(DAYS_PER_MONTH / 7)
    assert runs["cost_monitor"] == pytest.approx(DAYS_PER_MONTH)  # the digest rides on the daily run
    assert runs["notifier"] == pytest.approx(DAYS_PER_MONTH * Measured().alerts_per_day)
    assert {f.name: f.invocations_per_month for f in every_15.functions}["reaper"] == pytest.approx(4 * HOURS_PER_MONTH)
    assert hourly.ce_requests_per_month == pytest.approx(DAYS_PER_MONTH * 3 + DAYS_PER_MONTH / 7 * 3)


def test_measured_numbers_flow_into_the_estimate() -> None:
    base = estimate(usage_from_settings(Settings(), teams=10))
    slower = estimate(
        usage_from_settings(
            Settings(),
            teams=10,
            measured=Measured(
                duration_ms={"cost_monitor": 40_000, "reaper": 3_000, "tag_audit": 5_000, "notifier": 400},
                ce_requests_per_cost_run=30,
            ),
        )
    )
    by_item = {line.item: line.monthly_usd for line in base.lines}
    slower_items = {line.item: line.monthly_usd for line in slower.lines}
    assert slower_items["Lambda cost_monitor compute"] == pytest.approx(10 * by_item["Lambda cost_monitor compute"])
    assert slower_items["Cost Explorer API"] > 8 * by_item["Cost Explorer API"]
    # Per-team metrics grow with the fleet: the one line that scales with teams.
    many = {line.item: line.monthly_usd for line in estimate(usage_from_settings(Settings(), teams=1_000)).lines}
    assert many["CloudWatch custom metrics"] > 50 * by_item["CloudWatch custom metrics"]
    assert PRICES.ce_request == 0.01
