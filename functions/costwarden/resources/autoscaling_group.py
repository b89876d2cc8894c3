"""Auto Scaling groups: delete with their instances (``ForceDelete``), the only way an ASG "cluster" stops costing.

Not returned by the tagging API: listed with ``DescribeAutoScalingGroups`` and its ``tag-key`` / ``tag:<key>``
filters (one paginated call per selector). Its instances carry ``aws:autoscaling:groupName`` and are acted on only
through the group. Deleting the group terminates them, so before a group is deleted its instances (listed in the
group's own description) are read, 200 per ``DescribeInstances``: one protected or production instance keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from costwarden.resources.base import (
    Clients,
    Permission,
    ResourceType,
    chunks,
    each_result,
    members_by_ids,
    tags_dict,
)
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource, parent_from_tags
from costwarden.settings import TagPolicy

ASG_ARN = "arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:*:autoScalingGroupName/*"


class AutoScalingGroup(ResourceType):
    name = "autoscaling:group"
    service = "autoscaling"
    arn_match = ("autoscaling", "autoScalingGroup")
    listing = Listing(
        "describe_auto_scaling_groups",
        "AutoScalingGroups",
        "AutoScalingGroupName",
        "CreatedTime",
        arn_field="AutoScalingGroupARN",
        tag_filters=True,
    )
    action = "delete"
    cluster_member = True  # an EKS managed node group's ASG belongs to the node group
    has_members = True
    tag_condition_prefix = "autoscaling:ResourceTag"
    read_permissions = ("autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances")
    permissions: ClassVar[tuple[Permission, ...]] = (Permission(("autoscaling:DeleteAutoScalingGroup",), ASG_ARN),)
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("autoscaling:CreateOrUpdateTags",), ASG_ARN, purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        parent = parent_from_tags(tags)
        status = item.get("Status") or "InService"
        return self.new(
            arn,
            region,
            item["AutoScalingGroupName"],
            tags,
            status,
            active="delete" not in status.lower(),
            parent=parent if parent and parent.type != self.name else None,
            details={
                "instances": len(item.get("Instances", [])),
                "instance_ids": tuple(i["InstanceId"] for i in item.get("Instances", [])),
                "desired": item.get("DesiredCapacity"),
            },
        )

    def read(self, clients: Clients, region: str, arns: Sequence[str]) -> list[Resource]:
        """The groups named by ``arns`` (``...:autoScalingGroupName/<name>``), read fresh: one paginated
        ``DescribeAutoScalingGroups`` per 100 names (a group deleted meanwhile is absent)."""
        names = sorted({arn.rsplit(":autoScalingGroupName/", 1)[-1] for arn in arns if ":autoScalingGroupName/" in arn})
        asg = clients(self.service, region)
        out: list[Resource] = []
        for batch in chunks(names, 100):
            for item in self._items(
                asg, self.listing.call, self.listing.key, {"AutoScalingGroupNames": list(batch)}, 100
            ):
                out.append(
                    self._build(item, region, str(item.get("AutoScalingGroupARN", "")), tags_dict(item.get("Tags")))
                )
        return out

    def read_members(self, clients: Clients, region: str, parents: Sequence[Resource]) -> list[Resource]:
        return members_by_ids(clients, region, parents, lambda r: r.details.get("instance_ids", ()))

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        asg = clients("autoscaling", region)
        return each_result(
            resources, lambda r: asg.delete_auto_scaling_group(AutoScalingGroupName=r.id, ForceDelete=True)
        )

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        asg = clients("autoscaling", region)
        return each_result(
            resources,
            lambda r: asg.create_or_update_tags(
                Tags=[
                    {
                        "ResourceId": r.id,
                        "ResourceType": "auto-scaling-group",
                        "Key": k,
                        "Value": v,
                        "PropagateAtLaunch": False,
                    }
                    for k, v in tags.items()
                ]
            ),
        )

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        asg = clients("autoscaling", region)
        return each_result(
            resources,
            lambda r: asg.delete_tags(
                Tags=[{"ResourceId": r.id, "ResourceType": "auto-scaling-group", "Key": k} for k in keys]
            ),
        )

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        return (
            f"aws autoscaling create-or-update-tags --region {resource.region} --tags "
            f"ResourceId={resource.id},ResourceType=auto-scaling-group,Key={key},Value={value},PropagateAtLaunch=true"
        )
