"""The organization run's results bucket: JSON objects by key (``costwarden.org.results.ResultStore``).

What the state machine's steps write there (items, the aggregation, the summary) and what Step Functions' own
``ResultWriter`` writes (manifests and result files) is read back here; a missing or unreadable object is a
``ValueError`` naming the bucket and key (the step fails with that message, never a traceback in a summary).
"""

from __future__ import annotations

import json
from typing import Any

from costwarden.adapters import aws


class StoredObjectError(ValueError):
    """An object of the results bucket is missing, unreadable or not JSON."""


class S3ResultStore:
    """One bucket's JSON objects (``s3``: a client to use instead of the cached default)."""

    def __init__(self, bucket: str, s3: Any = None) -> None:
        self.bucket, self.s3 = bucket, s3 or aws.client("s3")

    def get_json(self, key: str) -> Any:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            return json.loads(body)
        except aws.AWS_ERRORS as error:
            raise StoredObjectError(f"s3://{self.bucket}/{key} could not be read: {error}") from None
        except ValueError as error:
            raise StoredObjectError(f"s3://{self.bucket}/{key} is not JSON: {error}") from None

    def put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, default=str, separators=(",", ":")).encode("utf-8")
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        except aws.AWS_ERRORS as error:
            raise StoredObjectError(f"s3://{self.bucket}/{key} could not be written: {error}") from None
