"""SageMaker training and processing jobs: stop. Only jobs in progress are inventoried: a finished job costs
nothing, cannot be deleted, and would otherwise be reported on every run forever."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar

from costwarden.resources.base import Clients, Permission, ResourceType, each_result, iso_time
from costwarden.resources.model import Resource
from costwarden.settings import TagPolicy


class _SageMakerJob(ResourceType):
    service = "sagemaker"
    action = "stop"
    _list_call: ClassVar[str]
    _list_key: ClassVar[str]
    _name_key: ClassVar[str]
    _status_key: ClassVar[str]
    _stop_call: ClassVar[str]
    _stop_param: ClassVar[str]

    def hydrate(self, clients: Clients, region: str, found: Sequence[tuple[str, dict[str, str]]]) -> list[Resource]:
        sm = clients("sagemaker", region)
        wanted = {arn.rsplit("/", 1)[-1]: (arn, tags) for arn, tags in found}
        out: list[Resource] = []
        pages = sm.get_paginator(self._list_call).paginate(
            StatusEquals="InProgress", PaginationConfig={"PageSize": 100}
        )
        for page in pages:
            for job in page.get(self._list_key, []):
                name = job[self._name_key]
                if name not in wanted:
                    continue
                arn, tags = wanted[name]
                out.append(
                    Resource(
                        arn=arn,
                        type=self.name,
                        region=region,
                        id=name,
                        key=name,
                        tags=tags,
                        state=job[self._status_key],
                        details={"created_at": iso_time(job.get("CreationTime"))},
                    )
                )
        return out

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        sm = clients("sagemaker", region)
        return each_result(resources, lambda r: getattr(sm, self._stop_call)(**{self._stop_param: r.id}))


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

    def stop(self, clients: Clients, region: str, resources: Sequence[Resource]) -> dict[str, str | None]:
        return self.act(clients, region, resources, TagPolicy())

    _list_call = "list_training_jobs"
    _list_key = "TrainingJobSummaries"
    _name_key = "TrainingJobName"
    _status_key = "TrainingJobStatus"
    _stop_call = "stop_training_job"
    _stop_param = "TrainingJobName"


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
    _list_call = "list_processing_jobs"
    _list_key = "ProcessingJobSummaries"
    _name_key = "ProcessingJobName"
    _status_key = "ProcessingJobStatus"
    _stop_call = "stop_processing_job"
    _stop_param = "ProcessingJobName"
