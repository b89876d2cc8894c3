"""SageMaker training jobs of the purchase-mix window, with their managed-spot and checkpoint settings and tags.

``Search`` (resource ``TrainingJob``) is used rather than ``ListTrainingJobs`` + ``DescribeTrainingJob``: it returns
the full job (``EnableManagedSpotTraining``, ``CheckpointConfig``, ``ResourceConfig``, ``TrainingTimeInSeconds``)
*and its tags* (the team), 100 jobs per request, so requests grow with pages, not jobs; the list-and-describe path
costs two more requests per job (describe, then ``ListTags`` for the team). The window is a server-side filter on
``CreationTime``. moto's ``Search`` does not evaluate time comparisons: tests use botocore's ``Stubber``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from costwarden.adapters import aws

#: Results per Search request: the API's maximum.
PAGE_SIZE = 100


@dataclass
class TrainingJobs:
    region: str
    sagemaker: Any = None
    requests: int = 0
    #: Stop after this many pages (100 jobs each) and say so, rather than read an unbounded history.
    max_pages: int = 50

    def __post_init__(self) -> None:
        self.sagemaker = self.sagemaker or aws.client("sagemaker", self.region)

    def since(self, start: datetime) -> tuple[list[dict[str, Any]], bool]:
        """Jobs created at or after ``start`` (the raw ``TrainingJob`` objects) and whether the page cap cut them."""
        when = start if start.tzinfo else start.replace(tzinfo=UTC)
        params: dict[str, Any] = {
            "Resource": "TrainingJob",
            "SearchExpression": {
                "Filters": [{"Name": "CreationTime", "Operator": "GreaterThanOrEqualTo", "Value": when.isoformat()}]
            },
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": PAGE_SIZE,
        }
        jobs: list[dict[str, Any]] = []
        for _ in range(self.max_pages):
            self.requests += 1
            page = self.sagemaker.search(**params)
            jobs.extend(r["TrainingJob"] for r in page.get("Results", []) if "TrainingJob" in r)
            token = page.get("NextToken")
            if not token:
                return jobs, False
            params = {**params, "NextToken": token}
        return jobs, True
