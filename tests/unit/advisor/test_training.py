from __future__ import annotations

from datetime import UTC, datetime

import pytest
from costwarden.advisor.purchase_mix import family_of
from costwarden.advisor.training import parse_job, training_mix

CREATED = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instance_type", "family"), [("ml.p3.8xlarge", "p3"), ("g5.xlarge", "g5"), ("ml.trn1.32xlarge", "trn1")]
)
def test_family_of(instance_type: str, family: str) -> None:
    assert family_of(instance_type) == family


def test_a_running_job_is_measured_to_its_end_time_and_its_team_read_from_the_configured_key() -> None:
    job = parse_job(
        {
            "TrainingJobName": "j",
            "ResourceConfig": {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 3},
            "TrainingStartTime": datetime(2026, 11, 20, 0, tzinfo=UTC),
            "TrainingEndTime": datetime(2026, 11, 20, 2, tzinfo=UTC),
            "CreationTime": CREATED,
            "Tags": [{"Key": "team", "Value": "nope"}, {"Key": "owner", "Value": "fraud"}],
        },
        team_key="owner",
        unowned="nobody",
    )
    assert job is not None and job.team == "fraud" and job.instance_hours == 6
    assert job.managed_spot is False and job.checkpointing is False


def test_a_job_without_an_instance_type_is_skipped_and_zero_hour_jobs_are_not_candidates() -> None:
    assert (
        parse_job(
            {"TrainingJobName": "hetero", "ResourceConfig": {}, "CreationTime": CREATED}, team_key="t", unowned="u"
        )
        is None
    )
    job = parse_job(
        {"TrainingJobName": "queued", "ResourceConfig": {"InstanceType": "ml.p3.2xlarge"}, "CreationTime": CREATED},
        team_key="t",
        unowned="u",
    )
    assert job is not None
    teams = training_mix([job], rates={("u", "ml.p3.2xlarge"): 3.8}, spot_discount=0.7, since=CREATED)
    assert teams["u"].jobs == 1 and teams["u"].candidates == [] and teams["u"].spot_share is None
