"""The registry of resource types the reaper knows. Adding a type is one module plus one line in ``REGISTRY``.

A resource whose ARN matches none of these is reported ("unknown type"), never acted on.
"""

from __future__ import annotations

from costwarden.resources.autoscaling_group import AutoScalingGroup
from costwarden.resources.base import Clients, Permission, ResourceType, Selector
from costwarden.resources.capacity_reservation import CapacityReservation
from costwarden.resources.ebs_volume import EbsVolume
from costwarden.resources.ec2_instance import Ec2Instance
from costwarden.resources.eks_nodegroup import EksNodegroup
from costwarden.resources.emr_cluster import EmrCluster
from costwarden.resources.sagemaker_endpoint import SageMakerEndpoint
from costwarden.resources.sagemaker_jobs import SageMakerProcessingJob, SageMakerTrainingJob
from costwarden.resources.sagemaker_notebook import SageMakerNotebook

REGISTRY: dict[str, ResourceType] = {
    t.name: t
    for t in (
        Ec2Instance(),
        AutoScalingGroup(),
        EmrCluster(),
        EksNodegroup(),
        SageMakerNotebook(),
        SageMakerEndpoint(),
        SageMakerTrainingJob(),
        SageMakerProcessingJob(),
        EbsVolume(),
        CapacityReservation(),
    )
}

#: Resource types that are not acted on by themselves but with another type's action; the tagging API returns them
#: when they carry the same tags, and they are left out of the inventory instead of being reported as unknown.
COMPANION_TYPES: dict[str, str] = {
    "sagemaker:endpoint-config": "sagemaker:endpoint",
}

#: Read-only permissions every run needs besides the types' own.
COMMON_READ_PERMISSIONS = ("tag:GetResources",)


def type_for_arn(arn: str) -> str:
    """The registry type name for ``arn`` if known, else ``service:resource-type`` parsed from the ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "unknown"
    service, resource = parts[2], parts[5]
    resource_type = resource.split("/", 1)[0].split(":", 1)[0]
    for rtype in REGISTRY.values():
        if rtype.arn_match == (service, resource_type):
            return rtype.name
    return f"{service}:{resource_type}"


__all__ = [
    "COMMON_READ_PERMISSIONS",
    "COMPANION_TYPES",
    "REGISTRY",
    "Clients",
    "Permission",
    "ResourceType",
    "Selector",
    "type_for_arn",
]
