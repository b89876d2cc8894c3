"""The aggregation between the reaper's phases: global cap across accounts, per-account cap, failing items."""

from __future__ import annotations

from datetime import UTC, datetime

from costwarden.models.alert import AlertKind, Severity
from costwarden.org.aggregate import ItemOutcome, approve, org_reap_blocked, run_summary

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


def ok(account: str, region: str, planned: int) -> ItemOutcome:
    return ItemOutcome(account, region, ok=True, planned_actions=planned, sample=(f"terminate i-{account[:3]}",))


def test_within_both_caps_every_item_with_actions_is_approved_with_its_count() -> None:
    approval = approve(
        [ok("111", "us-east-1", 2), ok("111", "eu-west-1", 0), ok("222", "us-east-1", 3)], global_cap=5, account_cap=3
    )
    assert approval.approved == {"111/us-east-1": 2, "222/us-east-1": 3}
    assert not approval.blocked_globally and approval.blocked_accounts == {}


def test_the_global_cap_counts_across_accounts_and_blocks_everywhere() -> None:
    # No account is over its own cap, but together they are over the global one: nobody acts.
    outcomes = [ok("111", "us-east-1", 3), ok("222", "us-east-1", 3), ok("333", "eu-west-1", 3)]
    approval = approve(outcomes, global_cap=8, account_cap=3)
    assert approval.blocked_globally and approval.total_planned == 9
    assert approval.approved == {}
    event = org_reap_blocked("platform", outcomes, approval, NOW)
    assert event is not None and event.kind is AlertKind.REAP_BLOCKED and event.severity is Severity.CRITICAL
    assert "9 actions planned across the organization, the cap is 8" in event.title
    assert "account 222 us-east-1: 3 planned" in event.details["items"]


def test_exactly_at_the_global_cap_acts() -> None:
    assert not approve(
        [ok("111", "us-east-1", 4), ok("222", "us-east-1", 4)], global_cap=8, account_cap=4
    ).blocked_globally


def test_the_per_account_cap_sums_regions_and_blocks_only_that_account() -> None:
    outcomes = [ok("111", "us-east-1", 2), ok("111", "eu-west-1", 2), ok("222", "us-east-1", 3)]
    approval = approve(outcomes, global_cap=100, account_cap=3)
    assert approval.blocked_accounts == {"111": 4}
    assert approval.approved == {"222/us-east-1": 3}
    event = org_reap_blocked("platform", outcomes, approval, NOW)
    assert event is not None and "1 account(s) over the per-account cap" in event.title
    assert "111 (4)" in event.summary


def test_a_failed_item_is_reported_and_the_others_go_on() -> None:
    failed = ItemOutcome.from_output(
        {
            "Error": "AccessDenied",
            "Cause": "not authorized to assume",
            "item": {"account_id": "333", "region": "us-east-1"},
        }
    )
    approval = approve([ok("111", "us-east-1", 1), failed], global_cap=10, account_cap=10)
    assert approval.approved == {"111/us-east-1": 1}
    assert approval.failed == {"333/us-east-1": "AccessDenied: not authorized to assume"}
    summary = run_summary([ok("111", "us-east-1", 1), failed], approval.summary(), [], {"444": "excluded"})
    assert summary["failed_accounts"] == ["333"]
    assert summary["accounts"]["333"]["errors"] == ["us-east-1 (plan): AccessDenied: not authorized to assume"]
    assert summary["skipped_accounts"] == {"444": "excluded"}


def test_nothing_blocked_means_no_alert() -> None:
    approval = approve([ok("111", "us-east-1", 1)], global_cap=10, account_cap=10)
    assert org_reap_blocked("platform", [ok("111", "us-east-1", 1)], approval, NOW) is None


def test_hostile_item_outputs_count_for_nothing() -> None:
    weird = ItemOutcome.from_output({"account_id": "111", "region": "us-east-1", "ok": True, "planned_actions": -5})
    assert weird.planned_actions == 0
    assert approve([weird], global_cap=1, account_cap=1).approved == {}
