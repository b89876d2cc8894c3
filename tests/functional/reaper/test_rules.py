"""Every safety rule against moto: protection, production, clusters, cap, reruns, failing region, warnings, audit."""

from __future__ import annotations

from datetime import timedelta

from costwarden.models.alert import AlertKind, Severity
from costwarden.resources.model import Status
from costwarden.settings import parse_settings

from tests.functional.reaper.reaper_env import EXPIRED, LIVE, NOW, REGIONS, Account, by_id


def test_ec2_termination_protection_skipped_unless_forced(account: Account) -> None:
    (protected,) = account.instances(1, protected=True, team="vision", expires_at=EXPIRED)
    (plain,) = account.instances(1, team="vision", expires_at=EXPIRED)
    result = by_id(account.run(apply=True))
    assert result[protected].status is Status.SKIPPED
    assert "termination protection is on" in result[protected].reason
    assert account.instance_state(protected) == "running"
    assert result[plain].status is Status.DONE  # the protected one did not block the batch
    forced = by_id(account.run(parse_settings({"reaper": {"force_termination_protected": True}}), apply=True))
    assert forced[protected].status is Status.DONE
    assert account.instance_state(protected) == "terminated"


def test_protected_and_production_never_touched(account: Account) -> None:
    (protected,) = account.instances(1, team="vision", expires_at=EXPIRED, **{"costwarden:protect": "true"})
    (prod,) = account.instances(1, team="vision", expires_at=EXPIRED, environment="production")
    result = by_id(account.run(apply=True))
    assert "protected by costwarden:protect=true" in result[protected].reason
    assert "environment=production" in result[prod].reason
    assert account.instance_state(protected) == account.instance_state(prod) == "running"
    allowed = by_id(account.run(parse_settings({"reaper": {"allow_production": True}}), apply=True))
    assert allowed[prod].status is Status.DONE
    assert account.instance_state(protected) == "running"


def test_member_of_live_cluster_is_told_to_tag_the_group(account: Account) -> None:
    members = account.asg("serving", size=2, team="nlp", environment="experiment", expires_at=LIVE)
    account.client("ec2").create_tags(Resources=[members[0]], Tags=[{"Key": "expires_at", "Value": EXPIRED}])
    (eks_node,) = account.instances(
        1, team="vision", expires_at=EXPIRED, **{"eks:cluster-name": "ml", "eks:nodegroup-name": "gpu"}
    )
    account.nodegroup("ml", "gpu", team="vision", expires_at=LIVE)
    (emr_node,) = account.instances(1, team="nlp", expires_at=EXPIRED, **{"aws:elasticmapreduce:job-flow-id": "j-1"})
    result = by_id(account.run(apply=True))
    for member in (members[0], eks_node, emr_node):
        assert result[member].status is Status.SKIPPED
        assert "tag the group instead" in result[member].reason
        assert account.instance_state(member) == "running"
    assert "eks:nodegroup ml/gpu" in result[eks_node].reason
    assert account.asg_exists("serving")


def test_blast_radius_cap_acts_on_nothing_and_says_so(account: Account) -> None:
    ids = account.instances(4, team="vision", expires_at=EXPIRED)
    cfg = parse_settings({"reaper": {"max_actions_per_run": 3}})
    result = account.run(cfg, apply=True)
    assert result.blocked
    assert all(by_id(result)[i].status is Status.SKIPPED for i in ids)
    assert all(account.instance_state(i) == "running" for i in ids)
    blocked = [e for e in account.published if e.kind is AlertKind.REAP_BLOCKED]
    assert len(blocked) == 1 and blocked[0].severity is Severity.CRITICAL
    assert len(blocked[0].details["items"]) == 4 and "cap is 3" in blocked[0].title
    account.run(cfg, apply=True)  # same plan again: not announced twice
    assert len([e for e in account.published if e.kind is AlertKind.REAP_BLOCKED]) == 1


def test_rerun_is_idempotent(account: Account) -> None:
    ids = account.instances(2, team="vision", expires_at=EXPIRED)
    first = account.run(apply=True)
    assert first.counts()["done"] == 2
    second = account.run(apply=True)
    assert second.counts()["done"] == 0 and not second.failed
    assert all(by_id(second)[i].reason == "already terminated: nothing to do" for i in ids)
    reaped = [e for e in account.published if e.kind is AlertKind.REAPED]
    assert len(reaped) == 1 and reaped[0].team == "vision"


def test_a_failing_region_is_reported_and_the_other_goes_on(account: Account) -> None:
    (us,) = account.instances(1, team="vision", expires_at=EXPIRED)
    account.instances(1, region="eu-west-1", team="vision", expires_at=EXPIRED)
    account.failing_regions.add("eu-west-1")
    result = account.run(regions=REGIONS, apply=True)
    assert by_id(result)[us].status is Status.DONE
    assert {e.region for e in result.errors} == {"eu-west-1"}
    assert {e.source for e in result.errors} >= {"tagging", "autoscaling:group", "emr:cluster", "eks:nodegroup"}
    assert all("Could not connect" in e.error for e in result.errors)
    assert not any(d.region == "eu-west-1" for d in result.decisions)


def test_malformed_tag_becomes_one_tag_violation_per_team(account: Account) -> None:
    (bad,) = account.instances(1, team="vision", expires_at="31/12/2026")
    (bad2,) = account.instances(1, team="vision", expires_at="next week")
    result = account.run(apply=True)
    assert account.instance_state(bad) == account.instance_state(bad2) == "running"
    assert by_id(result)[bad].reason.startswith("malformed expires_at: day/month order is ambiguous")
    violations = [e for e in account.published if e.kind is AlertKind.TAG_VIOLATION]
    assert len(violations) == 1 and violations[0].team == "vision" and len(violations[0].details["items"]) == 2
    account.run(apply=True)  # hourly rerun: not reported again
    assert len([e for e in account.published if e.kind is AlertKind.TAG_VIOLATION]) == 1


def test_warnings_once_per_resource_and_threshold(account: Account) -> None:
    (soon,) = account.instances(1, team="vision", expires_at=(NOW + timedelta(hours=60)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    account.run()
    account.run(now=NOW + timedelta(hours=1))
    warnings = [e for e in account.published if e.kind is AlertKind.EXPIRY_WARNING]
    assert [w.details["threshold_hours"] for w in warnings] == [72]
    account.run(now=NOW + timedelta(hours=40))  # 20 h left: the 24 h warning, once
    account.run(now=NOW + timedelta(hours=41))
    warnings = [e for e in account.published if e.kind is AlertKind.EXPIRY_WARNING]
    assert [w.details["threshold_hours"] for w in warnings] == [72, 24]
    last = warnings[-1]
    assert last.team == "vision" and soon in last.title
    assert f"aws ec2 create-tags --region us-east-1 --resources {soon} --tags Key=expires_at,Value=" in last.summary
    assert "dry run is on" in last.summary
    assert account.instance_state(soon) == "running"


def test_missing_expiry_report_then_mark(account: Account) -> None:
    (untagged,) = account.instances(1, team="vision", environment="experiment")
    (other,) = account.instances(1, team="vision", environment="development")
    report = by_id(account.run(apply=True))
    assert "missing_expiry=report" in report[untagged].reason and other not in report
    assert "expires_at" not in account.instance_tags(untagged)
    cfg = parse_settings({"reaper": {"missing_expiry": "mark", "default_ttl_days": 7}})
    marked = by_id(account.run(cfg, apply=True))
    assert (marked[untagged].action, marked[untagged].status) == ("mark", Status.DONE)
    assert account.instance_tags(untagged)["expires_at"] == "2026-12-17T12:00:00Z"
    assert account.instance_state(untagged) == "running"
    warning = [e for e in account.published if e.kind is AlertKind.EXPIRY_WARNING]
    assert len(warning) == 1 and "had no expires_at" in warning[0].title
    # Next run it simply carries a (live) expiry.
    assert by_id(account.run(cfg, apply=True))[untagged].reason.startswith("live: expires 2026-12-17T12:00:00Z")


def test_mark_in_dry_run_writes_nothing(account: Account) -> None:
    (untagged,) = account.instances(1, team="vision", environment="experiment")
    cfg = parse_settings({"reaper": {"missing_expiry": "mark"}})
    planned = by_id(account.run(cfg))
    assert (planned[untagged].action, planned[untagged].status) == ("mark", Status.PLANNED)
    assert "expires_at" not in account.instance_tags(untagged)
    assert not [e for e in account.published if e.kind is AlertKind.EXPIRY_WARNING]


def test_every_decision_is_audited_with_a_ttl(account: Account) -> None:
    account.instances(1, team="vision", expires_at=EXPIRED)
    account.instances(1, team="vision", expires_at="not-a-date")
    result = account.run(apply=True)
    items = account.state.query("audit#2026-12-10")
    assert len(items) == len(result.decisions) == 2
    assert {i["status"] for i in items} == {"done", "skipped"}
    assert all(i["run_id"] == result.run_id and i["expiration"] > 0 and i["dry_run"] is False for i in items)


def test_failed_action_is_recorded_and_reported(account: Account) -> None:
    (doomed,) = account.instances(1, team="vision", expires_at=EXPIRED)
    ec2 = account.client("ec2")
    # Protection switched on after the check (between plan and act): the terminate call is refused.
    from costwarden.resources.ec2_instance import Ec2Instance

    original = Ec2Instance.check_protection

    def stale_check(self, clients, region, resources):  # type: ignore[no-untyped-def]
        checked = original(self, clients, region, resources)
        ec2.modify_instance_attribute(InstanceId=doomed, DisableApiTermination={"Value": True})
        return checked

    Ec2Instance.check_protection = stale_check  # type: ignore[method-assign]
    try:
        result = account.run(apply=True)
    finally:
        Ec2Instance.check_protection = original  # type: ignore[method-assign]
    decision = by_id(result)[doomed]
    assert decision.status is Status.FAILED and "OperationNotPermitted" in decision.reason
    assert result.failed
    reaped = [e for e in account.published if e.kind is AlertKind.REAPED]
    assert reaped[0].severity is Severity.WARNING and "1 failed" in reaped[0].title


def test_batches_not_per_resource_requests(account: Account) -> None:
    ids = account.instances(30, team="vision", expires_at=EXPIRED)
    calls: list[str] = []

    def count(**kwargs: object) -> None:
        calls.append(str(kwargs["event_name"]).split(".")[-1])

    clients = account.clients

    def counting(service: str, region: str):  # type: ignore[no-untyped-def]
        client = clients(service, region)
        client.meta.events.register("before-call", count, unique_id="count-calls")
        return client

    account.clients = counting  # type: ignore[method-assign]
    cfg = parse_settings({"reaper": {"max_actions_per_run": 50}})
    result = account.run(cfg, regions=("us-east-1",), apply=True)
    assert result.counts()["done"] == 30
    assert calls.count("TerminateInstances") == 1
    assert calls.count("DescribeInstances") == 1
    assert all(account.instance_state(i) == "terminated" for i in ids)


def test_mark_tags_every_type_through_its_own_api(account: Account) -> None:
    experiment = {"team": "nlp", "environment": "experiment"}
    account.asg("fleet", size=1, **experiment)
    emr_id = account.emr("etl", **experiment)
    account.nodegroup("ml", "gpu", **experiment)
    account.notebook("nb", **experiment)
    volume = account.volume(**experiment)
    cfg = parse_settings({"reaper": {"missing_expiry": "mark", "default_ttl_days": 3}})
    result = account.run(cfg, apply=True)
    marked = {d.type: d for d in result.decisions if d.action == "mark"}
    assert set(marked) >= {
        "autoscaling:group",
        "emr:cluster",
        "eks:nodegroup",
        "sagemaker:notebook-instance",
        "ec2:volume",
    }
    # moto 5.2's EKS TagResource tags clusters only ("It does not tag a managed node group"): the failure is
    # recorded for that node group alone; on AWS the same call tags node groups.
    eks_mark = marked.pop("eks:nodegroup")
    assert eks_mark.status is Status.FAILED and "TagResource" in eks_mark.reason
    assert all(d.status is Status.DONE for d in marked.values()), [(d.type, d.reason) for d in marked.values()]
    value = "2026-12-13T12:00:00Z"
    asg_tags = account.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["fleet"])
    assert {"Key": "expires_at", "Value": value} in [
        {"Key": t["Key"], "Value": t["Value"]} for t in asg_tags["AutoScalingGroups"][0]["Tags"]
    ]
    emr_tags = account.client("emr").describe_cluster(ClusterId=emr_id)["Cluster"]["Tags"]
    assert {"Key": "expires_at", "Value": value} in emr_tags
    nb_arn = account.client("sagemaker").describe_notebook_instance(NotebookInstanceName="nb")["NotebookInstanceArn"]
    nb_tags = account.client("sagemaker").list_tags(ResourceArn=nb_arn)["Tags"]
    assert {"Key": "expires_at", "Value": value} in nb_tags
    vol_tags = account.client("ec2").describe_volumes(VolumeIds=[volume])["Volumes"][0]["Tags"]
    assert {"Key": "expires_at", "Value": value} in vol_tags
    # Marked resources are now live with an expiry: nothing destructive happened.
    assert account.asg_exists("fleet") and account.notebook_status("nb") == "InService"


def test_a_failing_service_is_reported_alone(account: Account) -> None:
    (instance,) = account.instances(1, team="vision", expires_at=EXPIRED)
    account.notebook("nb-old", team="vision", expires_at=EXPIRED)
    account.emr("etl", team="nlp", expires_at=EXPIRED)
    clients = account.clients

    def sagemaker_down(service: str, region: str):  # type: ignore[no-untyped-def]
        if service == "sagemaker":
            account.failing_regions.add(region)
            try:
                return clients(service, region)
            finally:
                account.failing_regions.discard(region)
        return clients(service, region)

    account.clients = sagemaker_down  # type: ignore[method-assign]
    result = account.run(apply=True)
    assert [(e.region, e.source) for e in result.errors] == [("us-east-1", "sagemaker:notebook-instance")]
    decisions = by_id(result)
    assert decisions[instance].status is Status.DONE and "nb-old" not in decisions
    assert {d.type for d in result.decisions if d.status is Status.DONE} == {"ec2:instance", "emr:cluster"}
    assert account.notebook_status("nb-old") == "InService"
