"""Unattached EBS volumes: delete. An attached volume goes with its instance (or once detached), never here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from costwarden.resources.base import Clients, Permission, ResourceType, chunks, each_result, partition_of, tags_dict
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

INACTIVE_STATES = frozenset({"deleting", "deleted"})
DESCRIBE_BATCH = 200


class EbsVolume(ResourceType):
    name = "ec2:volume"
    service = "ec2"
    tagging_type = "ec2:volume"
    arn_match = ("ec2", "volume")
    action = "delete"
    read_permissions = ("ec2:DescribeVolumes",)
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:DeleteVolume",), "arn:${Partition}:ec2:${Region}:${Account}:volume/*"),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:CreateTags",), "arn:${Partition}:ec2:${Region}:${Account}:volume/*", purpose="mark"),
    )

    def hydrate(self, clients: Clients, region: str, found: Sequence[tuple[str, dict[str, str]]]) -> list[Resource]:
        ec2 = clients("ec2", region)
        by_id = {arn.rsplit("/", 1)[-1]: arn for arn, _ in found}
        out: list[Resource] = []
        for batch in chunks(sorted(by_id), DESCRIBE_BATCH):
            pages = ec2.get_paginator("describe_volumes").paginate(
                Filters=[{"Name": "volume-id", "Values": list(batch)}], PaginationConfig={"PageSize": 500}
            )
            for page in pages:
                out.extend(
                    self._resource(volume, region, by_id[volume["VolumeId"]]) for volume in page.get("Volumes", [])
                )
        return out

    def list_every(self, clients: Clients, region: str) -> list[Resource]:
        """Every volume, tagged or not (500 per page): unattached volumes are often the untagged ones."""
        ec2 = clients("ec2", region)
        account = ""
        out: list[Resource] = []
        for page in ec2.get_paginator("describe_volumes").paginate(PaginationConfig={"PageSize": 500}):
            for volume in page.get("Volumes", []):
                if not account:
                    account = self._account(clients, region)
                arn = f"arn:{partition_of(region)}:ec2:{region}:{account}:volume/{volume['VolumeId']}"
                out.append(self._resource(volume, region, arn))
        return out

    @staticmethod
    def _account(clients: Clients, region: str) -> str:
        """Volumes carry no owner id; the account comes from STS (called once, only when there are volumes)."""
        return str(clients("sts", region).get_caller_identity()["Account"])

    def _resource(self, volume: dict[str, Any], region: str, arn: str) -> Resource:
        attached = [a["InstanceId"] for a in volume.get("Attachments", []) if a.get("InstanceId")]
        return Resource(
            arn=arn,
            type=self.name,
            region=region,
            id=volume["VolumeId"],
            key=volume["VolumeId"],
            tags=tags_dict(volume.get("Tags")),
            state=volume.get("State", ""),
            active=volume.get("State", "") not in INACTIVE_STATES,
            details={
                "attached_to": attached,
                "size_gib": volume.get("Size"),
                "volume_type": volume.get("VolumeType", ""),
                "created": volume.get("CreateTime"),
            },
        )

    def action_for(self, resource: Resource) -> tuple[str | None, str]:
        if resource.state == "available":
            return self.action, ""
        attached = ", ".join(resource.details.get("attached_to", [])) or "an instance"
        if resource.state == "in-use":
            return None, f"attached to {attached}: only unattached volumes are deleted (it goes with its instance)"
        return None, f"volume is {resource.state}; retried on a later run"

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        return each_result(resources, lambda r: ec2.delete_volume(VolumeId=r.id))

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        return each_result(
            resources,
            lambda r: ec2.create_tags(Resources=[r.id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]),
        )

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        return each_result(resources, lambda r: ec2.delete_tags(Resources=[r.id], Tags=[{"Key": k} for k in keys]))

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        return (
            f"aws ec2 create-tags --region {resource.region} --resources {resource.id} --tags Key={key},Value={value}"
        )
