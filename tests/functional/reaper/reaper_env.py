"""moto fixtures for the reaper: an account with resources of every type, in two regions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from costwarden.adapters import aws
from costwarden.adapters.state import MemoryStateStore
from costwarden.models.alert import AlertEvent
from costwarden.models.idle_ports import PriceBook
from costwarden.reaper.execute import RunResult, run_reaper
from costwarden.settings import Settings, parse_settings
from moto import mock_aws

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/test"
REGIONS = ("us-east-1", "eu-west-1")
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
EXPIRED = "2026-12-01"
LIVE = "2027-01-31"


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass
class Account:
    """Creates resources in moto and runs the reaper against them."""

    published: list[AlertEvent] = field(default_factory=list)
    state: MemoryStateStore = field(default_factory=MemoryStateStore)
    failing_regions: set[str] = field(default_factory=set)
    cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    session: boto3.session.Session = field(default_factory=boto3.session.Session)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """One client per (service, region) from one session: boto3 loads each service model once per session."""
        with self.lock:
            if (service, region) not in self.cache:
                self.cache[(service, region)] = self.session.client(
                    service, region_name=region, config=aws.RETRY_CONFIG
                )  # type: ignore[call-overload]
            return self.cache[(service, region)]

    # -- the reaper's client factory (what a test injects) --------------------------------------------------
    def clients(self, service: str, region: str) -> Any:
        if region not in self.failing_regions:
            return self.client(service, region)
        with self.lock:
            broken = self.session.client(service, region_name=region, config=Config(retries={"max_attempts": 1}))  # type: ignore[call-overload]

        def refuse(request: Any, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url=request.url)

        broken.meta.events.register_first("before-send", refuse)
        return broken

    def run(
        self,
        cfg: Settings | None = None,
        *,
        regions: tuple[str, ...] = ("us-east-1",),
        apply: bool = False,
        now: datetime = NOW,
        publish: bool = True,
        prices: PriceBook | None = None,
    ) -> RunResult:
        return run_reaper(
            cfg or parse_settings({}),
            regions=regions,
            clients=self.clients,
            state=self.state,
            publish_fn=self.record if publish else None,
            dry_run=not apply,
            now=now,
            prices=prices,
        )

    def record(self, event: AlertEvent) -> str:
        self.published.append(event)
        return str(len(self.published))

    # -- resources ----------------------------------------------------------------------------------------
    def ami(self, region: str) -> str:
        # Any id works in moto; describe_images would serialise hundreds of default AMIs (seconds per call).
        return "ami-12345678"

    def instances(
        self, n: int = 1, region: str = "us-east-1", protected: bool = False, instance_type: str = "", **tags: str
    ) -> list[str]:
        ec2 = self.client("ec2", region)
        spec = [{"ResourceType": "instance", "Tags": tag_list(tags)}] if tags else []
        typed = {"InstanceType": instance_type} if instance_type else {}
        out = ec2.run_instances(ImageId=self.ami(region), MinCount=n, MaxCount=n, TagSpecifications=spec, **typed)
        ids = [i["InstanceId"] for i in out["Instances"]]
        if protected:
            for instance_id in ids:
                ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
        return ids

    def instance_state(self, instance_id: str, region: str = "us-east-1") -> str:
        reservations = self.client("ec2", region).describe_instances(InstanceIds=[instance_id])["Reservations"]
        return str(reservations[0]["Instances"][0]["State"]["Name"])

    def instance_tags(self, instance_id: str, region: str = "us-east-1") -> dict[str, str]:
        reservations = self.client("ec2", region).describe_instances(InstanceIds=[instance_id])["Reservations"]
        return {t["Key"]: t["Value"] for t in reservations[0]["Instances"][0].get("Tags", [])}

    def asg(self, name: str, size: int = 2, region: str = "us-east-1", **tags: str) -> list[str]:
        ec2, asg = self.client("ec2", region), self.client("autoscaling", region)
        ec2.create_launch_template(
            LaunchTemplateName=f"lt-{name}",
            LaunchTemplateData={"ImageId": self.ami(region), "InstanceType": "t3.micro"},
        )
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": f"lt-{name}"},
            MinSize=size,
            MaxSize=size,
            DesiredCapacity=size,
            AvailabilityZones=[f"{region}a"],
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
        group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
        return [i["InstanceId"] for i in group["Instances"]]

    def asg_exists(self, name: str, region: str = "us-east-1") -> bool:
        groups = self.client("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        return bool(groups["AutoScalingGroups"])

    def emr(self, name: str, region: str = "us-east-1", protected: bool = False, **tags: str) -> str:
        instances = {"MasterInstanceType": "m5.xlarge", "SlaveInstanceType": "m5.xlarge", "InstanceCount": 3}
        return self.job_flow(name, region, {**instances, "TerminationProtected": protected}, tags)

    def job_flow(self, name: str, region: str, instances: dict[str, Any], tags: dict[str, str]) -> str:
        """A waiting EMR cluster (it stays up without steps) with ``instances`` and ``tags``: its cluster id."""
        out = self.client("emr", region).run_job_flow(
            Name=name,
            ReleaseLabel="emr-6.10.0",
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
            Instances={**instances, "KeepJobFlowAliveWhenNoSteps": True},
            Tags=tag_list(tags),
        )
        return str(out["JobFlowId"])

    def emr_with_members(self, name: str, region: str = "us-east-1", **tags: str) -> tuple[str, list[str]]:
        """An EMR cluster launched with instance groups (moto then starts its EC2 instances): id, member ids."""
        emr = self.client("emr", region)
        groups = [
            {"InstanceRole": role, "InstanceType": "m5.xlarge", "InstanceCount": count, "Market": "ON_DEMAND"}
            for role, count in (("MASTER", 1), ("CORE", 2))
        ]
        out = emr.run_job_flow(
            Name=name,
            ReleaseLabel="emr-6.10.0",
            JobFlowRole="EMR_EC2_DefaultRole",
            ServiceRole="EMR_DefaultRole",
            Instances={"InstanceGroups": groups, "KeepJobFlowAliveWhenNoSteps": True},
            Tags=tag_list(tags),
        )
        cluster_id = str(out["JobFlowId"])
        members = emr.list_instances(ClusterId=cluster_id)["Instances"]
        return cluster_id, [str(m["Ec2InstanceId"]) for m in members]

    def tag_instance(self, instance_id: str, region: str = "us-east-1", **tags: str) -> None:
        self.client("ec2", region).create_tags(Resources=[instance_id], Tags=tag_list(tags))

    def emr_state(self, cluster_id: str, region: str = "us-east-1") -> str:
        return str(self.client("emr", region).describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"])

    def nodegroup(self, cluster: str, name: str, region: str = "us-east-1", **tags: str) -> str:
        eks = self.client("eks", region)
        if cluster not in eks.list_clusters()["clusters"]:
            eks.create_cluster(name=cluster, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
        group = eks.create_nodegroup(
            clusterName=cluster, nodegroupName=name, subnets=["subnet-1"], nodeRole=ROLE, tags=tags
        )
        return str(group["nodegroup"]["nodegroupArn"])

    def nodegroups(self, cluster: str, region: str = "us-east-1") -> list[str]:
        return list(self.client("eks", region).list_nodegroups(clusterName=cluster)["nodegroups"])

    def notebook(self, name: str, region: str = "us-east-1", **tags: str) -> None:
        self.client("sagemaker", region).create_notebook_instance(
            NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE, Tags=tag_list(tags)
        )

    def notebook_status(self, name: str, region: str = "us-east-1") -> str | None:
        sm = self.client("sagemaker", region)
        found = [n for n in sm.list_notebook_instances()["NotebookInstances"] if n["NotebookInstanceName"] == name]
        return str(found[0]["NotebookInstanceStatus"]) if found else None

    def endpoint(
        self, name: str, region: str = "us-east-1", config_tags: dict[str, str] | None = None, **tags: str
    ) -> None:
        sm = self.client("sagemaker", region)
        sm.create_model(ModelName=f"m-{name}", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
        sm.create_endpoint_config(
            EndpointConfigName=f"c-{name}",
            ProductionVariants=[
                {"VariantName": "v", "ModelName": f"m-{name}", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
            ],
            Tags=tag_list(config_tags or {}),
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"c-{name}", Tags=tag_list(tags))

    def endpoints(self, region: str = "us-east-1") -> list[str]:
        return [e["EndpointName"] for e in self.client("sagemaker", region).list_endpoints()["Endpoints"]]

    def endpoint_configs(self, region: str = "us-east-1") -> list[str]:
        sm = self.client("sagemaker", region)
        return [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]

    def job(self, kind: str, name: str, region: str = "us-east-1", **tags: str) -> None:
        """A training or processing job, set InProgress in moto's backend (moto completes jobs instantly)."""
        from moto.sagemaker.models import sagemaker_backends

        sm = self.client("sagemaker", region)
        backend = sagemaker_backends[ACCOUNT][region]
        if kind == "training":
            sm.create_training_job(
                TrainingJobName=name,
                RoleArn=ROLE,
                AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
                OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
                ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
                StoppingCondition={"MaxRuntimeInSeconds": 3600},
                Tags=tag_list(tags),
            )
            backend.training_jobs[name].training_job_status = "InProgress"
        else:
            sm.create_processing_job(
                ProcessingJobName=name,
                RoleArn=ROLE,
                AppSpecification={"ImageUri": "img"},
                ProcessingResources={
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
                },
                StoppingCondition={"MaxRuntimeInSeconds": 3600},
                Tags=tag_list(tags),
            )
            backend.processing_jobs[name].processing_job_status = "InProgress"

    def job_status(self, kind: str, name: str, region: str = "us-east-1") -> str:
        sm = self.client("sagemaker", region)
        if kind == "training":
            return str(sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"])
        return str(sm.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"])

    def volume(self, region: str = "us-east-1", attach_to: str | None = None, **tags: str) -> str:
        ec2 = self.client("ec2", region)
        vol = ec2.create_volume(
            Size=10,
            AvailabilityZone=f"{region}a",
            TagSpecifications=[{"ResourceType": "volume", "Tags": tag_list(tags)}],
        )["VolumeId"]
        if attach_to:
            ec2.attach_volume(VolumeId=vol, InstanceId=attach_to, Device="/dev/sdf")
        return str(vol)

    def volume_exists(self, volume_id: str, region: str = "us-east-1") -> bool:
        vols = self.client("ec2", region).describe_volumes(Filters=[{"Name": "volume-id", "Values": [volume_id]}])
        return bool(vols["Volumes"])


@pytest.fixture
def account() -> Iterator[Account]:
    with mock_aws():
        aws.client.cache_clear()
        yield Account()
        aws.client.cache_clear()


def by_id(result: RunResult) -> dict[str, Any]:
    return {d.id: d for d in result.decisions}
