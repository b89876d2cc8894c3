"""EKS managed node groups: delete (EKS then removes the group's ASG and instances).

Listed with ``ListClusters`` → ``ListNodegroups`` → ``DescribeNodegroup`` (the only call returning tags), every
page followed. Nodes carry ``eks:nodegroup-name`` and are acted on only through their node group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from costwarden.reaper.model import Resource
from costwarden.reaper.types.base import Clients, Permission, ResourceType, Selector, each_result, matches, tags_dict

NODEGROUP_ARN = "arn:${Partition}:eks:${Region}:${Account}:nodegroup/*/*/*"
INACTIVE_STATES = frozenset({"DELETING"})
TRANSITIONAL_STATES = frozenset({"CREATING", "UPDATING"})


class EksNodegroup(ResourceType):
    name = "eks:nodegroup"
    service = "eks"
    arn_match = ("eks", "nodegroup")
    action = "delete"
    read_permissions = ("eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup")
    permissions: ClassVar[tuple[Permission, ...]] = (Permission(("eks:DeleteNodegroup",), NODEGROUP_ARN),)
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("eks:TagResource",), NODEGROUP_ARN, purpose="mark"),
    )

    def list_resources(self, clients: Clients, region: str, selectors: Sequence[Selector] | None) -> list[Resource]:
        eks = clients("eks", region)
        out: list[Resource] = []
        for page in eks.get_paginator("list_clusters").paginate():
            for cluster in page.get("clusters", []):
                for ng_page in eks.get_paginator("list_nodegroups").paginate(clusterName=cluster):
                    for name in ng_page.get("nodegroups", []):
                        group = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
                        tags = tags_dict(group.get("tags"))
                        if not matches(tags, selectors):
                            continue
                        status = group.get("status", "")
                        out.append(
                            Resource(
                                arn=group["nodegroupArn"],
                                type=self.name,
                                region=region,
                                id=name,
                                key=f"{cluster}/{name}",
                                tags=tags,
                                state=status,
                                active=status not in INACTIVE_STATES,
                                details={"cluster": cluster},
                            )
                        )
        return out

    def action_for(self, resource: Resource) -> tuple[str | None, str]:
        if resource.state in TRANSITIONAL_STATES:
            return None, f"node group is {resource.state}; retried on a later run"
        return self.action, ""

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], force: bool = False
    ) -> dict[str, str | None]:
        eks = clients("eks", region)
        return each_result(
            resources, lambda r: eks.delete_nodegroup(clusterName=r.details["cluster"], nodegroupName=r.id)
        )

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        eks = clients("eks", region)
        return each_result(resources, lambda r: eks.tag_resource(resourceArn=r.arn, tags=tags))

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        eks = clients("eks", region)
        return each_result(resources, lambda r: eks.untag_resource(resourceArn=r.arn, tagKeys=list(keys)))

    def extend_command(self, resource: Resource, value: str) -> str:
        return (
            f"aws eks tag-resource --region {resource.region} --resource-arn {resource.arn} --tags expires_at={value}"
        )
