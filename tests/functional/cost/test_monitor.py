"""The daily run against moto: incremental pulls (steady state = one request per page of the changing window),
episodes (once, escalation, retraction), root causes, budgets, publish failures, and the Lambda handler."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from costwarden.adapters import sns
from costwarden.cost.monitor import PublishFailedError, run
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.settings import Settings, parse_settings

from .conftest import World

ROOT = Path(__file__).resolve().parents[3]
HISTORY_START = date(2026, 1, 1)
TEAMS = {"vision": 1200.0, "nlp": 800.0, "recsys": 2000.0, "search": 400.0, "platform": 300.0}
EC2 = "Amazon Elastic Compute Cloud - Compute"
SAGEMAKER = "Amazon SageMaker"


def history(world: World, until: date, *, seed: int = 1) -> None:
    """Five teams with a weekly rhythm (quieter weekends) and 5% noise; 70% EC2, 30% S3."""
    rng = np.random.default_rng(seed)
    days = (until - HISTORY_START).days + 1
    for team, level in TEAMS.items():
        values = []
        for i in range(days):
            day = HISTORY_START + timedelta(days=i)
            values.append(level * (0.6 if day.weekday() >= 5 else 1.0) * float(rng.normal(1, 0.05)))
        world.fake.add_series(team, HISTORY_START, [0.7 * v for v in values], service=EC2)
        world.fake.add_series(team, HISTORY_START, [0.3 * v for v in values], service="Amazon Simple Storage Service")


def daily_run(world: World, today: date, settings: Settings | None = None, **kwargs: Any) -> dict[str, Any]:
    def publish(event: AlertEvent) -> str:
        return sns.publish(event, world.topic_arn)

    ce = world.explorer()
    result = run(
        settings or Settings(), ce=ce, store=world.store, publish=kwargs.pop("publish", publish), today=today, **kwargs
    )
    return result.summary


def test_first_run_backfills_then_steady_state_is_one_request_per_page(world: World) -> None:
    world.fake.page_days = 10
    history(world, date(2026, 3, 25))
    world.fake.estimated = {"2026-03-18", "2026-03-19"}
    first = daily_run(world, date(2026, 3, 20))
    # 56 days (the window forecasts need; covers the 30-day baseline + a week) at 10 days per page.
    assert first["pulled"] == [("2026-01-23", "2026-03-20")]
    assert first["ce_requests"] == 6 and first["stored_days"] == 54  # the last two days are never cached
    assert first["teams"] == 5 and first["findings"] == []

    world.fake.estimated = {"2026-03-19", "2026-03-20"}  # 03-18 became final overnight
    before = len(world.fake.requests)
    second = daily_run(world, date(2026, 3, 21))
    assert second["ce_requests"] == 1  # the changing window (3 days) fits one page
    assert [r["TimePeriod"] for r in world.fake.requests[before:]] == [{"Start": "2026-03-18", "End": "2026-03-21"}]
    assert second["cached_days"] == 53 and second["stored_days"] == 1  # the window moved on by a day

    world.fake.page_days = 2  # a smaller page: the same window now takes two pages, still nothing more
    third = daily_run(world, date(2026, 3, 22))
    assert third["pulled"] == [("2026-03-19", "2026-03-22")]
    assert third["ce_requests"] == 2


def test_spike_alerts_once_with_root_cause_then_escalates_then_stays_quiet(world: World) -> None:
    history(world, date(2026, 3, 22))
    world.fake.add("2026-03-19", "vision", 0.8 * 1200, service=SAGEMAKER)  # 1.8x: warning
    world.fake.add("2026-03-20", "vision", 2.5 * 1200, service=SAGEMAKER)  # 3.5x: critical
    world.fake.add("2026-03-21", "vision", 2.5 * 1200, service=SAGEMAKER)  # still critical, same episode
    summaries = [daily_run(world, date(2026, 3, d)) for d in (20, 21, 22)]
    events = world.published()
    anomalies = [e for e in events if e.kind is AlertKind.COST_ANOMALY]
    assert [(e.team, e.severity) for e in anomalies] == [("vision", Severity.WARNING), ("vision", Severity.CRITICAL)]
    first, escalated = anomalies
    assert first.details["items"][0].startswith("+") and first.details["items"][0].endswith(" in Amazon SageMaker")
    assert first.details["figures"]["Data"] == "final"
    assert escalated.details["episode"] == "escalated" and "escalated" in escalated.title
    assert "+$3,000 in Amazon SageMaker" in escalated.details["items"]
    assert summaries[2]["alerts"] == []
    # root-cause requests are filtered to the team, one per cause dimension and alert, services first
    cause_requests = [r for r in world.fake.requests if r["GroupBy"][0]["Type"] == "DIMENSION"]
    assert [r["GroupBy"][0]["Key"] for r in cause_requests] == 2 * ["SERVICE", "USAGE_TYPE", "REGION", "LINKED_ACCOUNT"]
    service_requests = [r for r in cause_requests if r["GroupBy"][0]["Key"] == "SERVICE"]
    assert len(service_requests) == 2
    assert {"Tags": {"Key": "team", "Values": ["vision"], "MatchOptions": ["EQUALS"]}} in service_requests[0]["Filter"][
        "And"
    ]


def test_alert_on_estimated_day_is_retracted_when_the_final_day_is_normal(world: World) -> None:
    history(world, date(2026, 3, 21))
    world.fake.add("2026-03-19", "nlp", 1000.0, service=SAGEMAKER)  # estimated: looks like 2.2x
    world.fake.estimated = {"2026-03-19"}
    daily_run(world, date(2026, 3, 20))
    alert = world.published()
    assert [(e.team, e.severity.value, e.details["figures"]["Data"]) for e in alert] == [
        ("nlp", "critical", "estimated")
    ]
    # Overnight Cost Explorer finalises 03-19 without the phantom cost.
    world.fake.rows = world.fake.rows.loc[world.fake.rows["service"] != SAGEMAKER]
    world.fake.estimated = set()
    summary = daily_run(world, date(2026, 3, 21))
    retraction = world.published()
    assert [(e.team, e.severity) for e in retraction] == [("nlp", Severity.INFO)]
    assert "withdrawn" in retraction[0].title and summary["ce_requests"] >= 1
    daily_run(world, date(2026, 3, 22))
    assert world.published() == []


def test_budget_at_risk_alerts_once_per_status_change(world: World) -> None:
    history(world, date(2026, 3, 22))
    # search spends ~400/day on weekdays, ~240 at weekends: about 10.8k in March; a 11.5k budget is ~94%.
    settings = parse_settings({"budgets": {"monthly_usd": {"search": 11_500, "vision": 100_000}}})
    first = daily_run(world, date(2026, 3, 21), settings)
    budgets = {b["team"]: b for b in first["budgets"]}
    assert budgets["search"]["status"] == "AT_RISK" and budgets["vision"]["status"] == "ON_TRACK"
    assert budgets["search"]["days_in_month"] == 31 and budgets["search"]["days_elapsed"] == 20
    events = [e for e in world.published() if e.kind is AlertKind.BUDGET]
    assert [(e.team, e.severity) for e in events] == [("search", Severity.WARNING)]
    assert events[0].details["figures"]["Status"] == "AT_RISK" and len(events[0].details["items"]) == 4
    daily_run(world, date(2026, 3, 22), settings)
    assert [e for e in world.published() if e.kind is AlertKind.BUDGET] == []


def test_publish_failures_do_not_lose_the_rest(world: World) -> None:
    history(world, date(2026, 3, 20))
    world.fake.add("2026-03-19", "vision", 3000.0, service=SAGEMAKER)
    world.fake.add("2026-03-19", "recsys", 5000.0, service=SAGEMAKER)
    sent: list[str] = []

    def flaky(event: AlertEvent) -> str:
        if event.kind is AlertKind.DIGEST:
            return "id"
        if event.team == "recsys":
            raise RuntimeError("SNS is down")
        sent.append(event.team)
        return "id"

    with pytest.raises(PublishFailedError, match=r"1 of 2 alerts failed.*recsys"):
        daily_run(world, date(2026, 3, 20), publish=flaky)
    assert sent == ["vision"]
    # The failed one was not remembered: the next run publishes it (and only it).
    retried: list[str] = []
    daily_run(world, date(2026, 3, 21), publish=lambda e: retried.append(e.team) or "id")
    assert retried == ["recsys", "all"]  # the failed alert, then the day's digest


def test_handler_end_to_end(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from costwarden.adapters import aws

    history(world, date(2026, 3, 20))
    world.fake.add("2026-03-19", "recsys", 4000.0, service=SAGEMAKER)
    world.fake.install(aws.client("ce", "us-east-1"))
    monkeypatch.setenv("ALERT_TOPIC_ARN", world.topic_arn)
    monkeypatch.setenv("STATE_TABLE_NAME", world.table_name)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "cost_monitor")
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"budgets": {"monthly_usd": {"recsys": 50_000}}}))
    from costwarden.handlers.context import LocalContext
    from costwarden.handlers.cost_monitor import handler

    event = json.loads((ROOT / "events" / "cost_monitor" / "scheduled.json").read_text())
    event["time"] = "2026-03-20T08:00:00Z"
    summary = handler(event, LocalContext(function_name="cost_monitor"))
    assert summary["ce_requests"] == 10  # 6 pages of backfill + 1 root-cause request per cause dimension (4)
    assert json.loads(json.dumps(summary))["findings"][0]["team"] == "recsys"  # plain JSON, as Lambda returns it
    assert [(a["kind"], a["team"]) for a in summary["alerts"]] == [("cost_anomaly", "recsys"), ("budget", "recsys")]
    out = capsys.readouterr().out
    metric_names = {
        m["Name"]
        for line in out.splitlines()
        if line.startswith("{") and "_aws" in line
        for block in json.loads(line)["_aws"]["CloudWatchMetrics"]
        for m in block["Metrics"]
    }
    assert {"DailyCostUSD", "Anomalies", "CostExplorerRequests", "BudgetUsedPercent"} <= metric_names
    assert summary["digests_sent"] == 1
    assert len(world.published()) == 2


def test_empty_account_runs_clean_and_caches_empty_days(world: World) -> None:
    first = daily_run(world, date(2026, 3, 20))
    assert first["teams"] == 0 and first["findings"] == [] and first["alerts"] == []
    assert first["stored_days"] == 54  # empty final days are cached too: never asked for again
    second = daily_run(world, date(2026, 3, 21))
    assert second["ce_requests"] == 1 and second["cached_days"] == 53


def test_team_only_grouping_and_unblended_metric(world: World) -> None:
    history(world, date(2026, 3, 20))
    world.fake.add("2026-03-19", "vision", 3000.0, service=SAGEMAKER)
    settings = parse_settings({"anomaly": {"second_group_key": None, "cost_metric": "UnblendedCost"}})
    summary = daily_run(world, date(2026, 3, 20), settings)
    first = world.fake.requests[0]
    assert first["GroupBy"] == [{"Type": "TAG", "Key": "team"}] and first["Metrics"] == ["UnblendedCost"]
    assert [(a["team"], a["severity"]) for a in summary["alerts"]] == [("vision", "critical")]
    assert summary["alerts"][0]["items"] == ["+$3,000 in Amazon SageMaker"]


def test_run_ends_with_the_daily_digest_built_from_its_own_numbers(world: World) -> None:
    history(world, date(2026, 3, 20))
    world.fake.add("2026-03-19", "vision", 2.5 * 1200, service=SAGEMAKER)  # critical, open on the digest's day
    settings = Settings.model_validate({"budgets": {"monthly_usd": {"recsys": 1_000.0}}})

    summary = daily_run(world, date(2026, 3, 20), settings)

    assert summary["digests_sent"] == 1
    (digest,) = [e for e in world.published(digests=True) if e.kind is AlertKind.DIGEST]
    assert digest.dedup_key == "digest#2026-03-19" and digest.team == "all"
    details = digest.details
    assert details["teams_total"] == len(TEAMS)
    teams = {row[0]: dict(zip(details["team_columns"], row, strict=True)) for row in details["teams"]}
    assert set(teams) == set(TEAMS)
    assert details["budget_counts"]["OVER_BUDGET"] == 1  # recsys: 1,000 USD budget, far above it by mid-month
    assert [(a["team"], a["severity"]) for a in details["anomalies"]] == [("vision", "critical")]
    assert details["anomalies"][0]["top_service"].endswith(" in Amazon SageMaker")
    assert digest.severity is Severity.WARNING  # a critical anomaly and a team over budget


def test_next_days_digest_still_names_the_driver_of_an_open_episode(world: World) -> None:
    history(world, date(2026, 3, 21))
    world.fake.add("2026-03-19", "vision", 2.5 * 1200, service=SAGEMAKER)
    daily_run(world, date(2026, 3, 20))
    world.published(digests=True)

    summary = daily_run(world, date(2026, 3, 21))  # no new alert: the episode is still open, its driver remembered

    assert summary["alerts"] == []
    (digest,) = [e for e in world.published(digests=True) if e.kind is AlertKind.DIGEST]
    (anomaly,) = digest.details["anomalies"]
    assert anomaly["team"] == "vision"
    assert anomaly["top_service"].endswith(" in Amazon SageMaker")
