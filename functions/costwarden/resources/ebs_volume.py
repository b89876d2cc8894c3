"""Unattached EBS volumes: delete. An attached volume goes with its instance (or once detached), never here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from costwarden.resources.base import Clients, Ec2Tagged, Permission, each_result, partition_of, tags_dict
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

INACTIVE_STATES = frozenset({"deleting", "deleted"})


class EbsVolume(Ec2Tagged):
    name = "ec2:volume"
    service = "ec2"
    tagging_type = "ec2:volume"
    listing = Listing("describe_volumes", "Volumes", "VolumeId", "CreateTime", id_filter="volume-id", page_size=500)
    arn_match = ("ec2", "volume")
    action = "delete"
    read_permissions = ("ec2:DescribeVolumes",)
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:DeleteVolume",), "arn:${Partition}:ec2:${Region}:${Account}:volume/*"),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:CreateTags",), "arn:${Partition}:ec2:${Region}:${Account}:volume/*", purpose="mark"),
    )

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
                out.append(self._build(volume, region, arn, tags_dict(volume.get("Tags"))))
        return out

    @staticmethod
    def _account(clients: Clients, region: str) -> str:
        """Volumes carry no owner id; the account comes from STS (called once, only when there are volumes)."""
        return str(clients("sts", region).get_caller_identity()["Account"])

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        attached = [a["InstanceId"] for a in item.get("Attachments", []) if a.get("InstanceId")]
        state = item.get("State", "")
        return self.new(
            arn,
            region,
            item["VolumeId"],
            tags,
            state,
            active=state not in INACTIVE_STATES,
            details={"attached_to": attached, "size_gib": item.get("Size"), "volume_type": item.get("VolumeType", "")},
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
