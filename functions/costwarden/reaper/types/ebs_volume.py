"""Unattached EBS volumes: delete. An attached volume goes with its instance (or once detached), never here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from costwarden.reaper.model import Resource
from costwarden.reaper.types.base import Clients, Permission, ResourceType, chunks, each_result, tags_dict
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
                for volume in page.get("Volumes", []):
                    attached = [a["InstanceId"] for a in volume.get("Attachments", []) if a.get("InstanceId")]
                    out.append(
                        Resource(
                            arn=by_id[volume["VolumeId"]],
                            type=self.name,
                            region=region,
                            id=volume["VolumeId"],
                            key=volume["VolumeId"],
                            tags=tags_dict(volume.get("Tags")),
                            state=volume.get("State", ""),
                            active=volume.get("State", "") not in INACTIVE_STATES,
                            details={"attached_to": attached, "size_gib": volume.get("Size")},
                        )
                    )
        return out

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

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        return (
            f"aws ec2 create-tags --region {resource.region} --resources {resource.id} --tags Key={key},Value={value}"
        )
