"""Idle scan edge cases on moto: request growth at scale, failing regions and metric reads, configured keys."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics, batch_size
from costwarden.models.idle_ports import MetricQuery
from costwarden.settings import parse_settings

from tests.functional.idle.idle_env import IdleAccount, constant

DEV = {"environment": "development"}


def test_metric_reads_grow_with_batches_of_500_not_with_metrics(idle_account: IdleAccount) -> None:
    """GetMetricData: ceil(n / 500) calls for n metrics (moto serialises 1,000 EC2 instances slowly, so this reads
    the adapter directly; the scan's own count is asserted on the story account and in bench/bench_idle.py)."""
    for index in range(3):
        idle_account.cpu(f"i-{index:017x}", constant(float(index)))
    metrics = CloudWatchMetrics(idle_account.counted)
    queries = [
        MetricQuery("AWS/EC2", "CPUUtilization", (("InstanceId", f"i-{n:017x}"),), "Average", 3600) for n in range(1100)
    ]
    start, end = idle_account.now - timedelta(days=7), idle_account.now
    batch = metrics.fetch("us-east-1", queries, start, end)
    assert idle_account.requests["GetMetricData"] == batch.requests == math.ceil(1100 / 500)
    assert metrics.metrics_requested == 1100
    assert len(batch.points[2]) == 7 * 24 and not batch.failed
    # 14 days of 5-minute points would pass the 100,800-point response limit at 500 metrics: smaller batches
    fine = [MetricQuery(q.namespace, q.name, q.dimensions, q.stat, 300) for q in queries[:100]]
    assert batch_size(fine, end - timedelta(days=14), end) == 100_800 // (14 * 288)


def test_a_failing_region_is_reported_and_the_others_go_on(idle_account: IdleAccount) -> None:
    box = idle_account.box("m5.xlarge", team="search", **DEV)
    idle_account.cpu(box, constant(1.0))
    idle_account.failing_regions.add("eu-west-1")
    run = idle_account.idle(regions=("us-east-1", "eu-west-1"), publish=False)
    assert [f.id for f in run.findings] == [box]
    assert any(e.startswith("eu-west-1: could not list") for e in run.summary()["errors"])


def test_a_failing_metric_read_is_reported_and_never_read_as_idle(idle_account: IdleAccount) -> None:
    box = idle_account.box("m5.xlarge", team="search", **DEV)
    idle_account.cpu(box, constant(1.0))

    def refuse(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")

    idle_account.counted("cloudwatch", "us-east-1").meta.events.register("before-call.cloudwatch.GetMetricData", refuse)
    run = idle_account.idle(publish=False)
    assert run.findings == []
    assert any("GetMetricData" in e and "AccessDenied" in e for e in run.summary()["errors"])
    assert any("could not be read" in n.reason for n in run.scan.not_judged)


def test_configured_tag_keys_are_used(idle_account: IdleAccount) -> None:
    cfg = parse_settings({"tags": {"team_key": "owner"}, "idle": {"expected_idle_key": "idle-ok"}})
    box = idle_account.box("m5.xlarge", owner="ranking")
    idle_account.cpu(box, constant(1.0))
    quiet = idle_account.box("m5.xlarge", owner="ranking", **{"idle-ok": "true"})
    idle_account.cpu(quiet, constant(1.0))
    run = idle_account.idle(cfg, publish=False)
    assert [(f.id, f.team) for f in run.findings] == [(box, "ranking")]
    assert "idle-ok=true" in run.findings[0].commands[-1]


def test_notebooks_with_an_idle_autostop_lifecycle_are_not_reported(idle_account: IdleAccount) -> None:
    import base64

    sm = idle_account.client("sagemaker")
    scripts = {"autostop": "python autostop.py --time 3600 --ignore-connections", "plain": "pip install -r req.txt"}
    for name, script in scripts.items():
        sm.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=name,
            OnStart=[{"Content": base64.b64encode(script.encode()).decode()}],
        )
        sm.create_notebook_instance(
            NotebookInstanceName=f"nb-{name}",
            InstanceType="ml.t3.medium",
            RoleArn="arn:aws:iam::123456789012:role/x",
            LifecycleConfigName=name,
            Tags=[{"Key": "team", "Value": "vision"}],
        )
    run = idle_account.idle(publish=False)
    found = {f.id: f for f in run.findings}
    assert set(found) == {"nb-plain"}
    assert "lifecycle configuration 'plain' has no idle auto-stop" in found["nb-plain"].evidence
    assert found["nb-plain"].monthly_usd == 0.05 * 730
