"""SageMaker training and processing jobs: stop. Only jobs in progress are inventoried: a finished job costs
nothing, cannot be deleted, and would otherwise be reported on every run forever."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from costwarden.resources.base import Clients, Permission, ResourceType, each_result
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy


def _jobs(call: str, key: str, name: str) -> Listing:
    """The jobs in progress (a finished one costs nothing), matched by name; summaries carry no tags."""
    return Listing(call, key, name, "CreationTime", tags_field="", params=(("StatusEquals", "InProgress"),))


class _SageMakerJob(ResourceType):
    """A job type: its ``listing`` (``List*Jobs`` in progress) and its stop call are all that differ."""

    service = "sagemaker"
    action = "stop"
    _stop_call: ClassVar[str]

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        name = str(item[self.listing.id_field])
        status = str(item[self.listing.id_field.replace("Name", "Status")])
        return self.new(arn, region, name, tags, status)

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        sm = clients("sagemaker", region)
        return each_result(resources, lambda r: getattr(sm, self._stop_call)(**{self.listing.id_field: r.id}))

    def stop(self, clients: Clients, region: str, resources: Sequence[Resource]) -> dict[str, str | None]:
        """Stop (the development limits, the hard limit): the same call as the action for "expired"."""
        return self.act(clients, region, resources, TagPolicy())


class SageMakerTrainingJob(_SageMakerJob):
    name = "sagemaker:training-job"
    tagging_type = "sagemaker:training-job"
    arn_match = ("sagemaker", "training-job")
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:StopTrainingJob",), "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/*"),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(
            ("sagemaker:AddTags",), "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/*", purpose="mark"
        ),
    )
    limit_counted = True
    limit_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(
            ("sagemaker:StopTrainingJob",),
            "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/*",
            purpose="limit",
        ),
    )
    read_permissions: ClassVar[tuple[str, ...]] = ("sagemaker:ListTrainingJobs", "sagemaker:DescribeTrainingJob")

    def limit_details(self, clients: Clients, region: str, resources: Sequence[Resource]) -> list[Resource]:
        """``DescribeTrainingJob`` per job (no batch describe exists): its instance type and count. Only for
        development jobs of teams with limits; a job that cannot be described counts as one instance, 0 GPUs."""
        sm = clients("sagemaker", region)
        out = []
        for resource in resources:
            try:
                config = sm.describe_training_job(TrainingJobName=resource.id).get("ResourceConfig", {})
            except Exception:  # counted as one instance of unknown type
                out.append(resource)
                continue
            details = {
                **resource.details,
                "instance_type": config.get("InstanceType", ""),
                "instance_count": int(config.get("InstanceCount", 1) or 1),
            }
            out.append(replace(resource, details=details))
        return out

    listing = _jobs("list_training_jobs", "TrainingJobSummaries", "TrainingJobName")
    _stop_call = "stop_training_job"


class SageMakerProcessingJob(_SageMakerJob):
    name = "sagemaker:processing-job"
    tagging_type = "sagemaker:processing-job"
    arn_match = ("sagemaker", "processing-job")
    read_permissions = ("sagemaker:ListProcessingJobs",)
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(
            ("sagemaker:StopProcessingJob",), "arn:${Partition}:sagemaker:${Region}:${Account}:processing-job/*"
        ),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(
            ("sagemaker:AddTags",), "arn:${Partition}:sagemaker:${Region}:${Account}:processing-job/*", purpose="mark"
        ),
    )
    listing = _jobs("list_processing_jobs", "ProcessingJobSummaries", "ProcessingJobName")
    _stop_call = "stop_processing_job"
