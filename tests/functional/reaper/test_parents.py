"""Safety through parents: deleting an ASG, terminating an EMR cluster or deleting an EKS node group takes its
member instances with it, so a member carrying the protect tag (or ``environment=production``) keeps the whole
parent alive — skipped and reported in the plan and the audit, never acted on. A member the reaper cannot read
counts the same way. Members are read in batches (requests grow with batches, not members)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from costwarden.resources.model import Status
from costwarden.settings import parse_settings

from tests.functional.reaper.reaper_env import EXPIRED, Account, by_id

PROTECT = {"costwarden:protect": "true"}


def _audit(account: Account) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in account.state.query("audit#2026-12-10")}


def test_asg_with_a_protected_member_is_skipped_and_reported(account: Account) -> None:
    members = account.asg("fleet", size=2, team="nlp", expires_at=EXPIRED)
    account.tag_instance(members[1], **PROTECT)
    plain = account.asg("plain", size=1, team="nlp", expires_at=EXPIRED)

    result = account.run(apply=True)
    decisions = by_id(result)
    assert decisions["fleet"].status is Status.SKIPPED
    assert f"member {members[1]}: protected by costwarden:protect=true" in decisions["fleet"].reason
    assert account.asg_exists("fleet")
    assert all(account.instance_state(m) == "running" for m in members)
    # The reason is in the audit too, and the member says why its expired tag was not acted on.
    assert _audit(account)["fleet"]["status"] == "skipped"
    assert "protected by costwarden:protect=true" in _audit(account)["fleet"]["reason"]
    assert "parent skipped" in decisions[members[0]].reason
    # Unprotected groups still go.
    assert decisions["plain"].status is Status.DONE and not account.asg_exists("plain")
    assert all(account.instance_state(m) == "terminated" for m in plain)


def test_asg_with_a_production_member_is_skipped_in_the_plan_too(account: Account) -> None:
    members = account.asg("fleet", size=2, team="nlp", expires_at=EXPIRED)
    account.tag_instance(members[0], environment="production")
    decision = by_id(account.run())["fleet"]  # dry run: the plan says so
    assert decision.status is Status.SKIPPED and decision.action == "delete"
    assert f"member {members[0]}: environment=production" in decision.reason
    allowed = parse_settings({"reaper": {"allow_production": True}})
    assert by_id(account.run(allowed))["fleet"].status is Status.PLANNED


def test_configured_keys_protect_members(account: Account) -> None:
    cfg = parse_settings(
        {
            "tags": {
                "expires_key": "ttl",
                "protect_key": "acme:keep",
                "environment_key": "env",
                "team_key": "owner",
                "required": ["owner", "env"],
                "optional": ["ttl"],
                "allowed_values": {},
            },
            "stack_tags": {"owner": "platform", "env": "production"},
        }
    )
    kept = account.asg("kept", size=1, owner="nlp", ttl=EXPIRED)
    account.tag_instance(kept[0], **{"acme:keep": "yes-but-not-true"})
    prod = account.asg("prod", size=1, owner="nlp", ttl=EXPIRED)
    account.tag_instance(prod[0], env="Production")
    guarded = account.asg("guarded", size=1, owner="nlp", ttl=EXPIRED)
    account.tag_instance(guarded[0], **{"acme:keep": "TRUE"})
    decisions = by_id(account.run(cfg, apply=True))
    assert decisions["guarded"].status is Status.SKIPPED and "acme:keep=true" in decisions["guarded"].reason
    assert decisions["prod"].status is Status.SKIPPED and "env=production" in decisions["prod"].reason
    assert decisions["kept"].status is Status.DONE  # only the protect value protects
    assert account.asg_exists("guarded") and account.asg_exists("prod") and not account.asg_exists("kept")


def test_emr_cluster_with_a_protected_member_is_skipped(account: Account) -> None:
    cluster, members = account.emr_with_members("etl", team="nlp", expires_at=EXPIRED)
    account.tag_instance(members[-1], **PROTECT)
    other, _ = account.emr_with_members("old", team="nlp", expires_at=EXPIRED)
    decisions = by_id(account.run(apply=True))
    assert decisions[cluster].status is Status.SKIPPED
    assert f"member {members[-1]}: protected by costwarden:protect=true" in decisions[cluster].reason
    assert account.emr_state(cluster) == "WAITING"
    assert all(account.instance_state(m) == "running" for m in members)
    assert decisions[other].status is Status.DONE and account.emr_state(other).startswith("TERMINAT")


def test_eks_nodegroup_with_a_protected_node_is_skipped(account: Account) -> None:
    account.nodegroup("ml", "gpu", team="vision", expires_at=EXPIRED)
    account.nodegroup("ml", "cpu", team="vision", expires_at=EXPIRED)
    account.nodegroup("other", "gpu", team="vision", expires_at=EXPIRED)
    # moto starts no nodes for a node group: these are what EKS tags its nodes with.
    (node,) = account.instances(1, **{"eks:cluster-name": "ml", "eks:nodegroup-name": "gpu", **PROTECT})
    account.instances(1, **{"eks:cluster-name": "ml", "eks:nodegroup-name": "cpu"})
    result = account.run(apply=True)
    by_group = {tuple(d.arn.split("/")[1:3]): d for d in result.decisions if d.type == "eks:nodegroup"}
    assert {k: d.status for k, d in by_group.items()} == {
        ("ml", "gpu"): Status.SKIPPED,
        ("ml", "cpu"): Status.DONE,
        ("other", "gpu"): Status.DONE,  # same name in another cluster: its nodes are not the protected one
    }
    skipped = [by_group[("ml", "gpu")]]
    assert f"member {node}: protected by costwarden:protect=true" in skipped[0].reason
    assert account.nodegroups("ml") == ["gpu"] and account.nodegroups("other") == []
    assert account.instance_state(node) == "running"


def _failing(account: Account, operation: str, when: Any) -> None:
    clients = account.clients

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if when(params):
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "not allowed"}}, operation)

    def factory(service: str, region: str) -> Any:
        client = clients(service, region)
        client.meta.events.register(f"provide-client-params.*.{operation}", refuse, unique_id=f"refuse-{operation}")
        return client

    account.clients = factory  # type: ignore[method-assign]


def test_members_that_cannot_be_read_keep_the_parent(account: Account) -> None:
    account.asg("fleet", size=2, team="nlp", expires_at=EXPIRED)
    cluster, _ = account.emr_with_members("etl", team="nlp", expires_at=EXPIRED)
    # Every DescribeInstances after the inventory's own (which hydrates the tagged instances) fails: the read of
    # the group's members.
    seen: list[object] = []
    _failing(account, "DescribeInstances", lambda p: seen.append(p) or len(seen) > 1)
    _failing(account, "ListInstances", lambda p: True)
    decisions = by_id(account.run(apply=True))
    assert decisions["fleet"].status is Status.SKIPPED
    assert "members could not be read" in decisions["fleet"].reason and "not allowed" in decisions["fleet"].reason
    assert decisions[cluster].status is Status.SKIPPED and "members could not be read" in decisions[cluster].reason
    assert account.asg_exists("fleet") and account.emr_state(cluster) == "WAITING"


@pytest.mark.parametrize("groups", [1, 4])
def test_members_are_read_in_batches(account: Account, groups: int) -> None:
    for n in range(groups):
        account.asg(f"fleet-{n}", size=3, team="nlp", expires_at=EXPIRED)
    calls: list[str] = []
    clients = account.clients

    def counting(service: str, region: str) -> Any:
        client = clients(service, region)
        client.meta.events.register(
            "before-call", lambda **kw: calls.append(str(kw["event_name"]).split(".")[-1]), unique_id="count"
        )
        return client

    account.clients = counting  # type: ignore[method-assign]
    result = account.run(apply=True)
    assert [d.status for d in result.decisions if d.type == "autoscaling:group"] == [Status.DONE] * groups
    # One DescribeInstances hydrates the tagged members, one reads the groups' members: not one per member or group.
    assert calls.count("DescribeInstances") == 2


def test_reap_plan_output_names_the_protected_member(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from costwarden.cli.main import main

    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    monkeypatch.delenv("ALERT_TOPIC_ARN", raising=False)
    monkeypatch.delenv("COSTWARDEN_SETTINGS", raising=False)
    members = account.asg("fleet", size=2, team="nlp", expires_at="2026-01-01")
    account.tag_instance(members[0], **PROTECT)
    assert main(["reap", "--format", "json", "--regions", "us-east-1"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert rows["fleet"]["status"] == "skipped" and rows["fleet"]["action"] == "delete"
    assert f"member {members[0]}: protected by costwarden:protect=true" in rows["fleet"]["reason"]
    assert main(["reap", "--apply", "--regions", "us-east-1"]) == 0
    assert account.asg_exists("fleet")
