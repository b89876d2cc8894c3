"""The one ARN parser: hostile targets first (a forged button's value is whatever its author wrote)."""

from __future__ import annotations

import pytest
from costwarden.core.arn import BadArn, parse_arn


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not an ARN"),
        ("not-an-arn", "not an ARN"),
        ("arn:aws:ec2:moon 1:123456789012:instance/i-1", "not a region name"),
        ("arn:aws:ec2::123456789012:instance/i-1", "no region"),
        ("arn:aws:ec2:us-east-1:12345:instance/i-1", "12-digit"),
        ("arn:aws:ec2:us-east-1:123456789012:instance/", "no resource id"),
        ("arn:aws:ec2:us-east-1:123456789012:", "no resource id"),
        ("arn:mars:ec2:us-east-1:123456789012:instance/i-1", "partition"),
        ("arn:aws:EC2:us-east-1:123456789012:instance/i-1", "service"),
        ("arn:aws:ec2:us-east-1:123456789012:instance/i 1", "no resource id"),
        ("arn:aws:ec2:us-east-1:123456789012:instance/" + "i" * 2000, "too long"),
        ("arn:aws:ec2:us-east-1:123456789012:instance/i-1\n", "not printable"),
    ],
)
def test_bad_arns_are_refused_with_the_part_named(text: str, reason: str) -> None:
    with pytest.raises(BadArn, match=reason):
        parse_arn(text)


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
        "arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/nb-1",
        "arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/j-ABC",
        "arn:aws:eks:us-east-1:123456789012:nodegroup/c1/ng1/uuid",
        "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:volume/vol-1",
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/asg-1",
    ],
)
def test_real_arns_round_trip(text: str) -> None:
    assert str(parse_arn(text)) == text
