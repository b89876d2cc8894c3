"""The one action path on moto: guards refuse before anything is called, the cap holds across types, a dry run
changes nothing, a failing call fails only its own ARNs, and every request is audited in the one record shape."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.core.act import (
    BatchResult,
    Guard,
    Request,
    Rules,
    Trigger,
    Verb,
    act_on,
    decision_for,
    state_audit,
)
from costwarden.resources import REGISTRY
from costwarden.resources.model import Resource, Status, audit_items
from costwarden.settings import parse_settings

from tests.functional.reaper.reaper_env import NOW, Account

SETTINGS = parse_settings({})
RULES = Rules.for_settings(SETTINGS)


def _instances(account: Account, region: str = "us-east-1") -> dict[str, Resource]:
    return {r.id: r for r in REGISTRY["ec2:instance"].list_every(account.clients, region)}


def _volumes(account: Account, region: str = "us-east-1") -> dict[str, Resource]:
    return {r.id: r for r in REGISTRY["ec2:volume"].list_every(account.clients, region)}


def _request(resource: Resource, verb: Verb, **kwargs: Any) -> Request:
    return Request(resource, verb, decision_for(resource, verb.value, SETTINGS.tags, reason="test"), **kwargs)


def _run(
    account: Account, requests: list[Request], rules: Rules = RULES, *, dry_run: bool = False, **kwargs: Any
) -> BatchResult:
    return act_on(
        requests,
        trigger=Trigger.CLI,
        rules=rules,
        dry_run=dry_run,
        clients=account.clients,
        audit=state_audit(account.state, SETTINGS.reaper.audit_ttl_days),
        now=NOW,
        **kwargs,
    )


def _audit(state: MemoryStateStore, run_id: str) -> dict[str, dict[str, Any]]:
    return {item["arn"]: item for item in state.query(f"audit#{NOW:%Y-%m-%d}", f"{run_id}#")}


def test_protect_tag_is_refused_and_audited(account: Account) -> None:
    [kept] = account.instances(team="nlp", environment="experiment")
    account.tag_instance(kept, **{"costwarden:protect": "TRUE"})
    [free] = account.instances(team="nlp", environment="experiment")
    found = _instances(account)
    result = _run(account, [_request(found[kept], Verb.STOP), _request(found[free], Verb.STOP)])
    refused, done = result.outcomes
    assert refused.refused_by is Guard.PROTECT_TAG and refused.status is Status.SKIPPED
    assert refused.decision.reason == "test; protected by costwarden:protect=true"
    assert done.status is Status.DONE and done.refused_by is None
    assert account.instance_state(kept) == "running"
    assert account.instance_state(free) in ("stopping", "stopped")
    audit = _audit(account.state, result.run_id)
    assert audit[refused.arn]["status"] == "skipped" and "protected" in audit[refused.arn]["reason"]
    assert audit[done.arn]["status"] == "done"


def test_production_is_refused_unless_allowed(account: Account) -> None:
    [prod] = account.instances(team="nlp", environment="Production")
    resource = _instances(account)[prod]
    tags = {"expires_at": "2027-01-01"}
    refused = _run(account, [_request(resource, Verb.TAG, tags=tags)])
    assert refused.outcomes[0].refused_by is Guard.PRODUCTION
    assert "never touched" in refused.outcomes[0].note
    assert "expires_at" not in account.instance_tags(prod)

    allowed = _run(account, [_request(resource, Verb.TAG, tags=tags)], replace(RULES, allow_production=True))
    assert allowed.outcomes[0].status is Status.DONE
    assert account.instance_tags(prod)["expires_at"] == "2027-01-01"


def test_only_the_listed_environments(account: Account) -> None:
    [staging] = account.instances(team="nlp", environment="staging")
    [dev] = account.instances(team="nlp", environment="Development")
    found = _instances(account)
    rules = replace(RULES, environments=("development", "experiment"))
    result = _run(account, [_request(found[staging], Verb.STOP), _request(found[dev], Verb.STOP)], rules)
    assert [o.refused_by for o in result.outcomes] == [Guard.ENVIRONMENT, None]
    assert result.outcomes[0].note == "environment=staging: only development/experiment resources are stopped"
    assert account.instance_state(staging) == "running"


def test_the_cap_counts_every_type_and_blocks_all(account: Account) -> None:
    ids = account.instances(2, team="nlp", environment="experiment")
    volume = account.volume(team="nlp", environment="experiment")
    [protected] = account.instances(team="nlp", environment="experiment")
    account.tag_instance(protected, **{"costwarden:protect": "true"})
    instances, volumes = _instances(account), _volumes(account)
    tags = {"expires_at": "2027-01-01"}
    requests = [_request(instances[i], Verb.TAG, tags=tags) for i in (*ids, protected)]
    requests.append(_request(volumes[volume], Verb.TAG, tags=tags))

    blocked = _run(account, requests, replace(RULES, cap=2))
    assert blocked.blocked
    assert [o.refused_by for o in blocked.outcomes] == [Guard.CAP, Guard.CAP, Guard.PROTECT_TAG, Guard.CAP]
    note = "blocked by the blast-radius cap: 3 marks planned, max_actions_per_run is 2"
    assert all(o.note == note and o.decision.reason == f"test; {note}" for o in blocked.refused(Guard.CAP))
    assert all("expires_at" not in account.instance_tags(i) for i in ids)
    assert len(_audit(account.state, blocked.run_id)) == 4  # the refusals are recorded too

    within = _run(account, requests, replace(RULES, cap=3))  # the protected one does not count
    assert not within.blocked
    assert [o.status for o in within.outcomes] == [Status.DONE, Status.DONE, Status.SKIPPED, Status.DONE]
    assert all(account.instance_tags(i)["expires_at"] == "2027-01-01" for i in ids)


def test_dry_run_changes_nothing(account: Account) -> None:
    [instance] = account.instances(team="nlp", environment="experiment", expires_at="2026-12-01")
    resource = replace(_instances(account)[instance], termination_protected=False)
    result = _run(account, [_request(resource, Verb.ACT), _request(resource, Verb.TAG, tags={"a": "b"})], dry_run=True)
    assert [o.status for o in result.outcomes] == [Status.PLANNED, Status.PLANNED]
    assert account.instance_state(instance) == "running" and "a" not in account.instance_tags(instance)
    [item] = _audit(account.state, result.run_id).values()
    assert item["dry_run"] is True and item["status"] == "planned"


def test_act_terminates_what_passes_and_refuses_unknown_protection(account: Account) -> None:
    old, unchecked = account.instances(2, team="nlp", environment="experiment", expires_at="2026-12-01")
    found = _instances(account)
    result = _run(
        account,
        [
            _request(replace(found[old], termination_protected=False), Verb.ACT),
            _request(found[unchecked], Verb.ACT),  # as listed: protection not read yet
        ],
    )
    assert result.outcomes[0].status is Status.DONE
    assert result.outcomes[1].refused_by is Guard.TERMINATION_PROTECTION
    assert account.instance_state(old) in ("shutting-down", "terminated")
    assert account.instance_state(unchecked) == "running"


def test_a_failing_call_fails_only_its_own_arns(account: Account) -> None:
    [east] = account.instances(team="nlp", environment="experiment")
    [west] = account.instances(region="eu-west-1", team="nlp", environment="experiment")
    [other] = account.instances(team="nlp", environment="experiment")
    found = {**_instances(account), **_instances(account, "eu-west-1")}
    gone = replace(found[other], arn=found[other].arn.replace(other, "i-0000000000000dead"), id="i-0000000000000dead")
    account.failing_regions.add("eu-west-1")
    result = _run(
        account, [_request(found[west], Verb.STOP), _request(gone, Verb.STOP), _request(found[east], Verb.STOP)]
    )
    failed_west, failed_gone, done = result.outcomes
    assert failed_west.status is Status.FAILED and "Could not connect" in failed_west.note
    assert failed_gone.status is Status.FAILED and "InvalidInstanceID" in failed_gone.note
    assert failed_gone.decision.reason == f"test; {failed_gone.note}"
    assert done.status is Status.DONE and account.instance_state(east) in ("stopping", "stopped")
    audit = _audit(account.state, result.run_id)
    assert {audit[o.arn]["status"] for o in (failed_west, failed_gone)} == {"failed"}


def test_the_audit_record_is_the_one_shape(account: Account) -> None:
    [instance] = account.instances(team="nlp", environment="experiment")
    resource = _instances(account)[instance]
    result = _run(account, [_request(resource, Verb.TAG, tags={"k": "v"})], run_id="20261210T120000Z-fixed")
    assert result.run_id == "20261210T120000Z-fixed"
    [(pk, sk, data)] = audit_items(result.run_id, NOW, False, [result.outcomes[0].decision])
    stored = account.state.get(pk, sk)
    assert stored is not None and {k: stored[k] for k in data} == data


def test_an_audit_store_that_fails_is_reported_and_the_action_stands(account: Account) -> None:
    [instance] = account.instances(team="nlp", environment="experiment")
    resource = _instances(account)[instance]

    def broken(*_: Any) -> str | None:
        raise RuntimeError("table gone")

    result = act_on(
        [_request(resource, Verb.TAG, tags={"k": "v"})],
        trigger=Trigger.SCHEDULE,
        rules=RULES,
        dry_run=False,
        clients=account.clients,
        audit=broken,
        now=NOW,
    )
    assert result.audit_error == "RuntimeError: table gone"
    assert result.outcomes[0].status is Status.DONE and account.instance_tags(instance)["k"] == "v"
    assert result.run_id.startswith("20261210T120000Z-schedule-")


@pytest.mark.parametrize("verb", [Verb.TAG, Verb.UNTAG, Verb.STOP, Verb.ACT])
def test_an_unknown_type_is_never_acted_on(account: Account, verb: Verb) -> None:
    resource = Resource(arn="arn:aws:s3:::bucket", type="s3:bucket", region="us-east-1", id="bucket", tags={})
    result = _run(account, [_request(resource, verb, tags={"k": "v"}, keys=("k",))])
    assert result.outcomes[0].refused_by is Guard.UNKNOWN_TYPE
