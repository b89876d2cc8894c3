"""EKS managed node groups: delete (EKS then removes the group's ASG and instances).

Listed with ``ListClusters`` → ``ListNodegroups`` → ``DescribeNodegroup`` (the only call returning tags), every
page followed. A node group deleted between its listing and its describe (``ResourceNotFoundException``) is skipped
and the region's other node groups are kept. Nodes carry ``eks:nodegroup-name`` and are acted on only through their
node group. Deleting a node group terminates its nodes: before it is deleted, its nodes are found by the tags EKS
puts on them (``eks:cluster-name`` + ``eks:nodegroup-name``, up to 200 node groups per ``DescribeInstances``) and
one protected or production node keeps the node group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from costwarden.resources.base import (
    INSTANCE_FILTER_BATCH,
    Clients,
    Permission,
    ResourceType,
    chunks,
    describe_instance_tags,
    each_result,
)
from costwarden.resources.listing import Describe, Listing, Within
from costwarden.resources.model import EKS_CLUSTER_TAG, EKS_NODEGROUP_TAG, Member, Resource
from costwarden.settings import TagPolicy

NODEGROUP_ARN = "arn:${Partition}:eks:${Region}:${Account}:nodegroup/*/*/*"
INACTIVE_STATES = frozenset({"DELETING"})
TRANSITIONAL_STATES = frozenset({"CREATING", "UPDATING"})


class EksNodegroup(ResourceType):
    name = "eks:nodegroup"
    service = "eks"
    arn_match = ("eks", "nodegroup")
    listing = Listing(
        "list_nodegroups",
        "nodegroups",
        "nodegroupName",
        "createdAt",
        tags_field="tags",
        arn_field="nodegroupArn",
        page_size=None,
        describe=Describe("describe_nodegroup", "nodegroup", "nodegroupName"),
        within=Within("list_clusters", "clusters", "clusterName"),
    )
    action = "delete"
    has_members = True
    read_permissions = ("eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup", "ec2:DescribeInstances")
    permissions: ClassVar[tuple[Permission, ...]] = (Permission(("eks:DeleteNodegroup",), NODEGROUP_ARN),)
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("eks:TagResource",), NODEGROUP_ARN, purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        cluster, name, status = item["clusterName"], item["nodegroupName"], item.get("status", "")
        active = status not in INACTIVE_STATES
        return self.new(
            arn, region, name, tags, status, active=active, key=f"{cluster}/{name}", details={"cluster": cluster}
        )

    def ids_of(self, arn: str) -> tuple[str, str | None]:
        """``arn:...:eks:<region>:<account>:nodegroup/<cluster>/<name>/<uuid>`` → ``(name, cluster)``."""
        parts = arn.split(":", 5)[-1].split("/")
        if len(parts) != 4 or not all(parts):
            raise ValueError(f"not a node group ARN: {arn[:200]}")
        return parts[2], parts[1]

    def read_members(self, clients: Clients, region: str, parents: Sequence[Resource]) -> list[Resource]:
        batches = list(chunks(list(parents), INSTANCE_FILTER_BATCH))
        filters = [
            [
                {"Name": f"tag:{EKS_CLUSTER_TAG}", "Values": sorted({str(p.details["cluster"]) for p in batch})},
                {"Name": f"tag:{EKS_NODEGROUP_TAG}", "Values": sorted({p.id for p in batch})},
            ]
            for batch in batches
        ]
        found, errors = describe_instance_tags(clients, region, filters)
        out: list[Resource] = []
        for n, batch in enumerate(batches):
            for parent in batch:
                if n in errors:
                    out.append(replace(parent, members_error=errors[n]))
                    continue
                # The filter matches every (cluster, node group) pair of the batch: keep this group's own nodes.
                mine = tuple(
                    Member(i, tags)
                    for i, tags in sorted(found.items())
                    if tags.get(EKS_CLUSTER_TAG) == parent.details["cluster"]
                    and tags.get(EKS_NODEGROUP_TAG) == parent.id
                )
                out.append(replace(parent, members=mine))
        return out

    def action_for(self, resource: Resource) -> tuple[str | None, str]:
        if resource.state in TRANSITIONAL_STATES:
            return None, f"node group is {resource.state}; retried on a later run"
        return self.action, ""

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
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

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        return f"aws eks tag-resource --region {resource.region} --resource-arn {resource.arn} --tags {key}={value}"
