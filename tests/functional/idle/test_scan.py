"""The idle scan on moto, every signal and kind, with histories written by PutMetricData (see idle_env.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from costwarden.adapters import aws
from costwarden.idle.model import Kind
from costwarden.settings import parse_settings
from moto import mock_aws

from tests.functional.idle.idle_env import IdleAccount, constant, nightly

DEV = {"environment": "development"}


def story(acc: IdleAccount) -> dict[str, str]:
    """One of every case; returns name -> resource id."""
    ids: dict[str, str] = {}
    ids["gpu_idle_box"] = acc.box("p4d.24xlarge", team="vision", **DEV)
    acc.cpu(ids["gpu_idle_box"], constant(2.0))
    acc.gpu(ids["gpu_idle_box"], constant(1.0), gpus=8)
    ids["busy_gpu"] = acc.box("p4d.24xlarge", team="vision", **DEV)
    acc.cpu(ids["busy_gpu"], constant(6.0))  # a light data loader: the CPU alone would call it idle
    acc.gpu(ids["busy_gpu"], constant(85.0), gpus=8)
    ids["nightly"] = acc.box("p3.2xlarge", team="nlp", environment="experiment")
    acc.cpu(ids["nightly"], constant(3.0))
    acc.gpu(ids["nightly"], nightly(0.0, 90.0))
    ids["cpu_bound_gpu"] = acc.box("g4dn.xlarge", team="nlp", **DEV)
    acc.cpu(ids["cpu_bound_gpu"], constant(61.0))
    acc.gpu(ids["cpu_bound_gpu"], constant(2.0))
    ids["no_gpu_metrics"] = acc.box("g4dn.2xlarge", team="nlp", **DEV)
    acc.cpu(ids["no_gpu_metrics"], constant(40.0))
    ids["sparse"] = acc.box("m5.large", team="search", **DEV)
    acc.cpu(ids["sparse"], constant(1.0), every=timedelta(hours=5))
    ids["expected"] = acc.box("m5.large", team="search", **{"costwarden:expected-idle": "true"})
    acc.cpu(ids["expected"], constant(0.5))
    ids["untagged_idle"] = acc.box("m5.xlarge")
    acc.cpu(ids["untagged_idle"], constant(0.5))
    for member in acc.asg("search-workers", size=2, team="search", environment="experiment"):
        acc.cpu(member, constant(1.5))
    acc.gpu_endpoint("idle-ep", team="nlp", **DEV)
    acc.gpu_endpoint("busy-ep", team="nlp", **DEV)
    acc.invocations("busy-ep", 500.0)
    acc.gpu_endpoint("quiet-ep", count=1, team="nlp", **DEV)
    acc.put(
        "AWS/SageMaker",
        "Invocations",
        {"EndpointName": "quiet-ep", "VariantName": "AllTraffic"},
        constant(1.0),
        hours=20,
    )
    ids["emr_idle"] = acc.emr_cluster("etl-dev", team="data", **DEV)
    acc.is_idle(ids["emr_idle"], 1.0)
    ids["emr_busy"] = acc.emr_cluster("etl-busy", team="data", **DEV)
    acc.is_idle(ids["emr_busy"], 0.0)
    acc.notebook("scratch", team="vision", **DEV)
    ids["volume"] = acc.volume(team="data", **DEV)
    ids["stopped"] = acc.box("m5.large", team="data", **DEV)
    acc.client("ec2").stop_instances(InstanceIds=[ids["stopped"]])
    return ids


@pytest.fixture(scope="module")
def scanned() -> Iterator[tuple[IdleAccount, dict[str, str], Any]]:
    """The story account scanned once for the module's read-only assertions (building it takes seconds)."""
    with mock_aws():
        aws.client.cache_clear()
        acc = IdleAccount()
        ids = story(acc)
        yield acc, ids, acc.idle()
        aws.client.cache_clear()


def by_id(run: Any) -> dict[str, Any]:
    return {f.id: f for f in run.findings}


def test_every_kind_is_found_and_busy_boxes_are_not(scanned: tuple[IdleAccount, dict[str, str], Any]) -> None:
    _, ids, run = scanned
    found = by_id(run)
    assert found[ids["gpu_idle_box"]].kind is Kind.IDLE
    assert found[ids["cpu_bound_gpu"]].kind is Kind.GPU_IDLE
    assert found[ids["cpu_bound_gpu"]].evidence.startswith("GPU 2 % max-hourly over 7 days, CPU 61 %")
    assert found[ids["no_gpu_metrics"]].kind is Kind.NO_METRICS
    assert "enable the CloudWatch agent's nvidia_smi collection" in found[ids["no_gpu_metrics"]].evidence
    assert found["search-workers"].kind is Kind.IDLE and found["search-workers"].type == "autoscaling:group"
    assert found["idle-ep"].kind is Kind.IDLE and found["idle-ep"].evidence.startswith("0 invocations over 7 days")
    assert found["quiet-ep"].kind is Kind.UNDERUSED and "serverless" in found["quiet-ep"].recommendation
    assert found[ids["emr_idle"]].kind is Kind.IDLE and found[ids["emr_idle"]].type == "emr:cluster"
    assert "auto-termination" in found[ids["emr_idle"]].recommendation
    assert found["scratch"].kind is Kind.NO_AUTOSTOP
    assert "no server-side idle metric" in found["scratch"].evidence
    assert found[ids["volume"]].kind is Kind.UNATTACHED
    assert found[ids["stopped"]].kind is Kind.STOPPED
    assert found[ids["untagged_idle"]].team == "unowned"  # untagged instances are listed too
    for busy in ("busy_gpu", "nightly", "emr_busy", "expected"):
        assert ids[busy] not in found, busy
    assert "busy-ep" not in found
    assert ids["sparse"] not in found  # missing data is never read as idle
    assert any(n.arn.endswith(ids["sparse"]) and "have data" in n.reason for n in run.scan.not_judged)
    assert run.scan.expected_idle == 1
    # members of the group and of the EMR cluster are not reported on their own
    assert {f.type for f in run.findings} <= {
        "ec2:instance",
        "autoscaling:group",
        "emr:cluster",
        "sagemaker:endpoint",
        "sagemaker:notebook-instance",
        "ec2:volume",
    }


def test_findings_are_priced_in_usd_per_month_or_null_with_the_reason(
    scanned: tuple[IdleAccount, dict[str, str], Any],
) -> None:
    _, ids, run = scanned
    found = by_id(run)
    assert found[ids["gpu_idle_box"]].monthly_usd == pytest.approx(32.7726 * 730)
    assert found["idle-ep"].monthly_usd == pytest.approx(2 * 0.736 * 730)
    assert found["search-workers"].monthly_usd == pytest.approx(2 * 0.0104 * 730)
    assert found[ids["emr_idle"]].monthly_usd == pytest.approx((0.192 + 2 * 3.06) * 730)
    assert "EMR fee is not included" in found[ids["emr_idle"]].price_note
    assert found[ids["volume"]].monthly_usd == pytest.approx(10 * 0.10)  # moto's default volume type is gp2
    assert found["scratch"].monthly_usd == pytest.approx(0.05 * 730)
    # g4dn.2xlarge is not in the seeded cache and moto has no Price List API: null, with the reason
    assert found[ids["no_gpu_metrics"]].monthly_usd is None
    assert "Price List request failed" in found[ids["no_gpu_metrics"]].price_note
    assert [f.monthly_usd for f in run.findings if f.monthly_usd is not None] == sorted(
        (f.monthly_usd for f in run.findings if f.monthly_usd is not None), reverse=True
    )
    waste = run.scan.waste_by_team()
    assert waste["vision"] == pytest.approx(32.7726 * 730)


def test_requests_grow_with_batches_and_the_scan_reports_its_own_cost(
    scanned: tuple[IdleAccount, dict[str, str], Any],
) -> None:
    acc, _, run = scanned
    summary = run.summary(dict(acc.requests))
    metrics = summary["metrics_queried"]
    assert metrics >= 20
    # one call for the lookback's metrics (< 500 of them), one for EMR's last hours
    assert acc.requests["GetMetricData"] == 2
    # one paged ListMetrics per GPU metric name (moto lists one entry per data point, so it pages more than
    # CloudWatch would: pages grow with data here, still not with calls per instance)
    assert len(parse_settings({}).idle.gpu_metrics) <= acc.requests["ListMetrics"] <= 10
    assert summary["scan_cost_usd"] == pytest.approx(metrics * 0.01 / 1000, abs=1e-4)
