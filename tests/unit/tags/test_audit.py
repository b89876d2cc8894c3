"""The audit's pure parts: team of a resource, untagged share and trend, digests per team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from costwarden.adapters.ce_tags import TagCostRow
from costwarden.models.alert import AlertKind, Severity
from costwarden.settings import TagPolicy
from costwarden.tags.audit import (
    NO_TEAM,
    AllocationStatus,
    AuditFacts,
    audit_resources,
    build_digests,
    short_arn,
    team_of,
    untagged_share,
)

POLICY = TagPolicy()
NOW = datetime(2026, 11, 23, 7, tzinfo=UTC)
GOOD = {
    "team": "ml",
    "project": "p",
    "model_id": "m",
    "environment": "staging",
    "lifecycle_phase": "development",
    "cost_center": "cc",
}


@dataclass(frozen=True)
class R:
    arn: str
    region: str
    tags: dict[str, str]


def arn(n: int) -> str:
    return f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x}"


@pytest.mark.parametrize(
    ("tags", "team"),
    [
        ({"team": "ml"}, "ml"),
        ({"team": " ml "}, "ml"),
        ({"Team": "vision"}, "vision"),
        ({"team": "  "}, NO_TEAM),
        ({"project": "x"}, NO_TEAM),
    ],
)
def test_team_of(tags: dict[str, str], team: str) -> None:
    assert team_of(tags, POLICY) == team


def test_short_arn() -> None:
    assert short_arn(arn(1)) == "ec2:instance/i-00000000000000001"
    asg = "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:6d4a:autoScalingGroupName/web"
    assert short_arn(asg) == "autoscaling:autoScalingGroup:6d4a:autoScalingGroupName/web"


def test_untagged_share_windows_and_trend() -> None:
    rows = [TagCostRow(date(2026, 11, d), "", 10.0, False) for d in range(9, 23)]
    rows += [TagCostRow(date(2026, 11, d), "ml", 90.0 if d < 16 else 30.0, False) for d in range(9, 23)]
    rows.append(TagCostRow(date(2026, 11, 23), "", 1000.0, True))  # today: outside both windows
    rows.append(TagCostRow(date(2026, 11, 8), "", 1000.0, False))  # too old
    share = untagged_share(rows, date(2026, 11, 23), 7)
    assert (share.current_untagged, share.current_total) == (70.0, 280.0)
    assert (share.previous_untagged, share.previous_total) == (70.0, 700.0)
    assert share.share == pytest.approx(0.25)
    assert share.previous_share == pytest.approx(0.10)
    assert share.change_points == pytest.approx(15.0)
    assert share.trend() == "up 15.0 points from 10.0%"
    assert share.describe("team") == (
        "25.0% of spend ($70 of $280) had no team tag in the last 7 days, up 15.0 points from 10.0%"
    )


def test_untagged_share_without_spend() -> None:
    share = untagged_share([], date(2026, 11, 23))
    assert share.share is None and share.change_points is None
    assert share.describe("owner") == "no spend recorded in the last 7 days"
    first_week = untagged_share([TagCostRow(date(2026, 11, 20), "", 5.0, False)], date(2026, 11, 23))
    assert first_week.trend() == "no earlier week to compare"
    down = untagged_share(
        [
            TagCostRow(date(2026, 11, 10), "", 50.0, False),
            TagCostRow(date(2026, 11, 20), "", 5.0, False),
            TagCostRow(date(2026, 11, 10), "a", 50.0, False),
            TagCostRow(date(2026, 11, 20), "a", 45.0, False),
        ],
        date(2026, 11, 23),
    )
    assert down.trend() == "down 40.0 points from 50.0%"


def test_allocation_status() -> None:
    status = AllocationStatus({"team": "Active", "project": "Inactive", "model_id": None})
    assert status.inactive == ["project"] and status.unseen == ["model_id"] and not status.ok
    assert "activate these tags in Billing -> Cost allocation tags" in status.describe()
    assert AllocationStatus({"team": "Active"}).describe() == "all policy keys are active cost allocation tags"


def test_digests_per_team_and_account_summary() -> None:
    resources = [
        R(arn(1), "us-east-1", GOOD),
        R(arn(2), "us-east-1", {**GOOD, "cost_center": ""}),
        R(arn(3), "eu-west-1", {k: v for k, v in GOOD.items() if k not in {"team", "project"}}),
        R(arn(4), "us-east-1", {**GOOD, "team": "vision", "environment": "prod"}),
    ]
    violations = audit_resources(resources, POLICY)
    assert [v.arn for v in violations] == [arn(2), arn(3), arn(4)]
    events = build_digests(violations, AuditFacts(scanned=4, regions=("us-east-1",)), POLICY, NOW)
    assert [(e.team, e.kind, e.severity) for e in events] == [
        ("ml", AlertKind.TAG_VIOLATION, Severity.WARNING),
        ("vision", AlertKind.TAG_VIOLATION, Severity.WARNING),
        (NO_TEAM, AlertKind.TAG_VIOLATION, Severity.WARNING),
    ]
    ml, vision, account = events
    assert ml.details["items"] == [
        f"ec2:instance/i-{2:017x} (us-east-1): tag 'cost_center' is empty: set cost_center=<your cost center>"
    ]
    assert ml.title == "1 ml resource(s) break the tag policy"
    assert ml.dedup_key == "tag_violation#ml#2026-W48"
    assert vision.details["resources"][0]["problems"][0]["suggestion"] == "production"
    assert account.details["items"] == [f"ec2:instance/i-{3:017x} (eu-west-1): missing team, project"]
    assert account.details["figures"] == {"Resources scanned": "4", "No team": "1"}
    assert account.title == "Tag audit: 1 resource(s) without a team"
    assert "untagged spend not measured" in account.summary.lower()


def test_items_are_capped_with_a_count() -> None:
    violations = audit_resources([R(arn(n), "us-east-1", {"team": "ml"}) for n in range(12)], POLICY)
    event = build_digests(violations, AuditFacts(scanned=12), POLICY, NOW, max_items=5)[0]
    assert len(event.details["items"]) == 6
    assert event.details["items"][-1] == "... and 7 more"
    assert event.details["figures"]["Resources"] == "12"


def test_clean_account_summary_is_info_unless_share_is_high() -> None:
    rows = [TagCostRow(date(2026, 11, d), "ml", 95.0, False) for d in range(9, 23)]
    rows += [TagCostRow(date(2026, 11, d), "", 5.0, False) for d in range(9, 23)]
    facts = AuditFacts(scanned=3, share=untagged_share(rows, date(2026, 11, 23)), allocation=AllocationStatus({}))
    [event] = build_digests([], facts, POLICY, NOW)
    assert event.severity == Severity.INFO
    assert event.title == "Tag audit: 5% untagged spend"
    strict = POLICY.model_copy(update={"untagged_share_warn": 0.01})
    assert build_digests([], facts, strict, NOW)[0].severity == Severity.WARNING
