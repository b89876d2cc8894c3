"""The report bucket: put the monthly HTML (the bucket's default KMS encryption applies) and hand out a pre-signed
link to it.

A pre-signed link lives at most 7 days (SigV4) and never longer than the credentials that signed it: signed by a
Lambda role, it stops working when that session ends (hours). The report message says until when it is valid;
``costwarden report`` writes the same file locally at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costwarden.adapters import aws

MAX_LINK_SECONDS = 7 * 24 * 3600


def _signing_s3() -> Any:
    """The default S3 client: SigV4 links (botocore may otherwise presign with the deprecated SigV2 in us-east-1)."""
    import boto3
    from botocore.config import Config

    config = aws.RETRY_CONFIG.merge(Config(signature_version="s3v4"))
    return boto3.session.Session().client("s3", config=config)


@dataclass
class ReportStore:
    bucket: str
    s3: Any = field(default_factory=_signing_s3)
    requests: int = 0

    def put(self, key: str, body: str) -> None:
        self.requests += 1
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType="text/html; charset=utf-8",
            CacheControl="private, no-store",
        )

    def link(self, key: str, expires_seconds: int) -> str:
        url: str = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=min(max(expires_seconds, 60), MAX_LINK_SECONDS),
        )
        return url
