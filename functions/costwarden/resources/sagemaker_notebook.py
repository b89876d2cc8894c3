"""SageMaker notebook instances: stop when expired; delete on a later run once stopped (a notebook must be
stopped before it can be deleted, and stopping takes minutes). Listed through the tagging API, hydrated with one
paginated ``ListNotebookInstances`` (100 per page) rather than a describe per notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from costwarden.resources.base import Clients, Permission, ResourceType, each_result
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

NOTEBOOK_ARN = "arn:${Partition}:sagemaker:${Region}:${Account}:notebook-instance/*"


class SageMakerNotebook(ResourceType):
    name = "sagemaker:notebook-instance"
    service = "sagemaker"
    tagging_type = "sagemaker:notebook-instance"
    arn_match = ("sagemaker", "notebook-instance")
    listing = Listing(
        "list_notebook_instances", "NotebookInstances", "NotebookInstanceName", "CreationTime", tags_field=""
    )
    action = "stop"
    read_permissions = ("sagemaker:ListNotebookInstances",)
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:StopNotebookInstance", "sagemaker:DeleteNotebookInstance"), NOTEBOOK_ARN),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:AddTags",), NOTEBOOK_ARN, purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        name, status = item["NotebookInstanceName"], item.get("NotebookInstanceStatus", "")
        return self.new(
            arn,
            region,
            name,
            tags,
            status,
            active=status != "Deleting",
            details={
                "instance_type": item.get("InstanceType", ""),
                "lifecycle_config": item.get("NotebookInstanceLifecycleConfigName", ""),
            },
        )

    def stop(self, clients: Clients, region: str, resources: Sequence[Resource]) -> dict[str, str | None]:
        sm = clients("sagemaker", region)
        return each_result(resources, lambda r: sm.stop_notebook_instance(NotebookInstanceName=r.id))

    def action_for(self, resource: Resource) -> tuple[str | None, str]:
        if resource.state == "InService":
            return "stop", ""
        if resource.state in ("Stopped", "Failed"):
            return "delete", ""
        return None, f"notebook is {resource.state}; acted on once it settles (a later run)"

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        sm = clients("sagemaker", region)

        def run(resource: Resource) -> None:
            if self.action_for(resource)[0] == "delete":
                sm.delete_notebook_instance(NotebookInstanceName=resource.id)
            else:
                sm.stop_notebook_instance(NotebookInstanceName=resource.id)

        return each_result(resources, run)
