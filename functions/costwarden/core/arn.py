"""ARNs from outside (a button's value, a payload, a file): parsed and checked in one place.

A button's target is data a workspace member can forge (anyone holding one of the app's webhook URLs can post a
button of any value, and Slack signs the press), so an ARN is never split by hand and handed to boto3: a region such
as ``moon 1`` or an empty one makes botocore raise before any guard runs. ``parse_arn`` refuses it with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARTITION = re.compile(r"aws(-cn|-us-gov|-iso(-[a-z])?)?")
_SERVICE = re.compile(r"[a-z][a-z0-9-]{0,62}")
#: A region name: ``us-east-1``, ``eu-central-2``, ``us-gov-west-1``, ``cn-north-1``.
REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ACCOUNT = re.compile(r"\d{12}")
MAX_ARN_CHARS = 1600


class BadArn(ValueError):  # noqa: N818 - reads as what it is
    """The text is not an ARN Costwarden can act on; the message says which part is wrong."""


@dataclass(frozen=True)
class Arn:
    """The parts of a regional resource ARN (``arn:partition:service:region:account:resource``)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn:
    """``text`` → ``Arn`` of a regional resource in an account, or ``BadArn`` naming the wrong part."""
    if not isinstance(text, str) or len(text) > MAX_ARN_CHARS or not text.isprintable():
        raise BadArn("not an ARN (too long or not printable)")
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise BadArn("not an ARN (arn:partition:service:region:account:resource)")
    _, partition, service, region, account, resource = parts
    if not _PARTITION.fullmatch(partition):
        raise BadArn(f"unknown partition {partition[:20]!r}")
    if not _SERVICE.fullmatch(service):
        raise BadArn(f"not a service name: {service[:40]!r}")
    if not REGION_RE.fullmatch(region):
        raise BadArn(f"not a region name: {region[:40]!r}" if region else "no region (a regional resource has one)")
    if not _ACCOUNT.fullmatch(account):
        raise BadArn("the account is not a 12-digit id")
    name = resource.split("/", 1)[1] if "/" in resource else resource.split(":", 1)[-1]
    if not resource or not name or any(c.isspace() for c in resource):
        raise BadArn("no resource id")
    return Arn(partition, service, region, account, resource)
