"""SageMaker notebook instances: stop when expired; delete on a later run once stopped (a notebook must be
stopped before it can be deleted, and stopping takes minutes). Listed through the tagging API, hydrated with one
paginated ``ListNotebookInstances`` (100 per page) rather than a describe per notebook."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from costwarden.resources.base import Clients, Permission, ResourceType, each_result, iso_time
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy

NOTEBOOK_ARN = "arn:${Partition}:sagemaker:${Region}:${Account}:notebook-instance/*"


class SageMakerNotebook(ResourceType):
    name = "sagemaker:notebook-instance"
    service = "sagemaker"
    tagging_type = "sagemaker:notebook-instance"
    arn_match = ("sagemaker", "notebook-instance")
    action = "stop"
    read_permissions = ("sagemaker:ListNotebookInstances",)
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:StopNotebookInstance", "sagemaker:DeleteNotebookInstance"), NOTEBOOK_ARN),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:AddTags",), NOTEBOOK_ARN, purpose="mark"),
    )

    def hydrate(self, clients: Clients, region: str, found: Sequence[tuple[str, dict[str, str]]]) -> list[Resource]:
        sm = clients("sagemaker", region)
        wanted = {arn.rsplit("/", 1)[-1]: (arn, tags) for arn, tags in found}
        out: list[Resource] = []
        for page in sm.get_paginator("list_notebook_instances").paginate(PaginationConfig={"PageSize": 100}):
            for notebook in page.get("NotebookInstances", []):
                name = notebook["NotebookInstanceName"]
                if name not in wanted:
                    continue
                arn, tags = wanted[name]
                status = notebook.get("NotebookInstanceStatus", "")
                out.append(
                    Resource(
                        arn=arn,
                        type=self.name,
                        region=region,
                        id=name,
                        key=name,
                        tags=tags,
                        state=status,
                        active=status != "Deleting",
                        details={
                            "instance_type": notebook.get("InstanceType", ""),
                            "lifecycle_config": notebook.get("NotebookInstanceLifecycleConfigName", ""),
                            "created": notebook.get("CreationTime"),
                            "created_at": iso_time(notebook.get("CreationTime")),
                        },
                    )
                )
        return out

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
