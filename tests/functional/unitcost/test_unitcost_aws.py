"""Unit costs on a simulated account: CloudWatch denominators (moto), the alert on the SNS topic, the idle
finding through the idle finder's run, a training job priced through the Price List adapter, requests counted."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from costwarden.adapters import aws
from costwarden.adapters.bedrock_metrics import BedrockMetrics
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.adapters.idle_describe import AwsDescriber
from costwarden.adapters.pricing import PriceList
from costwarden.adapters.sagemaker_training import TrainingJobs
from costwarden.adapters.sns import publish as sns_publish
from costwarden.adapters.state import MemoryStateStore
from costwarden.idle.run import run_idle
from costwarden.idle.service import Ports
from costwarden.services import unitcost as service
from costwarden.settings import Settings
from costwarden.unitcost import compute
from moto import mock_aws

from tests.functional.advisor.stubs import stubbed_clients
from tests.support.aws import alert_queue
from tests.support.unitcost import days, hosting_days, normalised, put_daily_invocations, received_alerts

REGION = "us-east-1"
FIRST = date(2026, 10, 4)
SWITCH = date(2026, 11, 3)
SPAN = 33
SETTINGS = Settings()


@pytest.fixture
def account() -> Iterator[None]:
    with mock_aws():
        yield


def test_flat_invocations_while_the_instance_price_doubles_raise_one_alert_naming_both(account: None) -> None:
    topic, queue = alert_queue(aws.client("sns", REGION), aws.client("sqs", REGION))
    window = days(FIRST, SPAN)
    moved = {d: "ml.g5.4xlarge" if d >= SWITCH else "ml.g5.xlarge" for d in window}
    # fraud-v3 moves to a twice-as-dear instance with flat traffic; search-v2 keeps its instance, loses half its
    # traffic (its cost per 1k doubles too, but that is traffic, not efficiency).
    put_daily_invocations("fraud-v3", dict.fromkeys(window, 50_000))
    put_daily_invocations("search-v2", {d: 50_000 if d < SWITCH else 25_000 for d in window})
    lines = normalised(
        hosting_days("fraud-v3", "fraud", "fraud-v3", moved)
        + hosting_days("search-v2", "search", "search-v2", dict.fromkeys(window, "ml.g5.xlarge"))
    )
    metrics = CloudWatchMetrics(aws.client)
    usage, errors = service.read_denominators(
        metrics, lines, SETTINGS.unitcost, start=FIRST, end=FIRST + timedelta(days=SPAN), default_region=REGION
    )
    assert errors == []
    assert metrics.requests == {"ListMetrics": 1, "GetMetricData": 1}
    assert usage[usage["model"] == "fraud-v3"]["value"].tolist() == [50_000.0] * SPAN
    run = service.run_unit_costs(
        SETTINGS, lines, usage, store=MemoryStateStore(), publish=lambda e: sns_publish(e, topic),
        now=datetime(2026, 11, 4, 8, tzinfo=UTC),
    )  # fmt: skip
    assert run.errors == []
    (event,) = received_alerts(queue)
    assert event.team == "fraud" and event.kind.value == "unit_cost"
    assert event.title == (
        "fraud: cost per 1k predictions of fraud-v3 doubled: traffic flat, "
        "the endpoint moved from ml.g5.xlarge to ml.g5.4xlarge on the 3rd"
    )
    assert event.details["figures"]["Instances"] == "ml.g5.xlarge -> ml.g5.4xlarge"


def test_zero_invocations_for_the_lookback_with_continuing_cost_is_an_idle_finding(account: None) -> None:
    window = days(date(2026, 11, 1), 7)
    lines = normalised(hosting_days("ocr-v1", "docs", "ocr-v1", dict.fromkeys(window, "ml.g5.xlarge")))
    metrics = CloudWatchMetrics(aws.client)
    usage, errors = service.read_denominators(
        metrics, lines, SETTINGS.unitcost, start=window[0], end=window[-1] + timedelta(days=1), default_region=REGION,
        today=date(2026, 11, 8),
    )  # fmt: skip
    assert errors == [] and set(usage["value"]) == {0.0} and len(usage) == 7
    # Weeks later ListMetrics' two weeks no longer cover the window: the days are unknown, never zero.
    later, _ = service.read_denominators(
        metrics, lines, SETTINGS.unitcost, start=window[0], end=window[-1] + timedelta(days=1), default_region=REGION,
        today=date(2026, 12, 7),
    )  # fmt: skip
    assert later.empty and service.idle_findings(SETTINGS, lines, later) == []
    found = service.idle_findings(SETTINGS, lines, usage)
    store, sent = MemoryStateStore(), []
    ports = Ports(aws.client, metrics, PriceList(aws.client, store), AwsDescriber(aws.client))
    run = run_idle(
        SETTINGS, regions=[REGION], ports=ports, store=store, publish_fn=sent.append,
        now=datetime(2026, 11, 8, 9, tzinfo=UTC), found_elsewhere=found,
    )  # fmt: skip
    (finding,) = run.findings
    assert finding.arn == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ocr-v1"
    assert (finding.kind.value, finding.team) == ("idle", "docs")
    team_alert = next(e for e in sent if e.team == "docs")
    assert any("ocr-v1" in item for item in team_alert.details["items"])


def _job(name: str, seconds: int) -> dict[str, Any]:
    return {
        "TrainingJob": {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}",
            "TrainingJobStatus": "Completed",
            "CreationTime": datetime(2026, 11, 2, 9, tzinfo=UTC),
            "TrainingStartTime": datetime(2026, 11, 2, 9, 5, tzinfo=UTC),
            "TrainingTimeInSeconds": seconds,
            "BillableTimeInSeconds": seconds,
            "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
            "Tags": [{"Key": "team", "Value": "fraud"}, {"Key": "model_id", "Value": "fraud-v3"}],
        }
    }


def test_a_training_jobs_cost_per_run_is_billable_seconds_times_the_price() -> None:
    with stubbed_clients("sagemaker") as ([sagemaker], [stub]):
        stub.add_response("search", {"Results": [_job("fraud-v3-train-1", 5400), _job("fraud-v3-train-2", 3600)]})
        raw, cut = TrainingJobs(REGION, sagemaker).since(datetime(2026, 11, 1, tzinfo=UTC))
    assert not cut
    runs = compute.training_runs(raw, team_key="team", model_key="model_id")
    store = MemoryStateStore()
    store.put(f"price#sagemaker-training#{REGION}", "ml.p3.2xlarge", {"usd": 3.825, "unit": "Hrs", "note": ""})
    price = service.training_price(PriceList(aws.client, store), REGION)
    empty = normalised([{"line_item_usage_start_date": "2026-11-02", "line_item_usage_type": "",
                         "line_item_unblended_cost": "0"}])  # fmt: skip
    report = service.unit_costs(SETTINGS, empty, empty.iloc[0:0].assign(metric=[], value=[]), period="2026-11",
                                runs=runs, price_per_hour=price)  # fmt: skip
    (row,) = [r for r in report.results if r.unit == "training_run"]
    assert row.quantity == 2
    assert row.cost_usd == pytest.approx((5400 + 3600) / 3600 * 3.825)
    assert row.usd_per_unit == pytest.approx((5400 + 3600) / 2 / 3600 * 3.825)
    assert row.usd_per_gpu_hour == pytest.approx(3.825)


@pytest.mark.parametrize("endpoints", [3, 1001])
def test_metric_reads_grow_with_ceil_queries_over_500_not_with_endpoints(account: None, endpoints: int) -> None:
    cw = aws.client("cloudwatch", REGION)
    names = [f"ep-{n:04d}" for n in range(endpoints)]
    when = datetime(2026, 11, 2, 12, tzinfo=UTC)
    data = [
        {"MetricName": "Invocations", "Timestamp": when, "Value": 1.0,
         "Dimensions": [{"Name": "EndpointName", "Value": n}, {"Name": "VariantName", "Value": "AllTraffic"}]}
        for n in names
    ]  # fmt: skip
    for start in range(0, len(data), 1000):
        cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=data[start : start + 1000])
    lines = normalised(row for n in names for row in hosting_days(n, "fraud", n, {date(2026, 11, 2): "ml.g5.xlarge"}))
    metrics = CloudWatchMetrics(aws.client)
    usage, errors = service.read_denominators(
        metrics, lines, SETTINGS.unitcost, start=date(2026, 11, 1), end=date(2026, 11, 3), default_region=REGION
    )
    assert errors == []
    assert metrics.requests["GetMetricData"] == math.ceil(endpoints / 500)
    assert usage.loc[usage["date"] == "2026-11-02", "value"].sum() == endpoints


def test_bedrock_token_metrics_are_read_per_model_in_batches(account: None) -> None:
    cw = aws.client("cloudwatch", REGION)
    ids = [f"arn:aws:bedrock:{REGION}:123456789012:application-inference-profile/app{n:03d}" for n in range(200)]
    when = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)
    for start in range(0, len(ids), 300):
        cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
            {"MetricName": name, "Timestamp": when, "Value": value, "Dimensions": [{"Name": "ModelId", "Value": i}]}
            for i in ids[start : start + 300]
            for name, value in (("Invocations", 2.0), ("InputTokenCount", 1500.0), ("OutputTokenCount", 300.0))
        ])  # fmt: skip
    metrics = CloudWatchMetrics(aws.client)
    reader = BedrockMetrics(metrics)
    assert reader.model_ids(REGION) == sorted(ids)
    reading = reader.read(REGION, ids, when.replace(hour=0, minute=0), when.replace(hour=23, minute=0))
    assert reading.errors == [] and reading.requests == math.ceil(3 * len(ids) / 500)
    assert reading.total(ids[7], "InputTokenCount") == 1500.0
    assert reading.total(ids[7], "OutputTokenCount") == 300.0
    assert reading.total("never-called", "Invocations") == 0.0


def test_a_region_whose_metrics_cannot_be_listed_is_an_error_not_zero_traffic() -> None:
    lines = normalised(hosting_days("ocr-v1", "docs", "ocr-v1", {date(2026, 11, 2): "ml.g5.xlarge"}))

    class Refusing:
        """A CloudWatch client whose every call is refused, as for a role without cloudwatch:ListMetrics."""

        def get_paginator(self, _name: str) -> Any:
            raise PermissionError("AccessDenied: cloudwatch:ListMetrics")

    def no_credentials(_service: str, _region: str) -> Any:
        return Refusing()

    usage, errors = service.read_denominators(
        CloudWatchMetrics(no_credentials), lines, SETTINGS.unitcost,
        start=date(2026, 11, 1), end=date(2026, 11, 3), default_region=REGION,
    )  # fmt: skip
    assert usage.empty
    assert len(errors) == 1 and errors[0].startswith("us-east-1: ListMetrics AWS/SageMaker Invocations failed")
    assert service.idle_findings(SETTINGS, lines, usage) == []


def test_a_custom_denominator_is_read_from_its_own_metric(account: None) -> None:
    cw = aws.client("cloudwatch", REGION)
    dims = [{"Name": "Service", "Value": "fraud-scoring"}]
    cw.put_metric_data(Namespace="FraudService", MetricData=[
        {"MetricName": "TransactionsScored", "Dimensions": dims, "Value": 4_000.0,
         "Timestamp": datetime(2026, 11, 2, h, tzinfo=UTC)}
        for h in (9, 15)
    ])  # fmt: skip
    settings = Settings.model_validate({"unitcost": {"custom_denominators": {"fraud-v3": {
        "namespace": "FraudService", "metric": "TransactionsScored", "dimensions": {"Service": "fraud-scoring"},
        "unit": "1k_transactions"}}}})  # fmt: skip
    lines = normalised(hosting_days("fraud-v3", "fraud", "fraud-v3", {date(2026, 11, 2): "ml.g5.xlarge"}))
    metrics = CloudWatchMetrics(aws.client)
    usage, errors = service.read_denominators(
        metrics, lines, settings.unitcost, start=date(2026, 11, 2), end=date(2026, 11, 3), default_region=REGION,
        today=date(2026, 11, 3),
    )  # fmt: skip
    assert errors == [] and metrics.requests["GetMetricData"] == 1
    custom = usage[usage["metric"] == "1k_transactions"]
    assert custom[["date", "model", "value"]].values.tolist() == [["2026-11-02", "fraud-v3", 8_000.0]]
    report = service.unit_costs(settings, lines, usage, period="2026-11-02")
    (row,) = [r for r in report.results if r.unit == "1k_transactions"]
    assert row.usd_per_unit == pytest.approx(24 * 1.41 / 8)
