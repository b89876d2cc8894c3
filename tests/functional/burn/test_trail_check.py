"""``costwarden doctor``'s burn_trail: EventBridge gets CloudTrail's API-call events only through a logging trail that
records write management events, in every guarded region (and moto's trail read back through the adapter)."""

from __future__ import annotations

from typing import Any

import boto3
from costwarden.adapters.doctor_reads import trails
from costwarden.doctor.checks import burn_trail
from moto import mock_aws

REGIONS = ["us-east-1", "eu-west-1"]


def trail(**fields: Any) -> dict[str, Any]:
    base = {"Name": "main", "HomeRegion": "us-east-1", "IsMultiRegionTrail": True, "IsLogging": True}
    return {**base, "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}], **fields}


def test_a_logging_multi_region_trail_of_management_events_is_ok() -> None:
    result = burn_trail([trail()], REGIONS)
    assert result.status == "ok" and "us-east-1, eu-west-1" in result.detail


def test_no_trail_is_missing_with_the_command_to_create_one() -> None:
    result = burn_trail([], REGIONS)
    assert result.status == "missing" and "us-east-1, eu-west-1" in result.detail
    assert "aws cloudtrail create-trail" in result.fix and "--is-multi-region-trail" in result.fix


def test_a_stopped_trail_says_start_it() -> None:
    result = burn_trail([trail(IsLogging=False)], REGIONS)
    assert result.status == "missing" and result.fix.startswith("aws cloudtrail start-logging --name main")


def test_read_only_or_data_only_selectors_do_not_count() -> None:
    read_only = trail(EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    data_only = trail(EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}])
    advanced_read = trail(
        EventSelectors=[],
        AdvancedEventSelectors=[
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                ]
            }
        ],
    )
    for one in (read_only, data_only, advanced_read):
        assert burn_trail([one], REGIONS).status == "missing"
    advanced = trail(
        EventSelectors=[],
        AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}],
    )
    assert burn_trail([advanced], REGIONS).status == "ok"


def test_a_single_region_trail_covers_its_home_region_only() -> None:
    result = burn_trail([trail(IsMultiRegionTrail=False)], REGIONS)
    assert result.status == "missing" and result.detail.startswith(
        "no logging trail records write management events in eu-west-1"
    )


def test_the_adapter_reads_a_trail_as_aws_answers() -> None:
    with mock_aws():
        s3, cloudtrail = boto3.client("s3"), boto3.client("cloudtrail")
        s3.create_bucket(Bucket="trail-logs")
        cloudtrail.create_trail(Name="main", S3BucketName="trail-logs", IsMultiRegionTrail=True)
        assert burn_trail(trails(cloudtrail), REGIONS).status == "missing"  # created, not yet logging
        cloudtrail.start_logging(Name="main")
        assert burn_trail(trails(cloudtrail), REGIONS).status == "ok"
