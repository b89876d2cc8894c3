"""The deployed functions read the EKS facts: the cost monitor, the idle finder and the monthly report Lambdas on moto
(state table, alert topic, report bucket) with Athena through botocore's Stubber in its real shapes
(tests/support/athena.py). With ``k8s_guard`` on, each handler's run asks the EKS questions in the Athena path's
workgroup and its summary shows the Kubernetes part; with it off, not one Athena call is made for EKS facts (a
Stubber with nothing queued for them fails any). A failed read is said in the summary, never an empty verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.stub import Stubber
from costwarden.settings import Settings, SettingsError
from moto import mock_aws

from tests.functional.advisor.test_handlers import BUCKET, MODELS, PROJECTS
from tests.functional.advisor.test_report_stubbed import SETTINGS as REPORT_SETTINGS
from tests.functional.advisor.test_report_stubbed import expect_daily, expect_monthly
from tests.support.athena import answer, answer_facts, fail
from tests.support.aws import alert_queue, create_state_table
from tests.support.k8s import group_series, node_series

GUARD: dict[str, Any] = {"cost_source": "athena", "k8s_guard": {"enabled": True}}
ATHENA_ONLY: dict[str, Any] = {"cost_source": "athena"}
#: The cost monitor's own question (daily cost by tags), answered empty: the teams are not what is tested here.
TAG_COLUMNS = ("usage_date", "key_0", "key_1", "cost")
START, TODAY = date(2026, 2, 1), date(2026, 3, 20)


@dataclass
class Deployed:
    athena: Stubber
    sql: list[str]
    sqs: Any
    queue: str

    def alerts(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """What the stack gives a function (state table, alert topic, report bucket, their variables) and the cached
    Athena client every adapter of the run uses, stubbed; every query's SQL is recorded as it is sent."""
    from costwarden.adapters import aws

    with mock_aws():
        create_state_table(boto3.client("dynamodb", region_name="us-east-1"), "state")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic, queue = alert_queue(boto3.client("sns", region_name="us-east-1"), sqs, "alerts", raw=True)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        for name, value in (("ALERT_TOPIC_ARN", topic), ("STATE_TABLE_NAME", "state"), ("REPORT_BUCKET_NAME", BUCKET)):
            monkeypatch.setenv(name, value)
        client = aws.client("athena")
        sql: list[str] = []
        client.meta.events.register(
            "provide-client-params.athena.StartQueryExecution", lambda params, **_: sql.append(params["QueryString"])
        )
        with Stubber(client) as stubber:
            yield Deployed(stubber, sql, sqs, queue)


def _settings(monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any]) -> None:
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(settings))


def _event(time: str) -> dict[str, Any]:
    return {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "time": time, "detail": {}}


def _noisy(level: float, count: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [level * float(rng.normal(1, 0.04)) for _ in range(count)]


def _is_eks_question(sql: str) -> bool:
    return "split_line_item_parent_resource_id" in sql


# --- hostile: a misconfiguration names its key, before any AWS request ------------------------------------------


@pytest.mark.parametrize("function", ["cost_monitor", "idle", "report"])
def test_the_guard_without_the_athena_path_is_refused_naming_the_key(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    from costwarden.cli.run import invoke

    _settings(monkeypatch, {"k8s_guard": {"enabled": True}})
    with pytest.raises(SettingsError, match=r"k8s_guard\.enabled needs cost_source: athena"):
        invoke(function, _event("2026-12-01T06:30:00Z"))
    assert deployed.sql == []


# --- the cost monitor -------------------------------------------------------------------------------------------


def _monitor(deployed: Deployed) -> dict[str, Any]:
    from costwarden.handlers.context import LocalContext
    from costwarden.handlers.cost_monitor import handler

    return handler(_event("2026-03-20T08:00:00Z"), LocalContext(function_name="cost_monitor"))


def test_the_cost_monitor_guards_the_namespaces_it_reads_from_athena(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, GUARD)
    days = (TODAY - START).days
    training = group_series("ml-training", [*_noisy(500.0, days - 1, 3), 1050.0], start=START, team="nlp")
    serving = group_series("serving", _noisy(300.0, days, 4), start=START, team="search", gpu_share=0.0)
    trainer = group_series("ml-training/trainer", [*_noisy(400.0, days - 1, 5), 880.0], start=START, by="workload")
    answer(deployed.athena, TAG_COLUMNS, [], query_id="q-tags")
    answer_facts(deployed.athena, training + serving, query_id="q-namespaces")
    answer_facts(deployed.athena, trainer, query_id="q-workloads")
    answer_facts(deployed.athena, [], query_id="q-nodes")
    summary = _monitor(deployed)
    deployed.athena.assert_no_pending_responses()
    assert [_is_eks_question(q) for q in deployed.sql] == [False, True, True, True]
    k8s = summary["k8s"]
    assert (k8s["series"], k8s["alerts"], k8s["requests"], k8s["skipped"]) == (2, 1, 9, [])
    assert [(f["team"], f["severity"]) for f in k8s["findings"]] == [("k8s:prod-gpu/ml-training", "critical")]
    assert [(a["kind"], a["team"]) for a in summary["alerts"]] == [("cost_anomaly", "nlp")]
    anomaly = next(a for a in deployed.alerts() if a["kind"] == "cost_anomaly")
    assert anomaly["details"]["k8s"]["namespace"] == "ml-training"


def test_the_cost_monitor_with_the_guard_off_asks_athena_nothing_about_eks(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, ATHENA_ONLY)
    answer(deployed.athena, TAG_COLUMNS, [], query_id="q-tags")
    summary = _monitor(deployed)
    deployed.athena.assert_no_pending_responses()
    assert [_is_eks_question(q) for q in deployed.sql] == [False]
    assert "k8s" not in summary


def test_the_cost_monitor_says_the_namespaces_were_not_read_when_athena_fails(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, GUARD)
    answer(deployed.athena, TAG_COLUMNS, [], query_id="q-tags")
    fail(
        deployed.athena,
        "COLUMN_NOT_FOUND: line 22:9: Column 'split_line_item_split_cost' cannot be resolved",
        query_id="q",
    )
    summary = _monitor(deployed)
    assert summary["k8s"]["series"] is None and "findings" not in summary["k8s"]
    assert summary["k8s"]["error"] == (
        "not read (2026-01-23 to 2026-03-20): AthenaQueryError: query q FAILED: COLUMN_NOT_FOUND: line 22:9: "
        "Column 'split_line_item_split_cost' cannot be resolved"
    )


# --- the idle finder --------------------------------------------------------------------------------------------


def _lookback() -> tuple[date, date]:
    """The idle finder's lookback as it runs (the handler judges the days before now, whatever the event says)."""
    end = datetime.now(UTC).date()
    return end - timedelta(days=Settings().idle.lookback_days), end


def _idle() -> dict[str, Any]:
    from costwarden.handlers.context import LocalContext
    from costwarden.handlers.idle import handler

    return handler(_event("2026-03-20T08:15:00Z"), LocalContext(function_name="idle"))


def test_the_idle_finder_reports_an_idle_gpu_node_it_reads_from_athena(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, GUARD)
    start, end = _lookback()
    week = [start + timedelta(days=i) for i in range((end - start).days)]
    idle = node_series("i-0idle", week, cost_usd=527.04, gpu_usd=474.34, gpu_unused_usd=450.0, team="vision")
    answer_facts(deployed.athena, idle, query_id="q-nodes")
    summary = _idle()
    deployed.athena.assert_no_pending_responses()
    assert [_is_eks_question(q) for q in deployed.sql] == [True]
    assert summary["k8s"] == {"queries": 1, "requests": 3, "read": True, "errors": []}
    assert summary["kinds"] == {"gpu_idle": 1} and summary["errors"] == []
    assert summary["waste_by_team"] == {"vision": round(450.0 / 24 * 730, 2)}


def test_the_idle_finder_with_the_guard_off_asks_athena_nothing(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, ATHENA_ONLY)
    summary = _idle()
    assert deployed.sql == [] and "k8s" not in summary and summary["findings"] == 0


def test_a_failed_read_is_an_error_of_the_idle_run_never_no_idle_nodes(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, GUARD)
    fail(deployed.athena, "Bytes scanned limit was exceeded", query_id="q-9")
    start, end = _lookback()
    summary = _idle()
    assert summary["k8s"]["read"] is False
    assert summary["k8s"]["errors"] == [
        f"node days {start} to {end}: AthenaQueryError: query q-9 FAILED: Bytes scanned limit was exceeded"
    ]
    assert (
        f"k8s node costs not read ({start} to {end}): AthenaQueryError: query q-9 FAILED: Bytes scanned limit "
        "was exceeded" in summary["errors"]
    )
    assert summary["findings"] == 0


# --- the monthly report -----------------------------------------------------------------------------------------


def _report(settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], str]:
    from costwarden.adapters import aws
    from costwarden.handlers.advisor import report_handler
    from costwarden.handlers.context import LocalContext

    _settings(monkeypatch, {**json.loads(REPORT_SETTINGS.to_env()), **settings})
    with Stubber(aws.client("ce", "us-east-1")) as ce:
        expect_monthly(ce, "model_id", MODELS)
        expect_monthly(ce, "project", PROJECTS)
        expect_daily(ce, date(2026, 10, 1), date(2026, 12, 1))
        summary = report_handler(_event("2026-12-01T06:30:00Z"), LocalContext(function_name="report"))
    page = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=summary["key"])
    return summary, page["Body"].read().decode()


def test_the_monthly_report_has_the_month_s_kubernetes_section_from_athena(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    november = date(2026, 11, 1)
    research = group_series("research", [120.0] * 30, start=november, team="vision")
    answer_facts(deployed.athena, research, query_id="q-namespaces")
    answer_facts(deployed.athena, group_series("research/trainer", [120.0] * 30, start=november), query_id="q-w")
    answer_facts(deployed.athena, [], query_id="q-nodes")
    summary, page = _report(GUARD, monkeypatch)
    deployed.athena.assert_no_pending_responses()
    assert [_is_eks_question(q) for q in deployed.sql] == [True, True, True]
    assert all("'2026-11-01 00:00:00'" in q and "'2026-12-01 00:00:00'" in q for q in deployed.sql)
    assert summary["k8s"] == {"queries": 3, "requests": 9, "read": True, "errors": []}
    assert "research/trainer" in page and "$3,600" in page


def test_the_monthly_report_with_the_guard_off_asks_athena_nothing(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, page = _report(ATHENA_ONLY, monkeypatch)
    assert deployed.sql == [] and "k8s" not in summary and "research" not in page


def test_a_failed_read_leaves_the_report_saying_so_and_the_summary_too(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail(deployed.athena, "Insufficient permissions to execute the query", query_id="q-1")
    summary, page = _report(GUARD, monkeypatch)
    assert summary["k8s"]["read"] is False and summary["k8s"]["queries"] == 1
    assert summary["k8s"]["errors"][0].startswith("namespace days 2026-11-01 to 2026-12-01: AthenaQueryError")
    assert "EKS cost for 2026-11 could not be read" in page and "Insufficient permissions" in page
