"""EMR clusters: terminate. ``TerminationProtected`` is respected (skipped and reported) unless settings force it.

Listed with ``ListClusters`` (active states only, every page) and ``DescribeCluster`` per active cluster — the only
call that returns tags and termination protection; finished clusters cost nothing and are never described. A cluster
that can no longer be described (gone meanwhile) is skipped, the others kept.
Terminating a cluster terminates its instances: before it is terminated, its instances are listed (``ListInstances``,
every page, per candidate cluster) and their tags read 200 per ``DescribeInstances``; one protected or production
instance keeps the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from costwarden.resources.base import (
    Clients,
    Permission,
    ResourceType,
    each_result,
    error_text,
    members_by_ids,
)
from costwarden.resources.listing import Describe, Listing
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

ACTIVE_STATES = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING")
#: ``ListInstances`` states of instances that still exist.
LIVE_STATES = ["AWAITING_FULFILLMENT", "PROVISIONING", "BOOTSTRAPPING", "RUNNING"]
CLUSTER_ARN = "arn:${Partition}:elasticmapreduce:${Region}:${Account}:cluster/*"


class EmrCluster(ResourceType):
    name = "emr:cluster"
    service = "emr"
    arn_match = ("elasticmapreduce", "cluster")
    listing = Listing(
        "list_clusters",
        "Clusters",
        "Id",
        "Status.Timeline.CreationDateTime",
        arn_field="ClusterArn",
        params=(("ClusterStates", list(ACTIVE_STATES)),),
        page_size=None,
        describe=Describe("describe_cluster", "Cluster", "ClusterId"),
    )
    action = "terminate"
    has_termination_protection = True
    has_members = True
    # EMR documents its own tag condition key for cluster actions (tag-based access control, since 2016).
    tag_condition_prefix = "elasticmapreduce:ResourceTag"
    read_permissions = (
        "elasticmapreduce:ListClusters",
        "elasticmapreduce:DescribeCluster",
        "elasticmapreduce:ListInstances",
        "ec2:DescribeInstances",
    )
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("elasticmapreduce:TerminateJobFlows",), CLUSTER_ARN),
        # Only used when settings.reaper.force_termination_protected is true.
        Permission(("elasticmapreduce:SetTerminationProtection",), CLUSTER_ARN, purpose="force"),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("elasticmapreduce:AddTags",), CLUSTER_ARN, purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        state = item.get("Status", {}).get("State", "")
        return self.new(
            arn,
            region,
            item["Id"],
            tags,
            state,
            active=state in ACTIVE_STATES,
            termination_protected=bool(item.get("TerminationProtected", False)),
            details={"name": item.get("Name", "")},
        )

    def ids_of(self, arn: str) -> tuple[str, str | None]:
        """``arn:...:elasticmapreduce:<region>:<account>:cluster/<id>`` → ``(id, None)``."""
        return arn.rsplit("/", 1)[-1], None

    def read_members(self, clients: Clients, region: str, parents: Sequence[Resource]) -> list[Resource]:
        emr = clients("emr", region)
        ids: dict[str, list[str]] = {}
        failed: list[Resource] = []
        for parent in parents:
            try:
                pages = emr.get_paginator("list_instances").paginate(ClusterId=parent.id, InstanceStates=LIVE_STATES)
                ids[parent.arn] = [i["Ec2InstanceId"] for page in pages for i in page.get("Instances", [])]
            except Exception as error:  # recorded on the cluster: it is then not acted on
                failed.append(replace(parent, members_error=error_text(error)))
        listed = [p for p in parents if p.arn in ids]
        return failed + members_by_ids(clients, region, listed, lambda r: ids[r.arn])

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        emr = clients("emr", region)

        def terminate(resource: Resource) -> None:
            if force and resource.termination_protected:
                emr.set_termination_protection(JobFlowIds=[resource.id], TerminationProtected=False)
            emr.terminate_job_flows(JobFlowIds=[resource.id])

        return each_result(resources, terminate)

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        emr = clients("emr", region)
        return each_result(
            resources, lambda r: emr.add_tags(ResourceId=r.id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        )

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        emr = clients("emr", region)
        return each_result(resources, lambda r: emr.remove_tags(ResourceId=r.id, TagKeys=list(keys)))

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        return f"aws emr add-tags --region {resource.region} --resource-id {resource.id} --tags {key}={value}"
