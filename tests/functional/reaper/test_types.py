"""Every resource type against moto: listed, planned, acted on (or refused) as its module declares."""

from __future__ import annotations

from costwarden.resources.model import Status

from tests.functional.reaper.reaper_env import EXPIRED, LIVE, REGIONS, Account, by_id


def test_ec2_expired_terminated_live_kept_in_both_regions(account: Account) -> None:
    old_us = account.instances(2, team="vision", expires_at=EXPIRED)
    old_eu = account.instances(1, region="eu-west-1", team="nlp", expires_at="2026-12-09T23:00:00+01:00")
    live = account.instances(1, team="vision", expires_at=LIVE)

    plan = account.run(regions=REGIONS)
    decisions = by_id(plan)
    assert {decisions[i].status for i in old_us + old_eu} == {Status.PLANNED}
    assert decisions[live[0]].status is Status.SKIPPED
    assert all(account.instance_state(i) == "running" for i in old_us)  # dry run touched nothing

    applied = account.run(regions=REGIONS, apply=True)
    decisions = by_id(applied)
    assert {decisions[i].status for i in old_us + old_eu} == {Status.DONE}
    assert [account.instance_state(i) for i in old_us] == ["terminated", "terminated"]
    assert account.instance_state(old_eu[0], "eu-west-1") == "terminated"
    assert account.instance_state(live[0]) == "running"
    assert decisions[old_eu[0]].region == "eu-west-1" and decisions[old_eu[0]].team == "nlp"


def test_stopped_instance_is_still_terminated(account: Account) -> None:
    (stopped,) = account.instances(1, team="vision", expires_at=EXPIRED)
    account.client("ec2").stop_instances(InstanceIds=[stopped])
    account.run(apply=True)
    assert account.instance_state(stopped) == "terminated"


def test_asg_deleted_with_its_instances(account: Account) -> None:
    members = account.asg("train-fleet", size=2, team="nlp", expires_at=EXPIRED)
    result = account.run(apply=True)
    decisions = {d.type: d for d in result.decisions if d.type == "autoscaling:group"}
    assert decisions["autoscaling:group"].status is Status.DONE
    assert decisions["autoscaling:group"].action == "delete"
    assert not account.asg_exists("train-fleet")
    # Members carry the propagated expired tag: they were acted on through the group, never on their own.
    member_decisions = by_id(result)
    assert all("acted on through its parent" in member_decisions[m].reason for m in members)


def test_emr_terminated_and_protection_respected(account: Account) -> None:
    old = account.emr("old", team="nlp", expires_at=EXPIRED)
    protected = account.emr("keep", protected=True, team="nlp", expires_at=EXPIRED)
    result = account.run(apply=True)
    decisions = by_id(result)
    assert decisions[old].status is Status.DONE
    assert account.emr_state(old).startswith("TERMINAT")
    assert decisions[protected].status is Status.SKIPPED
    assert "termination protection is on" in decisions[protected].reason
    assert account.emr_state(protected) == "WAITING"


def test_emr_protection_forced_only_when_settings_say_so(account: Account) -> None:
    from costwarden.settings import parse_settings

    protected = account.emr("keep", protected=True, team="nlp", expires_at=EXPIRED)
    result = account.run(parse_settings({"reaper": {"force_termination_protected": True}}), apply=True)
    assert by_id(result)[protected].status is Status.DONE
    assert account.emr_state(protected).startswith("TERMINAT")


def test_eks_nodegroup_deleted(account: Account) -> None:
    account.nodegroup("ml", "gpu-old", team="vision", expires_at=EXPIRED)
    account.nodegroup("ml", "gpu-live", team="vision", expires_at=LIVE)
    result = account.run(apply=True)
    decisions = by_id(result)
    assert decisions["gpu-old"].status is Status.DONE and decisions["gpu-old"].action == "delete"
    assert decisions["gpu-live"].status is Status.SKIPPED
    assert account.nodegroups("ml") == ["gpu-live"]


def test_notebook_stopped_then_deleted_on_a_later_run(account: Account) -> None:
    account.notebook("nb-old", team="vision", expires_at=EXPIRED)
    first = by_id(account.run(apply=True))["nb-old"]
    assert (first.action, first.status) == ("stop", Status.DONE)
    assert account.notebook_status("nb-old") == "Stopped"
    second = by_id(account.run(apply=True))["nb-old"]
    assert (second.action, second.status) == ("delete", Status.DONE)
    assert account.notebook_status("nb-old") is None


def test_endpoint_deleted_with_its_config_when_the_config_is_tagged(account: Account) -> None:
    account.endpoint("ep-old", config_tags={"expires_at": EXPIRED}, team="nlp", expires_at=EXPIRED)
    account.endpoint("ep-shared", team="nlp", expires_at=EXPIRED)  # config not tagged: kept
    account.endpoint("ep-live", team="nlp", expires_at=LIVE)
    result = by_id(account.run(apply=True))
    assert result["ep-old"].status is Status.DONE and result["ep-shared"].status is Status.DONE
    assert account.endpoints() == ["ep-live"]
    assert sorted(account.endpoint_configs()) == ["c-ep-live", "c-ep-shared"]


def test_jobs_in_progress_are_stopped_finished_ones_ignored(account: Account) -> None:
    account.job("processing", "prep-old", team="nlp", expires_at=EXPIRED)
    account.job("training", "train-old", team="nlp", expires_at=EXPIRED)
    plan = by_id(account.run())
    assert plan["prep-old"].action == "stop" and plan["prep-old"].status is Status.PLANNED
    assert plan["train-old"].action == "stop" and plan["train-old"].status is Status.PLANNED
    account.client("sagemaker").create_processing_job(
        ProcessingJobName="finished",
        RoleArn="arn:aws:iam::123456789012:role/test",
        AppSpecification={"ImageUri": "i"},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        Tags=[{"Key": "expires_at", "Value": EXPIRED}],
    )
    applied = by_id(account.run(apply=True))
    assert "finished" not in applied
    assert applied["prep-old"].status is Status.DONE
    assert account.job_status("processing", "prep-old") == "Stopped"
    # moto 5.2 does not implement StopTrainingJob: the failure is recorded for that job, the others went on.
    assert applied["train-old"].status is Status.FAILED
    assert applied["train-old"].reason.startswith("expired since")


def test_unattached_volume_deleted_attached_kept(account: Account) -> None:
    (host,) = account.instances(1, team="vision", expires_at=LIVE)
    loose = account.volume(team="vision", expires_at=EXPIRED)
    attached = account.volume(attach_to=host, team="vision", expires_at=EXPIRED)
    result = by_id(account.run(apply=True))
    assert result[loose].status is Status.DONE and not account.volume_exists(loose)
    assert result[attached].status is Status.SKIPPED and "attached to" in result[attached].reason
    assert account.volume_exists(attached)


def test_unknown_type_reported_never_acted_on(account: Account) -> None:
    s3 = account.client("s3")
    s3.create_bucket(Bucket="scratch-data")
    s3.put_bucket_tagging(Bucket="scratch-data", Tagging={"TagSet": [{"Key": "expires_at", "Value": EXPIRED}]})
    rds = account.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="old-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="u",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        Tags=[{"Key": "expires_at", "Value": EXPIRED}, {"Key": "team", "Value": "nlp"}],
    )
    result = account.run(apply=True)
    unknown = [d for d in result.decisions if d.type.startswith("rds:")]
    assert unknown and all(d.status is Status.SKIPPED and "unknown resource type" in d.reason for d in unknown)
    assert rds.describe_db_instances()["DBInstances"][0]["DBInstanceStatus"] == "available"
