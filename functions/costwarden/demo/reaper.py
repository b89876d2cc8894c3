"""Demo chapter: the reaper. A plan first (dry run), then the same run applied — and proof that nothing outside the
plan was touched.

The simulated account gets expired and live EC2 instances, an expired Auto Scaling "cluster", EMR clusters (one
with termination protection), an EKS node group, a SageMaker notebook and endpoint, a protected and a production
instance, a member of a live cluster carrying an expired tag, a malformed tag, an instance expiring within a day
(warned) and an experiment without any expiry (reported).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from costwarden.adapters import aws
from costwarden.adapters.state import DynamoStateStore
from costwarden.demo.env import DemoEnv
from costwarden.demo.timeline import REAPER_AT
from costwarden.reaper.execute import RunResult, run_reaper
from costwarden.reaper.table import render_table
from costwarden.resources.model import Status

ROLE = "arn:aws:iam::123456789012:role/demo"
AMI = "ami-12345678"
#: Between the dry run's plan and applying it.
APPLY_DELAY = timedelta(minutes=10)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass
class _Account:
    env: DemoEnv
    now: datetime

    def __post_init__(self) -> None:
        self.ec2 = self.env.client("ec2")
        self.asg = self.env.client("autoscaling")
        self.emr = self.env.client("emr")
        self.eks = self.env.client("eks")
        self.sm = self.env.client("sagemaker")
        self.expired = (self.now - timedelta(days=3)).date().isoformat()
        self.live = (self.now + timedelta(days=30)).date().isoformat()
        self.soon = (self.now + timedelta(hours=20)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    def instance(self, name: str, **tags: str) -> str:
        spec = [{"ResourceType": "instance", "Tags": _tags({"Name": name, **tags})}]
        out = self.ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="g5.xlarge", TagSpecifications=spec
        )
        return str(out["Instances"][0]["InstanceId"])

    def fleet(self, name: str, size: int, **tags: str) -> list[str]:
        self.ec2.create_launch_template(
            LaunchTemplateName=f"lt-{name}", LaunchTemplateData={"ImageId": AMI, "InstanceType": "g5.xlarge"}
        )
        self.asg.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": f"lt-{name}"},
            MinSize=size,
            MaxSize=size,
            DesiredCapacity=size,
            AvailabilityZones=[f"{self.env.region}a"],
            Tags=[
                {
                    "Key": k,
                    "Value": v,
                    "PropagateAtLaunch": True,
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                }
                for k, v in tags.items()
            ],
        )
        groups = self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
        return [i["InstanceId"] for i in groups[0]["Instances"]]

    def emr_cluster(self, name: str, protected: bool, **tags: str) -> str:
        out = self.emr.run_job_flow(
            Name=name,
            ReleaseLabel="emr-7.2.0",
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
            Instances={
                "MasterInstanceType": "m5.xlarge",
                "SlaveInstanceType": "r5.2xlarge",
                "InstanceCount": 4,
                "KeepJobFlowAliveWhenNoSteps": True,
                "TerminationProtected": protected,
            },
            Tags=_tags(tags),
        )
        return str(out["JobFlowId"])

    def build(self) -> dict[str, str]:
        """Create the account's resources; return label → id, the labels the narration uses."""
        ids: dict[str, str] = {}
        vision = {"team": "vision", "environment": "experiment"}
        nlp = {"team": "nlp", "environment": "experiment"}
        ids["expired instance (vision)"] = self.instance("resnet-sweep-1", **vision, expires_at=self.expired)
        ids["expired, stopped instance (vision)"] = self.instance("resnet-sweep-2", **vision, expires_at=self.expired)
        self.ec2.stop_instances(InstanceIds=[ids["expired, stopped instance (vision)"]])
        ids["live instance (vision)"] = self.instance("resnet-eval", **vision, expires_at=self.live)
        ids["instance expiring in 20 h (nlp)"] = self.instance("bert-ablation", **nlp, expires_at=self.soon)
        ids["protected expired instance (nlp)"] = self.instance(
            "bert-golden", **nlp, expires_at=self.expired, **{"costwarden:protect": "true"}
        )
        ids["production expired instance (nlp)"] = self.instance(
            "bert-serving", team="nlp", environment="production", expires_at=self.expired
        )
        ids["malformed tag (vision)"] = self.instance("yolo-test", **vision, expires_at="31/12/2026")
        ids["experiment without expiry (nlp)"] = self.instance("bert-scratch", **nlp)
        expired_fleet = self.fleet("vision-train-fleet", 3, **vision, expires_at=self.expired)
        ids["expired ASG vision-train-fleet"] = "vision-train-fleet"
        ids["  member of the expired ASG"] = expired_fleet[0]
        live_fleet = self.fleet("nlp-serving-fleet", 2, **nlp, expires_at=self.live)
        ids["live ASG nlp-serving-fleet"] = "nlp-serving-fleet"
        self.ec2.create_tags(Resources=[live_fleet[0]], Tags=[{"Key": "expires_at", "Value": self.expired}])
        ids["  member of the live ASG, tagged expired"] = live_fleet[0]
        ids["expired EMR cluster"] = self.emr_cluster("nlp-etl", False, **nlp, expires_at=self.expired)
        ids["expired EMR cluster, termination-protected"] = self.emr_cluster(
            "nlp-etl-keep", True, **nlp, expires_at=self.expired
        )
        self.eks.create_cluster(name="ml", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-demo"]})
        self.eks.create_nodegroup(
            clusterName="ml",
            nodegroupName="gpu-a100-sweep",
            subnets=["subnet-demo"],
            nodeRole=ROLE,
            tags={**vision, "expires_at": self.expired},
        )
        ids["expired EKS node group ml/gpu-a100-sweep"] = "gpu-a100-sweep"
        self.sm.create_notebook_instance(
            NotebookInstanceName="vision-explore",
            InstanceType="ml.p3.2xlarge",
            RoleArn=ROLE,
            Tags=_tags({**vision, "expires_at": self.expired}),
        )
        ids["expired SageMaker notebook"] = "vision-explore"
        self.sm.create_model(ModelName="bert-demo", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "bert:latest"})
        self.sm.create_endpoint_config(
            EndpointConfigName="bert-demo-config",
            ProductionVariants=[
                {
                    "VariantName": "a",
                    "ModelName": "bert-demo",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.g4dn.xlarge",
                }
            ],
            Tags=_tags({**nlp, "expires_at": self.expired}),
        )
        self.sm.create_endpoint(
            EndpointName="bert-demo",
            EndpointConfigName="bert-demo-config",
            Tags=_tags({**nlp, "expires_at": self.expired}),
        )
        ids["expired SageMaker endpoint"] = "bert-demo"
        return ids

    def snapshot(self) -> dict[str, str]:
        """Every resource's state by id: what "touched" is measured against."""
        state: dict[str, str] = {}
        for page in self.ec2.get_paginator("describe_instances").paginate():
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    state[instance["InstanceId"]] = instance["State"]["Name"]
        for group in self.asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
            state[group["AutoScalingGroupName"]] = group.get("Status") or "InService"
        for cluster in self.emr.list_clusters()["Clusters"]:
            state[cluster["Id"]] = cluster["Status"]["State"]
        for cluster in self.eks.list_clusters()["clusters"]:
            for name in self.eks.list_nodegroups(clusterName=cluster)["nodegroups"]:
                state[name] = self.eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"][
                    "status"
                ]
        for notebook in self.sm.list_notebook_instances()["NotebookInstances"]:
            state[notebook["NotebookInstanceName"]] = notebook["NotebookInstanceStatus"]
        for endpoint in self.sm.list_endpoints()["Endpoints"]:
            state[endpoint["EndpointName"]] = endpoint["EndpointStatus"]
        for config in self.sm.list_endpoint_configs()["EndpointConfigs"]:
            state[config["EndpointConfigName"]] = "exists"
        return state


def _run(env: DemoEnv, *, apply: bool, now: datetime) -> RunResult:
    from costwarden.settings import load_settings

    return run_reaper(
        load_settings(),
        regions=[env.region],
        clients=aws.client,
        state=DynamoStateStore(env.state_table_name),
        publish_fn=env.publish,
        dry_run=not apply,
        now=now,
    )


def _show(env: DemoEnv, result: RunResult, *, acted_only: bool = False) -> None:
    """The run's decisions as ``costwarden reap`` prints them (only what was acted on, when ``acted_only``)."""
    decisions = [d for d in result.decisions if not acted_only or d.status in (Status.DONE, Status.FAILED)]
    env.say(render_table([d.to_dict() for d in decisions]))
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
    env.say(f"-> {counts}; blocked: {result.blocked}; source errors: {len(result.errors)}")


def _check(condition: bool, message: str, failures: list[str]) -> None:
    if not condition:
        failures.append(message)


def chapter(env: DemoEnv, now_fn: Callable[[], datetime] = lambda: REAPER_AT) -> None:
    now = now_fn().replace(microsecond=0)
    env.use_settings({"reaper": {"max_actions_per_run": 25}})
    account = _Account(env, now)
    labels = account.build()
    env.say(
        f"Simulated, the night before the digest ({now:%Y-%m-%d %H:%M} UTC): experiments carry an expires_at tag; "
        "once it has passed, the reaper stops, terminates or deletes them (never production or protected ones, "
        "never a malformed date) and warns the owners 24 h ahead. Every decision is written to an audit log."
    )
    env.say(
        "In your account it runs every hour, in dry run (plan and report only) until you switch reaper.dry_run off. "
        "Below: the plan, the same plan applied, and the next hourly run."
    )
    env.say("")
    env.say(f"The account holds {len(labels)} resources worth talking about (expired = {account.expired}):")
    for label, rid in labels.items():
        env.say(f"  {label:45} {rid}")

    env.say("\n1) costwarden reap (dry run, the default): the plan, and why, for every resource")
    before = account.snapshot()
    plan = _run(env, apply=False, now=now)
    _show(env, plan)
    failures: list[str] = []
    _check(account.snapshot() == before, "the dry run changed something", failures)

    env.say(
        f"\n2) {APPLY_DELAY.seconds // 60} minutes later, costwarden reap --apply: the same plan, acted on "
        "(the skipped rows are as above)"
    )
    # A later run (as an operator reviewing the plan would be): the audit log orders runs by their start time.
    applied = _run(env, apply=True, now=now + APPLY_DELAY)
    _show(env, applied, acted_only=True)
    after = account.snapshot()
    acted = {d.id for d in applied.decisions if d.status is Status.DONE}
    planned = {d.id for d in plan.decisions if d.status is Status.PLANNED}
    _check(acted == planned, f"applied {sorted(acted)} but planned {sorted(planned)}", failures)
    # What the actions themselves take with them: the expired fleet's instances, the endpoint's config.
    expected_collateral = set(_asg_members(account, "vision-train-fleet", before)) | {"bert-demo-config"}
    changed = {rid for rid in before if after.get(rid) != before[rid]}
    outside = changed - acted - expected_collateral
    env.say(
        f"\nChanged: {len(changed)} resources — {len(acted)} acted on as planned, "
        f"{len(changed - acted)} taken with them (the fleet's instances, the endpoint's config)."
    )
    _check(not outside, f"touched outside the plan: {sorted(outside)}", failures)
    env.say("Verified: nothing outside the plan was touched." if not outside else f"OUTSIDE THE PLAN: {outside}")

    env.say("\n3) The next hourly run: idempotent — the notebook (now stopped) is deleted, nothing else is done")
    rerun = _run(env, apply=True, now=now + timedelta(hours=1))
    again = {d.id: d.action for d in rerun.decisions if d.status is Status.DONE}
    done = ", ".join(f"{action} {rid}" for rid, action in sorted(again.items()))
    env.say(f"-> done this run: {done or 'nothing'}")
    _check(again == {"vision-explore": "delete"}, f"rerun acted on {again}", failures)
    if failures:
        raise RuntimeError("reaper chapter: " + "; ".join(failures))


def _asg_members(account: _Account, name: str, before: dict[str, str]) -> list[str]:
    reservations = account.ec2.describe_instances(
        Filters=[{"Name": "tag:aws:autoscaling:groupName", "Values": [name]}]
    )["Reservations"]
    return [i["InstanceId"] for r in reservations for i in r["Instances"] if i["InstanceId"] in before]
