"""EC2 instances: terminate (a stopped instance still pays for its EBS volumes, so stopped is not enough).

Listed through the tagging API, hydrated with ``DescribeInstances`` 200 ids per call (filter, so an instance that
vanished in between is simply absent). ``DisableApiTermination`` is not in ``DescribeInstances``: it is read with
``DescribeInstanceAttribute`` for the candidates only, so the extra calls are bounded by the per-run cap.
Terminated in batches of up to 1,000 ids; if a batch is refused, each instance is retried alone so one bad
instance (protection turned on meanwhile) fails only itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from costwarden.resources.base import (
    Clients,
    Ec2Tagged,
    Permission,
    chunks,
    each_result,
    error_text,
    partition_of,
    tags_dict,
)
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource, parent_from_tags
from costwarden.settings import TagPolicy

INACTIVE_STATES = frozenset({"shutting-down", "terminated"})
TERMINATE_BATCH = 1000


class Ec2Instance(Ec2Tagged):
    name = "ec2:instance"
    service = "ec2"
    tagging_type = "ec2:instance"
    listing = Listing(
        "describe_instances",
        "Reservations[].Instances",
        "InstanceId",
        "LaunchTime",
        id_filter="instance-id",
        page_size=1000,
    )
    arn_match = ("ec2", "instance")
    action = "terminate"
    has_termination_protection = True
    cluster_member = True
    read_permissions = ("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute")
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:TerminateInstances",), "arn:${Partition}:ec2:${Region}:${Account}:instance/*"),
        # Only used when settings.reaper.force_termination_protected is true (turns protection off first).
        Permission(
            ("ec2:ModifyInstanceAttribute",), "arn:${Partition}:ec2:${Region}:${Account}:instance/*", purpose="force"
        ),
    )
    limit_counted = True
    limit_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:StopInstances",), "arn:${Partition}:ec2:${Region}:${Account}:instance/*", purpose="limit"),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("ec2:CreateTags",), "arn:${Partition}:ec2:${Region}:${Account}:instance/*", purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        state = item.get("State", {}).get("Name", "")
        return self.new(
            arn,
            region,
            item["InstanceId"],
            tags,
            state,
            active=state not in INACTIVE_STATES,
            parent=parent_from_tags(tags),
            termination_protected=None,
            details={
                "instance_type": item.get("InstanceType", ""),
                "lifecycle": item.get("InstanceLifecycle", ""),  # spot / capacity-block: the burn snapshot's market
                "state_reason": item.get("StateTransitionReason", ""),
                "volumes": [
                    m["Ebs"]["VolumeId"]
                    for m in item.get("BlockDeviceMappings", [])
                    if m.get("Ebs", {}).get("VolumeId")
                ],
            },
        )

    def list_every(self, clients: Clients, region: str) -> list[Resource]:
        """Every pending/running/stopping/stopped instance, tagged or not (1,000 per page)."""
        ec2 = clients("ec2", region)
        out: list[Resource] = []
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}],
            PaginationConfig={"PageSize": 1000},
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                owner = reservation.get("OwnerId", "")
                for instance in reservation.get("Instances", []):
                    arn = f"arn:{partition_of(region)}:ec2:{region}:{owner}:instance/{instance['InstanceId']}"
                    out.append(self._build(instance, region, arn, tags_dict(instance.get("Tags"))))
        return out

    def check_protection(self, clients: Clients, region: str, resources: Sequence[Resource]) -> list[Resource]:
        ec2 = clients("ec2", region)
        out = []
        for resource in resources:
            try:
                attribute = ec2.describe_instance_attribute(InstanceId=resource.id, Attribute="disableApiTermination")
            except Exception:  # left unknown: the planner then skips it ("could not be checked")
                out.append(resource)
                continue
            out.append(replace(resource, termination_protected=bool(attribute["DisableApiTermination"]["Value"])))
        return out

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        result: dict[str, str | None] = {}
        todo = list(resources)
        if force:
            unprotect = each_result(
                [r for r in todo if r.termination_protected],
                lambda r: ec2.modify_instance_attribute(InstanceId=r.id, DisableApiTermination={"Value": False}),
            )
            result.update({arn: err for arn, err in unprotect.items() if err})
            todo = [r for r in todo if r.arn not in result]
        for batch in chunks(todo, TERMINATE_BATCH):
            try:
                ec2.terminate_instances(InstanceIds=[r.id for r in batch])
            except Exception as error:  # recorded (decision, summary or log); the run goes on
                if len(batch) == 1:
                    result[batch[0].arn] = error_text(error)
                    continue
                result.update(each_result(batch, lambda r: ec2.terminate_instances(InstanceIds=[r.id])))
            else:
                result.update({r.arn: None for r in batch})
        return result

    def stop(self, clients: Clients, region: str, resources: Sequence[Resource]) -> dict[str, str | None]:
        """StopInstances in batches; a refused batch is retried per instance (one bad instance fails only itself)."""
        ec2 = clients("ec2", region)
        result: dict[str, str | None] = {}
        for batch in chunks(list(resources), TERMINATE_BATCH):
            try:
                ec2.stop_instances(InstanceIds=[r.id for r in batch])
            except Exception:  # each instance alone: its own error is recorded
                result.update(each_result(batch, lambda r: ec2.stop_instances(InstanceIds=[r.id])))
            else:
                result.update({r.arn: None for r in batch})
        return result
