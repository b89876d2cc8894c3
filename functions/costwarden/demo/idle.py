"""Demo chapter: the idle finder. The GPU boxes, endpoints and clusters that cost money and do nothing — priced per
team, told to the team, and (with ``idle.action: expire``) handed to the reaper with a grace period.

It runs in its own region (us-west-2) so the reaper chapter's resources stay out of it, and on the real clock plus
ten days: moto stamps launch times with the real clock, and a resource younger than the 7-day lookback is not
judged. moto computes no metrics, so the chapter writes a week of CloudWatch history for each resource; moto has no
Price List API either, so it seeds the price cache (the state table) with public on-demand prices.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse

from costwarden.adapters.state import DynamoStateStore
from costwarden.core.money import usd
from costwarden.demo.env import DemoEnv
from costwarden.digest.sources import load_idle_summary
from costwarden.idle.run import run_idle
from costwarden.idle.table import render_table
from costwarden.models.alert import AlertKind
from costwarden.reaper.execute import run_reaper, write_audit
from costwarden.services.idle import aws_ports

REGION = "us-west-2"
AMI = "ami-12345678"
#: Public us-west-2 on-demand prices (USD per hour), seeded into the 30-day price cache.
PRICES = {
    ("ec2", "p4d.24xlarge"): 32.7726,
    ("ec2", "p3.2xlarge"): 3.06,
    ("ec2", "g4dn.xlarge"): 0.526,
    ("ec2", "m5.xlarge"): 0.192,
    ("ec2", "r5.2xlarge"): 0.504,
    ("sagemaker-hosting", "ml.g4dn.xlarge"): 0.736,
}


class _Clients:
    """One client per (service, region) on the local server (boto3 loads each service model once)."""

    def __init__(self, env: DemoEnv) -> None:
        self.env = env
        self.cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        if (service, region) not in self.cache:
            client = self.env.client(service, region)
            if service == "emr":
                client.meta.events.register("before-call.emr.GetAutoTerminationPolicy", _no_auto_termination)
            self.cache[(service, region)] = client
        return self.cache[(service, region)]


#: What the narration says about the one EMR call the simulator lacks.
AUTO_TERMINATION_NOTE = (
    "(moto does not implement EMR GetAutoTerminationPolicy: the demo answers it as AWS does for a cluster without "
    "a policy, an empty response)"
)


def _no_auto_termination(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """GetAutoTerminationPolicy as AWS answers it for a cluster that has no policy: 200 and no
    ``AutoTerminationPolicy`` key. moto raises NotImplementedError (a server-side traceback on the screen)."""
    return AWSResponse("simulated://emr", 200, {}, None), {}  # type: ignore[arg-type]


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class _Account:
    def __init__(self, clients: _Clients, now: datetime) -> None:
        self.ec2 = clients("ec2", REGION)
        self.cw = clients("cloudwatch", REGION)
        self.sm = clients("sagemaker", REGION)
        self.emr = clients("emr", REGION)
        self.now = now

    def box(self, name: str, instance_type: str, **tags: str) -> str:
        spec = [{"ResourceType": "instance", "Tags": _tags({"Name": name, **tags})}]
        out = self.ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, InstanceType=instance_type, TagSpecifications=spec
        )
        return str(out["Instances"][0]["InstanceId"])

    def history(self, namespace: str, name: str, dims: dict[str, str], value: Any, *, hours: int = 170) -> None:
        """``value(moment)`` every hour for the last ``hours`` hours (5 minutes apart for EMR's IsIdle)."""
        step = timedelta(minutes=5) if name == "IsIdle" else timedelta(hours=1)
        moment, data = self.now - timedelta(hours=hours), []
        while moment < self.now:
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    "Timestamp": moment,
                    "Value": float(value(moment)),
                }
            )
            moment += step
        for start in range(0, len(data), 500):
            self.cw.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])

    def gpus(self, instance_id: str, count: int, value: Any) -> None:
        for index in range(count):
            dims = {"InstanceId": instance_id, "index": str(index), "name": "NVIDIA A100-SXM4-40GB"}
            self.history("CWAgent", "nvidia_smi_utilization_gpu", dims, value)

    def cpu(self, instance_id: str, value: Any) -> None:
        self.history("AWS/EC2", "CPUUtilization", {"InstanceId": instance_id}, value)

    def endpoint(self, name: str, **tags: str) -> None:
        self.sm.create_model(
            ModelName=f"m-{name}",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/demo",
            PrimaryContainer={"Image": "i"},
        )
        self.sm.create_endpoint_config(
            EndpointConfigName=f"c-{name}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"m-{name}",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.g4dn.xlarge",
                }
            ],
        )
        self.sm.create_endpoint(EndpointName=name, EndpointConfigName=f"c-{name}", Tags=_tags(tags))

    def build(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        dev = {"environment": "development"}

        def nightly(moment: datetime) -> float:
            return 92.0 if 1 <= moment.hour < 3 else 0.5

        ids["GPU training box idle since last month (vision)"] = box = self.box(
            "vision-pretrain-old", "p4d.24xlarge", team="vision", **dev
        )
        self.cpu(box, lambda m: 2.0)
        self.gpus(box, 8, lambda m: 0.0)
        ids["busy GPU box (vision)"] = box = self.box("vision-pretrain", "p4d.24xlarge", team="vision", **dev)
        self.cpu(box, lambda m: 7.0)
        self.gpus(box, 8, lambda m: 88.0)
        ids["nightly 2-hour training job (nlp)"] = box = self.box(
            "nlp-nightly", "p3.2xlarge", team="nlp", environment="experiment"
        )
        self.cpu(box, lambda m: 3.0)
        self.gpus(box, 1, nightly)
        ids["CPU-bound GPU box (nlp)"] = box = self.box("nlp-preprocess", "g4dn.xlarge", team="nlp", **dev)
        self.cpu(box, lambda m: 61.0)
        self.gpus(box, 1, lambda m: 2.0)
        self.endpoint("nlp-ranker-old", team="nlp", **dev)
        ids["idle endpoint (nlp)"] = "nlp-ranker-old"
        self.endpoint("nlp-ranker", team="nlp", **dev)
        self.history(
            "AWS/SageMaker", "Invocations", {"EndpointName": "nlp-ranker", "VariantName": "AllTraffic"}, lambda m: 900
        )
        ids["busy endpoint (nlp)"] = "nlp-ranker"
        cluster = self.emr.run_job_flow(
            Name="data-etl-dev",
            ReleaseLabel="emr-7.2.0",
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
            Instances={
                "InstanceGroups": [
                    {"InstanceRole": "MASTER", "InstanceType": "m5.xlarge", "InstanceCount": 1},
                    {"InstanceRole": "CORE", "InstanceType": "r5.2xlarge", "InstanceCount": 4},
                ],
                "KeepJobFlowAliveWhenNoSteps": True,
            },
            Tags=_tags({"team": "data", "environment": "production"}),
        )["JobFlowId"]
        self.history("AWS/ElasticMapReduce", "IsIdle", {"JobFlowId": cluster}, lambda m: 1, hours=3)
        ids["idle EMR cluster (data, production)"] = cluster
        return ids


def _counts(requests: dict[str, int]) -> str:
    """``{'ListMetrics': 8, 'GetMetricData': 2}`` as the narration says it: ``8 ListMetrics, 2 GetMetricData``."""
    return ", ".join(f"{count} {name}" for name, count in requests.items()) or "none"


def chapter(env: DemoEnv) -> None:
    now = (datetime.now(UTC) + timedelta(days=10)).replace(minute=30, second=0, microsecond=0)
    # Marks are written (and acted on later) only when the reaper is out of dry run: the same switch for both.
    settings = env.use_settings({"idle": {"action": "expire"}, "reaper": {"dry_run": False, "max_actions_per_run": 25}})
    clients = _Clients(env)
    account = _Account(clients, now)
    ids = account.build()
    state = DynamoStateStore(env.state_table_name, dynamodb_resource=None)
    for (service, name), price in PRICES.items():
        state.put(f"price#{service}#{REGION}", name, {"usd": price, "unit": "Hrs", "note": ""}, ttl_days=30)
    env.say(
        "Weeks later, in another region: a cluster that idles since last month is its team's baseline, so the anomaly "
        "detector stays quiet, and it carries no expires_at, so the reaper never looks at it. The idle finder reads "
        "a week of CloudWatch (CPU, the agent's GPU metrics, endpoint invocations, EMR IsIdle) in batches of 500 "
        "metrics per call, judges each resource (a nightly job is busy; a GPU box whose CPU works but GPU idles is "
        "'gpu_idle') and prices it with the on-demand price (Price List API, cached 30 days)."
    )
    env.say("")
    env.say(
        f"The account in {REGION} ({now:%Y-%m-%d %H:%M} UTC; idle.action: expire, grace 3 days; reaper.dry_run off):"
    )
    for label, rid in ids.items():
        env.say(f"  {label:50} {rid}")

    env.say("\n1) costwarden idle: the findings, USD per month first")
    env.say(f"  {AUTO_TERMINATION_NOTE}")
    ports = aws_ports(clients, state, settings)
    run = run_idle(
        settings,
        regions=[REGION],
        ports=ports,
        store=state,
        audit=functools.partial(write_audit, state, settings),
        publish_fn=env.publish,
        apply=not settings.reaper.dry_run,
        now=now,
    )
    env.say(render_table([f.to_dict() for f in run.findings]))
    summary = run.summary(dict(ports.metrics.requests))  # type: ignore[attr-defined]
    env.say(
        f"-> {summary['findings']} findings, {usd(summary['waste_usd_per_month'])}/month of waste; "
        f"requests {_counts(summary['requests'])}; {summary['metrics_queried']} metrics read for "
        f"~{summary['scan_cost_usd']} USD"
    )
    env.say("\n2) idle.action: expire — development/experiment resources get a grace expiry; production never")
    for decision in run.decisions:
        env.say(f"  {decision.action} {decision.id}: {decision.status.value} — {decision.reason[:150]}")
    found = {f.id: f.kind.value for f in run.findings}
    failures = []
    expected = {
        ids["GPU training box idle since last month (vision)"]: "idle",
        ids["CPU-bound GPU box (nlp)"]: "gpu_idle",
        "nlp-ranker-old": "idle",
        ids["idle EMR cluster (data, production)"]: "idle",
    }
    if found != expected:
        failures.append(f"findings {found} != {expected}")

    idle_line = load_idle_summary(state, now=now)
    if idle_line is not None:
        env.say(
            f"\n3) The next digest carries the line: Idle: {idle_line.resources} resources, "
            f"{usd(idle_line.waste_usd)}/month"
        )
    env.say("\n4) The reaper's next hourly run warns the owners of the marked resources (72 h before their expiry)")
    result = run_reaper(
        settings, regions=[REGION], clients=clients, state=state, publish_fn=env.publish, now=now + timedelta(hours=1)
    )
    warned = [e for e in result.events if e.kind is AlertKind.EXPIRY_WARNING]
    for event in warned:
        env.say(f"  expiry warning to {event.team}: {event.title}")
    marked = {d.id for d in run.decisions if d.action == "idle-mark" and d.status.value == "done"}
    if {e.details["arn"].rsplit("/", 1)[-1] for e in warned} != marked or not marked:
        failures.append(f"warned {len(warned)} for marked {sorted(marked)}")
    if failures:
        raise RuntimeError("idle chapter: " + "; ".join(failures))
