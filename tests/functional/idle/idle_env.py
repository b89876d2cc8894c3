"""moto fixtures for the idle finder: the reaper's simulated account plus metric histories and seeded prices.

moto computes no metric of its own: every history here is written with ``PutMetricData``. Its ``GetMetricData``
may ignore the namespace when dimensions are given (the same metric name in two namespaces gets averaged), so every
test metric has a distinct name *and* dimension set: ``CPUUtilization``/InstanceId (AWS/EC2),
``nvidia_smi_utilization_gpu``/InstanceId+index+name (CWAgent), ``Invocations``/EndpointName+VariantName
(AWS/SageMaker), ``IsIdle``/JobFlowId (AWS/ElasticMapReduce) — no two share a name.

Time: moto stamps launch, creation and stop times with the real clock, so the scan runs ``SCAN_AGE`` later (NOW):
resources are then older than the 7-day lookback, and the histories are written for the week before NOW.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from costwarden.adapters import aws
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.adapters.idle_describe import AwsDescriber
from costwarden.adapters.pricing import PriceList
from costwarden.idle.run import IdleRun, run_idle
from costwarden.idle.service import Ports
from costwarden.reaper.execute import write_audit
from costwarden.settings import Settings, parse_settings
from moto import mock_aws

from tests.functional.reaper.reaper_env import ROLE, Account, tag_list

SCAN_AGE = timedelta(days=10)
HOURS = 7 * 24

#: On-demand prices seeded into the state table's price cache (the Price List adapter's own tests cover the API).
PRICES: dict[tuple[str, str], tuple[float, str]] = {
    ("ec2", "p4d.24xlarge"): (32.7726, "Hrs"),
    ("ec2", "p3.2xlarge"): (3.06, "Hrs"),
    ("ec2", "g4dn.xlarge"): (0.526, "Hrs"),
    ("ec2", "m5.xlarge"): (0.192, "Hrs"),
    ("ec2", "m5.large"): (0.096, "Hrs"),
    ("ec2", "t3.micro"): (0.0104, "Hrs"),
    ("sagemaker-hosting", "ml.g4dn.xlarge"): (0.736, "Hrs"),
    ("sagemaker-hosting", "ml.m5.large"): (0.115, "Hrs"),
    ("sagemaker-notebook", "ml.t3.medium"): (0.05, "Hrs"),
    ("ebs", "gp2"): (0.10, "GB-Mo"),
    ("ebs", "gp3"): (0.08, "GB-Mo"),
}

Shape = Callable[[datetime], float]


def constant(value: float) -> Shape:
    return lambda moment: value


def nightly(base: float, peak: float, start_hour: int = 1, hours: int = 2) -> Shape:
    return lambda moment: peak if start_hour <= moment.hour < start_hour + hours else base


@dataclass
class IdleAccount(Account):
    """The reaper's account, with typed boxes, metric writers and the idle finder's run."""

    now: datetime = field(default_factory=lambda: (datetime.now(UTC) + SCAN_AGE).replace(minute=30, second=0))
    requests: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for (service, name), (usd, unit) in PRICES.items():
            for region in ("us-east-1", "eu-west-1"):
                self.state.put(f"price#{service}#{region}", name, {"usd": usd, "unit": unit, "note": ""})

    def counted(self, service: str, region: str) -> Any:
        client = self.clients(service, region)
        if not getattr(client, "_idle_counted", False):
            client.meta.events.register("before-send", self._count)
            client._idle_counted = True
        return client

    def _count(self, **kwargs: Any) -> None:
        with self.lock:
            self.requests[str(kwargs["event_name"]).rsplit(".", 1)[-1]] += 1

    # -- resources ----------------------------------------------------------------------------------------
    def box(self, instance_type: str, region: str = "us-east-1", **tags: str) -> str:
        spec = [{"ResourceType": "instance", "Tags": tag_list(tags)}] if tags else []
        out = self.client("ec2", region).run_instances(
            ImageId=self.ami(region), MinCount=1, MaxCount=1, InstanceType=instance_type, TagSpecifications=spec
        )
        return str(out["Instances"][0]["InstanceId"])

    def gpu_endpoint(self, name: str, count: int = 2, region: str = "us-east-1", **tags: str) -> None:
        sm = self.client("sagemaker", region)
        sm.create_model(ModelName=f"m-{name}", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
        sm.create_endpoint_config(
            EndpointConfigName=f"c-{name}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"m-{name}",
                    "InitialInstanceCount": count,
                    "InstanceType": "ml.g4dn.xlarge",
                }
            ],
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"c-{name}", Tags=tag_list(tags))

    def emr_cluster(self, name: str, region: str = "us-east-1", **tags: str) -> str:
        groups = [
            {"InstanceRole": "MASTER", "InstanceType": "m5.xlarge", "InstanceCount": 1},
            {"InstanceRole": "CORE", "InstanceType": "p3.2xlarge", "InstanceCount": 2},
        ]
        return self.job_flow(name, region, {"InstanceGroups": groups}, tags)

    # -- metric histories (PutMetricData) -----------------------------------------------------------------
    def put(
        self,
        namespace: str,
        name: str,
        dimensions: dict[str, str],
        shape: Shape,
        *,
        hours: int = HOURS,
        every: timedelta = timedelta(hours=1),
        region: str = "us-east-1",
        end: datetime | None = None,
    ) -> None:
        end = end or self.now
        dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
        moments, moment = [], end - timedelta(hours=hours)
        while moment < end:
            moments.append(moment)
            moment += every
        data = [{"MetricName": name, "Dimensions": dims, "Timestamp": m, "Value": shape(m)} for m in moments]
        cw = self.client("cloudwatch", region)
        for start in range(0, len(data), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])

    def cpu(self, instance_id: str, shape: Shape, region: str = "us-east-1", **kw: Any) -> None:
        self.put("AWS/EC2", "CPUUtilization", {"InstanceId": instance_id}, shape, region=region, **kw)

    def gpu(self, instance_id: str, shape: Shape, gpus: int = 1, region: str = "us-east-1") -> None:
        for index in range(gpus):
            dims = {"InstanceId": instance_id, "index": str(index), "name": "NVIDIA A100-SXM4-40GB"}
            self.put("CWAgent", "nvidia_smi_utilization_gpu", dims, shape, region=region)

    def invocations(self, endpoint: str, per_hour: float, region: str = "us-east-1") -> None:
        dims = {"EndpointName": endpoint, "VariantName": "AllTraffic"}
        self.put("AWS/SageMaker", "Invocations", dims, constant(per_hour), region=region)

    def is_idle(self, cluster_id: str, value: float, region: str = "us-east-1") -> None:
        self.put(
            "AWS/ElasticMapReduce",
            "IsIdle",
            {"JobFlowId": cluster_id},
            constant(value),
            hours=3,
            every=timedelta(minutes=5),
            region=region,
        )

    # -- the idle finder ----------------------------------------------------------------------------------
    def ports(self) -> tuple[Ports, CloudWatchMetrics]:
        metrics = CloudWatchMetrics(self.counted)
        prices = PriceList(self.counted, self.state)
        return Ports(self.counted, metrics, prices, AwsDescriber(self.counted)), metrics

    def idle(
        self,
        cfg: Settings | None = None,
        *,
        regions: tuple[str, ...] = ("us-east-1",),
        apply: bool = False,
        now: datetime | None = None,
        publish: bool = True,
    ) -> IdleRun:
        settings = cfg or parse_settings({})
        ports, _ = self.ports()

        def audit(run_id: str, started_at: datetime, dry_run: bool, decisions: Any) -> str | None:
            return write_audit(self.state, settings, run_id, started_at, dry_run, decisions)

        return run_idle(
            settings,
            regions=regions,
            ports=ports,
            store=self.state,
            audit=audit,
            publish_fn=self.record if publish else None,
            apply=apply,
            now=now or self.now,
        )


@pytest.fixture
def idle_account() -> Iterator[IdleAccount]:
    with mock_aws():
        aws.client.cache_clear()
        yield IdleAccount()
        aws.client.cache_clear()
