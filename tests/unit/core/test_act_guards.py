"""The guards of the one action path, in their order, on plain resources: nothing here may reach AWS (the clients
factory fails the test if it is called), so a refusal or a dry run provably calls nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from costwarden.core.act import Guard, Request, Rules, Trigger, Verb, act_on, decision_for, refusal
from costwarden.resources.model import Member, ParentRef, Resource, Status
from costwarden.settings import parse_settings

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
SETTINGS = parse_settings({"tags": {"protect_key": "keep", "environment_key": "stage", "team_key": "owner"}})
RULES = Rules.for_settings(SETTINGS)


def no_aws(service: str, region: str) -> Any:
    raise AssertionError(f"AWS called: {service} in {region}")


def instance(id_: str = "i-1", **tags: str) -> Resource:
    arn = f"arn:aws:ec2:us-east-1:123456789012:instance/{id_}"
    return Resource(arn=arn, type="ec2:instance", region="us-east-1", id=id_, tags=tags, state="running")


def asg(members: tuple[Member, ...] | None, error: str = "") -> Resource:
    arn = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/train"
    return Resource(
        arn=arn, type="autoscaling:group", region="us-east-1", id="train", tags={}, members=members, members_error=error
    )


def test_the_configured_keys_decide() -> None:
    assert refusal(instance(keep="true"), Verb.TAG, RULES) == (Guard.PROTECT_TAG, "protected by keep=true")
    assert refusal(instance(**{"costwarden:protect": "true"}), Verb.TAG, RULES) is None  # not the configured key
    guard, why = refusal(instance(stage="production"), Verb.UNTAG, RULES) or (None, "")
    assert guard is Guard.PRODUCTION and why.startswith("stage=production: never touched")
    assert refusal(instance(environment="production"), Verb.TAG, RULES) is None
    assert refusal(instance(stage="production"), Verb.TAG, replace(RULES, allow_production=True)) is None


def test_the_protect_tag_comes_before_production() -> None:
    assert refusal(instance(keep="true", stage="production"), Verb.STOP, RULES) == (
        Guard.PROTECT_TAG,
        "protected by keep=true",
    )


def test_an_inactive_resource_is_not_acted_on() -> None:
    gone = replace(instance(), state="terminated", active=False)
    assert refusal(gone, Verb.TAG, RULES) == (Guard.INACTIVE, "already terminated: nothing to do")


def test_destructive_guards_apply_to_act_only() -> None:
    member = replace(instance(), parent=ParentRef("autoscaling:group", "train"), termination_protected=False)
    assert (refusal(member, Verb.ACT, RULES) or (None,))[0] is Guard.CLUSTER_MEMBER
    assert refusal(member, Verb.TAG, RULES) is None
    unknown = replace(instance(), termination_protected=None)
    assert (refusal(unknown, Verb.ACT, RULES) or (None,))[0] is Guard.TERMINATION_PROTECTION
    assert refusal(unknown, Verb.STOP, RULES) is None  # termination protection does not prevent a stop


def test_termination_protection_holds_unless_forced() -> None:
    protected = replace(instance(), termination_protected=True)
    guard, why = refusal(protected, Verb.ACT, RULES) or (None, "")
    assert guard is Guard.TERMINATION_PROTECTION and "force_termination_protected" in why
    assert refusal(protected, Verb.ACT, replace(RULES, force_termination_protected=True)) is None


@pytest.mark.parametrize(
    ("parent", "expected"),
    [
        (asg(None), "its members could not be read (not read): not acted on"),
        (asg(None, "AccessDenied: no"), "its members could not be read (AccessDenied: no): not acted on"),
        (asg((Member("i-a", {}), Member("i-b", {"keep": "true"}))), "its member i-b: protected by keep=true"),
        (asg((Member("i-a", {"stage": "Production"}),)), "its member i-a: stage=production: never touched"),
    ],
)
def test_a_parent_is_refused_for_its_members(parent: Resource, expected: str) -> None:
    guard, why = refusal(parent, Verb.ACT, RULES) or (None, "")
    assert guard is Guard.MEMBERS and why.startswith(expected)


def test_a_parent_with_plain_members_passes() -> None:
    assert refusal(asg((Member("i-a", {"stage": "experiment"}),)), Verb.ACT, RULES) is None


def _requests(*resources: Resource, verb: Verb = Verb.TAG) -> list[Request]:
    return [
        Request(r, verb, decision_for(r, verb.value, SETTINGS.tags, reason="planned"), tags={"k": "v"})
        for r in resources
    ]


def test_refusals_and_the_cap_call_nothing_and_are_all_audited() -> None:
    written: list[tuple[str, bool, list[Any]]] = []

    def audit(run_id: str, started_at: datetime, dry_run: bool, decisions: Any) -> str | None:
        written.append((run_id, dry_run, list(decisions)))
        return None

    requests = _requests(instance("i-1"), instance("i-2", keep="true"), instance("i-3"))
    result = act_on(
        requests,
        trigger=Trigger.HARD_LIMIT,
        rules=replace(RULES, cap=1),
        dry_run=False,
        clients=no_aws,
        audit=audit,
        now=NOW,
    )
    assert result.blocked and result.run_id.startswith("20261210T120000Z-hard-limit-")
    assert [o.refused_by for o in result.outcomes] == [Guard.CAP, Guard.PROTECT_TAG, Guard.CAP]
    assert result.outcomes[1].decision.reason == "planned; protected by keep=true"
    [(run_id, dry_run, decisions)] = written
    assert run_id == result.run_id and dry_run is False
    assert [d.status for d in decisions] == [Status.SKIPPED] * 3
    assert [d.team for d in decisions] == ["unowned"] * 3


def test_a_dry_run_calls_nothing_and_keeps_the_plan() -> None:
    unchecked = replace(instance("i-1", owner="nlp"), termination_protected=None)
    requests = _requests(unchecked, instance("i-2"), verb=Verb.ACT)
    result = act_on(
        requests, trigger=Trigger.CLI, rules=RULES, dry_run=True, clients=no_aws, audit=None, now=NOW, run_id="r"
    )
    assert [o.status for o in result.outcomes] == [Status.SKIPPED, Status.PLANNED]  # i-1: protection unknown
    assert result.outcomes[0].decision.team == "nlp"
    assert result.settle([r.decision for r in requests]) == [o.decision for o in result.outcomes]


def test_nothing_to_do_writes_no_audit() -> None:
    def audit(*_: Any) -> str | None:
        raise AssertionError("audited an empty batch")

    result = act_on([], trigger=Trigger.LIMITS, rules=RULES, dry_run=False, clients=no_aws, audit=audit, now=NOW)
    assert result.outcomes == [] and not result.blocked
