"""Planning rules on plain resources: each rule, its reason, and the cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from costwarden.reaper.plan import make_plan
from costwarden.resources.model import ParentRef, Resource, Status
from costwarden.settings import Settings, parse_settings

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
EXPIRED = "2026-12-01"
LIVE = "2026-12-31"


def instance(n: int, **tags: str) -> Resource:
    return Resource(
        arn=f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x}",
        type="ec2:instance",
        region="us-east-1",
        id=f"i-{n:017x}",
        key=f"i-{n:017x}",
        tags={"team": "vision", **tags},
        state="running",
        termination_protected=False,
    )


def group_g(tags: dict[str, str]) -> tuple[Resource, Resource]:
    """Auto Scaling group ``g`` carrying ``tags``, and an expired instance that is its member."""
    arn = "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x:autoScalingGroupName/g"
    group = Resource(arn=arn, type="autoscaling:group", region="us-east-1", id="g", key="g", tags=tags)
    return group, replace(instance(1, expires_at=EXPIRED), parent=ParentRef("autoscaling:group", "g"))


def settings(**reaper: object) -> Settings:
    return parse_settings({"reaper": reaper})


def only(resources: list[Resource], cfg: Settings | None = None, now: datetime = NOW, **kw: bool):  # type: ignore[no-untyped-def]
    plan = make_plan(resources, cfg or settings(), now, **kw)
    return plan, {d.arn: d for d in plan.decisions}


def test_expired_is_planned_live_is_kept() -> None:
    a, b = instance(1, expires_at=EXPIRED), instance(2, expires_at=LIVE)
    plan, by = only([a, b])
    assert by[a.arn].status is Status.PLANNED and by[a.arn].action == "terminate"
    assert "expired since 2026-12-02T00:00:00Z" in by[a.arn].reason
    assert by[b.arn].status is Status.SKIPPED and by[b.arn].reason.startswith("live: expires 2027-01-01")
    assert [r.arn for r, _ in plan.actions] == [a.arn]
    assert by[a.arn].team == "vision" and by[a.arn].expires_at == EXPIRED


def test_protect_tag_and_production_are_never_planned() -> None:
    p = instance(1, expires_at=EXPIRED, **{"costwarden:protect": "true"})
    q = instance(2, expires_at=EXPIRED, environment="production")
    plan, by = only([p, q])
    assert not plan.actions
    assert "protected by costwarden:protect=true" in by[p.arn].reason
    assert "environment=production" in by[q.arn].reason


def test_production_allowed_by_settings() -> None:
    q = instance(2, expires_at=EXPIRED, environment="production")
    plan, _ = only([q], settings(allow_production=True))
    assert len(plan.actions) == 1


def test_malformed_is_a_violation_not_an_action() -> None:
    m = instance(1, expires_at="next week")
    plan, by = only([m])
    assert not plan.actions
    assert by[m.arn].reason.startswith("malformed expires_at")
    assert [(v.team, v.value) for v in plan.violations] == [("vision", "next week")]


def test_termination_protection() -> None:
    p = replace(instance(1, expires_at=EXPIRED), termination_protected=True)
    plan, by = only([p])
    assert not plan.actions and "termination protection is on" in by[p.arn].reason
    plan, by = only([p], settings(force_termination_protected=True))
    assert by[p.arn].status is Status.PLANNED and "will be turned off" in by[p.arn].reason


def test_unknown_protection_is_checked_first_then_skipped_if_still_unknown() -> None:
    u = replace(instance(1, expires_at=EXPIRED), termination_protected=None)
    plan, _ = only([u])
    assert plan.unchecked == [u]
    plan, by = only([u], protection_checked=True)
    assert not plan.actions and "could not be checked" in by[u.arn].reason


def test_cluster_member_of_live_group_is_told_to_tag_the_group() -> None:
    group, member = group_g({"team": "nlp"})
    plan, by = only([member, group])
    assert not plan.actions
    assert "tag the group instead" in by[member.arn].reason
    # Parent not in the inventory at all (it carries no expires_at): same answer.
    plan, by = only([member])
    assert "tag the group instead" in by[member.arn].reason


def test_cluster_member_of_expired_group_goes_through_the_parent() -> None:
    group, member = group_g({"team": "nlp", "expires_at": EXPIRED})
    plan, by = only([member, group])
    assert [r.arn for r, _ in plan.actions] == [group.arn]
    assert "acted on through its parent (delete)" in by[member.arn].reason


def test_member_of_expired_but_protected_parent_is_not_acted_on() -> None:
    group, member = group_g({"expires_at": EXPIRED, "costwarden:protect": "true"})
    plan, by = only([member, group])
    assert not plan.actions
    assert "parent skipped: protected" in by[member.arn].reason


def test_unknown_type_is_reported_never_acted_on() -> None:
    r = Resource(
        arn="arn:aws:rds:us-east-1:1:db:x", type="rds:db", region="us-east-1", id="x", tags={"expires_at": EXPIRED}
    )
    plan, by = only([r])
    assert not plan.actions and "unknown resource type rds:db" in by[r.arn].reason


def test_already_terminated_is_skipped() -> None:
    t = replace(instance(1, expires_at=EXPIRED), state="terminated", active=False)
    plan, by = only([t])
    assert not plan.actions and by[t.arn].reason == "already terminated: nothing to do"


def test_warnings_pick_the_tightest_threshold_crossed() -> None:
    in_50h = instance(1, expires_at="2026-12-12T14:00:00Z")
    in_10h = instance(2, expires_at="2026-12-10T22:00:00Z")
    in_5d = instance(3, expires_at="2026-12-15T12:00:00Z")
    plan, _ = only([in_50h, in_10h, in_5d])
    assert {(w.resource.arn, w.threshold_hours) for w in plan.warnings} == {(in_50h.arn, 72), (in_10h.arn, 24)}


def test_missing_expiry_report_and_mark() -> None:
    e = instance(1, environment="experiment")
    plain = instance(2)
    plan, by = only([e, plain])
    assert plain.arn not in by
    assert "missing_expiry=report" in by[e.arn].reason and not plan.marks
    plan, by = only([e, plain], settings(missing_expiry="mark", default_ttl_days=7))
    assert by[e.arn].action == "mark" and by[e.arn].status is Status.PLANNED
    assert plan.marks[0][2] == "2026-12-17T12:00:00Z"
    assert plan.warnings[0].marked


def test_blast_radius_cap_blocks_everything() -> None:
    resources = [instance(n, expires_at=EXPIRED) for n in range(4)]
    plan, by = only(resources, settings(max_actions_per_run=3))
    assert plan.blocked
    assert all(
        d.status is Status.SKIPPED and d.reason.startswith("blocked by the blast-radius cap") for d in by.values()
    )
    plan, _ = only(resources, settings(max_actions_per_run=4))
    assert not plan.blocked and len(plan.actions) == 4


def test_marks_count_towards_the_cap() -> None:
    resources = [instance(1, expires_at=EXPIRED), instance(2, environment="experiment")]
    plan, by = only(resources, settings(max_actions_per_run=1, missing_expiry="mark"))
    assert plan.blocked and not plan.warnings
    assert {d.status for d in by.values()} == {Status.SKIPPED}
    plan, _ = only(resources, settings(max_actions_per_run=2, missing_expiry="mark"))
    assert not plan.blocked and len(plan.actions) == len(plan.marks) == 1


def test_end_of_calendar_is_never_acted_on_or_warned_about() -> None:
    never = instance(1, expires_at="9999-12-31")
    plan, by = only([never])
    assert by[never.arn].status is Status.SKIPPED and by[never.arn].reason == "live: expires never (9999-12-31)"
    assert not plan.actions and not plan.warnings
    plan, by = only([never], now=datetime.max.replace(tzinfo=UTC))
    assert not plan.actions


def _group(**fields: object) -> Resource:
    base = Resource(
        arn="arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/fleet",
        type="autoscaling:group",
        region="us-east-1",
        id="fleet",
        key="fleet",
        tags={"team": "nlp", "expires_at": EXPIRED},
        state="InService",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_cluster_parent_members_are_checked_first_then_guard_the_parent() -> None:
    from costwarden.resources.model import Member

    unread = _group()
    plan, by = only([unread])
    assert by[unread.arn].status is Status.PLANNED and [r.arn for r in plan.unchecked] == [unread.arn]
    _, by = only([unread], protection_checked=True)
    assert by[unread.arn].status is Status.SKIPPED and "members could not be read (not read)" in by[unread.arn].reason
    failed = _group(members_error="UnauthorizedOperation: no")
    _, by = only([failed], protection_checked=True)
    assert "members could not be read (UnauthorizedOperation: no)" in by[failed.arn].reason
    protected = _group(members=(Member("i-1", {}), Member("i-2", {"costwarden:protect": "True"})))
    _, by = only([protected], protection_checked=True)
    assert by[protected.arn].status is Status.SKIPPED and by[protected.arn].action == "delete"
    assert "its member i-2: protected by costwarden:protect=true" in by[protected.arn].reason
    production = _group(members=(Member("i-1", {"environment": "production"}),))
    assert only([production], protection_checked=True)[1][production.arn].status is Status.SKIPPED
    allowed = only([production], settings(allow_production=True), protection_checked=True)[1]
    assert allowed[production.arn].status is Status.PLANNED
    empty = _group(members=())
    assert only([empty], protection_checked=True)[1][empty.arn].status is Status.PLANNED
