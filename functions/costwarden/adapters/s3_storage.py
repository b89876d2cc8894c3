"""S3 buckets, their tags and lifecycle rules, and their size per storage class from CloudWatch.

Requests grow with pages, not buckets, wherever AWS allows it: tags come from the tagging API (100 buckets a page),
sizes from ``ListMetrics`` (500 metrics a page) and ``GetMetricData`` (500 queries a request). Only the lifecycle
configuration has no batch API: it is read for artefact buckets only. ``BucketSizeBytes`` is a daily metric; the
last ``history_days`` of it give the bytes' ages (``costwarden.advisor.storage``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from costwarden.adapters import aws

NAMESPACE = "AWS/S3"
METRIC = "BucketSizeBytes"
QUERIES_PER_REQUEST = 500
NO_LIFECYCLE = "NoSuchLifecycleConfiguration"


@dataclass
class S3Reader:
    """Counting reads of one region's S3, tagging API and CloudWatch."""

    region: str
    s3: Any = None
    tagging: Any = None
    cloudwatch: Any = None
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.s3 = self.s3 or aws.client("s3", self.region)
        self.tagging = self.tagging or aws.client("resourcegroupstaggingapi", self.region)
        self.cloudwatch = self.cloudwatch or aws.client("cloudwatch", self.region)

    def tagged_buckets(self) -> dict[str, dict[str, str]]:
        """Bucket name -> tags, for every tagged bucket the region's tagging API knows."""
        out: dict[str, dict[str, str]] = {}
        for page in self.tagging.get_paginator("get_resources").paginate(ResourceTypeFilters=["s3"]):
            self.requests["tagging:GetResources"] += 1
            for mapping in page.get("ResourceTagMappingList", []):
                name = str(mapping["ResourceARN"]).rsplit(":", 1)[-1]
                out[name] = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
        return out

    def bucket_names(self) -> dict[str, str | None]:
        """Every bucket of the account -> its region when ListBuckets says it (only read for name patterns)."""
        out: dict[str, str | None] = {}
        for page in self.s3.get_paginator("list_buckets").paginate():
            self.requests["s3:ListBuckets"] += 1
            for bucket in page.get("Buckets", []):
                out[bucket["Name"]] = bucket.get("BucketRegion")
        return out

    def bucket_region(self, name: str) -> str:
        self.requests["s3:GetBucketLocation"] += 1
        return str(self.s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1")

    def bucket_tags(self, name: str) -> dict[str, str]:
        self.requests["s3:GetBucketTagging"] += 1
        try:
            tag_set = self.s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchTagSet":
                return {}
            raise
        return {t["Key"]: t["Value"] for t in tag_set}

    def lifecycle(self, name: str) -> list[dict[str, Any]] | None:
        """The bucket's lifecycle rules, or None when it has no lifecycle configuration."""
        self.requests["s3:GetBucketLifecycleConfiguration"] += 1
        try:
            response = self.s3.get_bucket_lifecycle_configuration(Bucket=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == NO_LIFECYCLE:
                return None
            raise
        return list(response.get("Rules", []))

    def put_lifecycle(self, name: str, configuration: Mapping[str, Any]) -> None:
        self.requests["s3:PutBucketLifecycleConfiguration"] += 1
        self.s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=dict(configuration))

    def sizes(
        self, buckets: Iterable[str], *, today: date, history_days: int
    ) -> dict[str, dict[str, list[tuple[date, float]]]]:
        """bucket -> StorageType -> daily (date, bytes), oldest first, for the last ``history_days`` days."""
        wanted = set(buckets)
        metrics: list[tuple[str, str, dict[str, Any]]] = []
        if not wanted:
            return {}
        for page in self.cloudwatch.get_paginator("list_metrics").paginate(Namespace=NAMESPACE, MetricName=METRIC):
            self.requests["cloudwatch:ListMetrics"] += 1
            for metric in page.get("Metrics", []):
                dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                if dims.get("BucketName") in wanted and "StorageType" in dims:
                    metrics.append((dims["BucketName"], dims["StorageType"], metric))
        out: dict[str, dict[str, list[tuple[date, float]]]] = defaultdict(dict)
        # Complete days only: S3 stamps each day's size at that day's midnight, and today's is not final.
        end = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        start = end - timedelta(days=history_days + 1)
        for first in range(0, len(metrics), QUERIES_PER_REQUEST):
            batch = metrics[first : first + QUERIES_PER_REQUEST]
            queries = [
                {
                    "Id": f"m{i}",
                    "MetricStat": {"Metric": metric, "Period": 86_400, "Stat": "Average"},
                    "ReturnData": True,
                }
                for i, (_, _, metric) in enumerate(batch)
            ]
            points: dict[str, dict[date, float]] = defaultdict(dict)
            kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
            while True:
                self.requests["cloudwatch:GetMetricData"] += 1
                response = self.cloudwatch.get_metric_data(**kwargs)
                for result in response.get("MetricDataResults", []):
                    for when, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                        points[result["Id"]][when.astimezone(UTC).date()] = float(value)
                token = response.get("NextToken")
                if not token:
                    break
                kwargs["NextToken"] = token
            for i, (bucket, storage_type, _) in enumerate(batch):
                series = sorted(points.get(f"m{i}", {}).items())
                if series:
                    out[bucket][storage_type] = series
        return dict(out)
