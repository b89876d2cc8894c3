"""What to do about a finding: one sentence and the exact commands (stop/delete, or mark as expected-idle).

The "expected idle" command is the same for every type (the tagging API), so an owner who means to keep a resource
idle (a warm standby) silences it with one tag: ``settings.idle.expected_idle_key=true``.
"""

from __future__ import annotations

from typing import Any

from costwarden.idle.model import Kind
from costwarden.resources.model import Resource
from costwarden.settings import Settings


def keep_command(resource: Resource, settings: Settings) -> str:
    return (
        f"aws resourcegroupstaggingapi tag-resources --region {resource.region} --resource-arn-list {resource.arn} "
        f"--tags {settings.idle.expected_idle_key}=true"
    )


def _commands(resource: Resource, kind: Kind) -> tuple[str, list[str]]:  # noqa: PLR0911 - one answer per type
    r, rid = resource.region, resource.id
    match resource.type:
        case "ec2:instance" if kind is Kind.STOPPED:
            return "terminate it (snapshot its volumes first if their data matters)", [
                f"aws ec2 terminate-instances --region {r} --instance-ids {rid}"
            ]
        case "ec2:instance" if kind is Kind.GPU_IDLE:
            return "its GPU idles while the CPU works: move the job to a CPU instance type, or stop it", [
                f"aws ec2 stop-instances --region {r} --instance-ids {rid}"
            ]
        case "ec2:instance" if kind is Kind.NO_METRICS:
            return (
                "enable the CloudWatch agent's GPU collection (metrics_collected.nvidia_gpu) so it can be judged",
                [],
            )
        case "ec2:instance":
            return "stop or terminate it", [
                f"aws ec2 stop-instances --region {r} --instance-ids {rid}",
                f"aws ec2 terminate-instances --region {r} --instance-ids {rid}",
            ]
        case "autoscaling:group":
            return "scale the group to zero, or delete it", [
                f"aws autoscaling update-auto-scaling-group --region {r} --auto-scaling-group-name {rid} "
                "--min-size 0 --desired-capacity 0",
                f"aws autoscaling delete-auto-scaling-group --region {r} --auto-scaling-group-name {rid} "
                "--force-delete",
            ]
        case "eks:nodegroup":
            cluster, _, group = (resource.key or rid).partition("/")
            return "scale the node group to zero, or delete it", [
                f"aws eks update-nodegroup-config --region {r} --cluster-name {cluster} --nodegroup-name {group} "
                "--scaling-config minSize=0,desiredSize=0",
                f"aws eks delete-nodegroup --region {r} --cluster-name {cluster} --nodegroup-name {group}",
            ]
        case "sagemaker:endpoint" if kind is Kind.UNDERUSED:
            return (
                "low traffic: consider serverless inference (ServerlessConfig in the endpoint config: pay per "
                "request) or a smaller instance",
                [],
            )
        case "sagemaker:endpoint":
            return "delete the endpoint (its model and config stay; re-create it when needed)", [
                f"aws sagemaker delete-endpoint --region {r} --endpoint-name {rid}"
            ]
        case "sagemaker:notebook-instance":
            return (
                "attach a lifecycle configuration that stops it when idle (AWS's auto-stop-idle sample), or stop it",
                [f"aws sagemaker stop-notebook-instance --region {r} --notebook-instance-name {rid}"],
            )
        case "ec2:volume":
            return "snapshot it if its data matters, then delete it", [
                f"aws ec2 create-snapshot --region {r} --volume-id {rid}",
                f"aws ec2 delete-volume --region {r} --volume-id {rid}",
            ]
    return "review it", []


def recommend(resource: Resource, kind: Kind, settings: Settings, **extra: Any) -> tuple[str, tuple[str, ...]]:
    """The recommendation sentence and the commands, the last one always "mark it as expected-idle"."""
    if resource.type == "emr:cluster":
        terminate = f"aws emr terminate-clusters --region {resource.region} --cluster-ids {resource.id}"
        policy = extra.get("auto_termination")
        if policy is True:
            text, commands = (
                "terminate it (it has an auto-termination policy, but it is still up and idle)",
                [terminate],
            )
        else:
            put = (
                f"aws emr put-auto-termination-policy --region {resource.region} --cluster-id {resource.id} "
                "--auto-termination-policy IdleTimeout=3600"
            )
            unknown = " (its auto-termination policy could not be read)" if policy is None else ""
            text = f"terminate it, and give clusters an auto-termination policy{unknown}"
            commands = [terminate, put]
    else:
        text, commands = _commands(resource, kind)
    text += f"; if it is idle on purpose, tag it {settings.idle.expected_idle_key}=true"
    return text, (*commands, keep_command(resource, settings))
