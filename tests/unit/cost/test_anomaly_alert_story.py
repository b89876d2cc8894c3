"""The anomaly alert's story, pure (issue 22): causes with offsets, the episode's cumulative extra, the next step
chosen from the cause, the launched resources, and the z-score kept out of what a person reads."""

from __future__ import annotations

from typing import Any

import pandas as pd
from costwarden.core import episodes
from costwarden.cost import launched, rootcause
from costwarden.cost.alerts import Explanation, anomaly_event, next_step
from costwarden.notifier.blocks import render_message

from tests.support.slack_posts import problems

METRIC = "UnblendedCost"


def _pages(by_value: dict[str, tuple[float, float]], day: str = "2026-03-10") -> list[dict[str, Any]]:
    """Seven earlier days at each value's usual, then ``day`` at its cost."""
    results = []
    for n in range(3, 11):
        start = f"2026-03-{n:02d}"
        groups = [
            {"Keys": [value], "Metrics": {METRIC: {"Amount": str(cost if start == day else usual)}}}
            for value, (usual, cost) in by_value.items()
        ]
        results.append({"TimePeriod": {"Start": start}, "Groups": groups})
    return [{"ResultsByTime": results}]


def _finding(**overrides: Any) -> dict[str, Any]:
    return {
        "date": "2026-03-10",
        "severity": "critical",
        "cost_usd": 4800.0,
        "baseline_usd": 1000.0,
        "ratio": 4.8,
        "impact_usd": 3800.0,
        "zscore": 26.41,
        **overrides,
    }


def test_hostile_answers_never_raise_and_unknown_values_are_named() -> None:
    pages = [{"ResultsByTime": [{"TimePeriod": {"Start": "2026-03-10"}, "Groups": [{"Keys": [""], "Metrics": {}}]}]}]
    assert rootcause.causes(pages, "2026-03-10", METRIC, dimension="REGION").drivers == []
    found = rootcause.causes(_pages({"": (0.0, 50.0)}), "2026-03-10", METRIC, dimension="REGION")
    assert [d.line() for d in found.drivers] == ["+$50 in (unknown)"]


def test_services_adding_up_to_more_than_the_extra_say_why() -> None:
    service = rootcause.causes(
        _pages({"Amazon SageMaker": (200.0, 4090.0), "Amazon EC2": (500.0, 415.0)}),
        "2026-03-10",
        METRIC,
        dimension="SERVICE",
    )
    assert [d.line() for d in service.drivers] == ["+$3,890 in Amazon SageMaker"] and service.fallen_usd == 85.0
    note = rootcause.overlap_note(service, 3805.0, "the 30-day median")
    assert note == (
        "The services listed add up to +$3,890, more than the +$3,805 extra: other services fell by $85 the same day "
        "(offsets), and each service is compared with its own last-week median while the alert's usual is the "
        "30-day median."
    )
    assert rootcause.overlap_note(service, 3890.0, "x") is None


def test_episode_story_sums_the_breaching_days_once_each() -> None:
    findings = pd.DataFrame(
        [
            {"team": "ml", "date": "2026-03-01", "severity": "warning", "impact_usd": 100.0},
            {"team": "ml", "date": "2026-03-02", "severity": "critical", "impact_usd": 400.0},
            {"team": "ml", "date": "2026-03-02", "severity": "critical", "impact_usd": 450.0},  # re-judged: replaces
        ]
    )
    state, _ = episodes.advance({}, findings, {}, ["team"])
    story = episodes.story(state["ml|"], "2026-03-02")
    assert story == episodes.Story(start="2026-03-01", days=2, extra_usd=550.0, breach_days=2)
    assert episodes.story({"start": "2026-03-01"}, "2026-03-01") == episodes.Story("2026-03-01", 1, 0.0, 0)


class _Tagging:
    """The tagging API of two regions: one answers pages, the other refuses."""

    def __init__(self, region: str, calls: list[dict[str, Any]]) -> None:
        self.region, self.calls = region, calls

    def get_paginator(self, name: str) -> _Tagging:
        assert name == "get_resources"
        return self

    def paginate(self, **request: Any) -> list[dict[str, Any]]:
        self.calls.append({"region": self.region, **request})
        if self.region == "eu-west-1":
            raise PermissionError("AccessDenied: tag:GetResources")
        arn = "arn:aws:ec2:us-west-2:123456789012:instance/i-{}"
        return [
            {"ResourceTagMappingList": [{"ResourceARN": arn.format(n), "Tags": _owner(n)} for n in (3, 1)]},
            {"ResourceTagMappingList": [{"ResourceARN": arn.format(2), "Tags": []}]},
        ]


def _owner(n: int) -> list[dict[str, str]]:
    return [{"Key": "team", "Value": "ml"}, {"Key": "owner" if n == 3 else "created_by", "Value": f"U0PERSON{n}"}]


def test_team_resources_one_listing_per_region_and_a_refusal_named() -> None:
    calls: list[dict[str, Any]] = []
    named = rootcause.team_resources(
        lambda service, region: _Tagging(region, calls),
        ["us-west-2", "eu-west-1"],
        team_key="team",
        team="ml",
        services=["Amazon Elastic Compute Cloud - Compute"],
        limit=2,
    )
    assert [(c["region"], c["TagFilters"], c["ResourceTypeFilters"]) for c in calls] == [
        (region, [{"Key": "team", "Values": ["ml"]}], ["ec2:instance"]) for region in ("us-west-2", "eu-west-1")
    ]
    assert [r.line() for r in named.resources] == [
        "ec2:instance i-1 (us-west-2), owner U0PERSON1",
        "ec2:instance i-2 (us-west-2), no owner tag",
    ]
    assert named.total == 3 and named.error == "eu-west-1: PermissionError: AccessDenied: tag:GetResources"
    assert rootcause.team_resources(lambda s, r: None, ["x"], team_key="t", team="ml", services=["AWS Glue"]) == (
        rootcause.Named()
    )


def test_next_step_is_chosen_from_the_cause() -> None:
    named = rootcause.Named(
        (
            launched.TeamResource("i-10", "ec2:instance", "us-west-2", "U0ALICE01"),
            launched.TeamResource("i-9", "ec2:instance", "us-west-2", ""),
        ),
        2,
    )
    story = episodes.Story("2026-03-09", 2, 5600.4, 2)
    service = rootcause.Causes("SERVICE", [rootcause.Driver("Amazon SageMaker", 4000.0, 100.0)])
    assert next_step("ml", "2026-03-10", Explanation(story, (service,), named), 3800.0) == (
        "Stop or scale down i-10, i-9 if ml does not need them running."
    )
    assert next_step("ml", "2026-03-10", Explanation(story, (service,)), 3800.0) == (
        "If ml expected this Amazon SageMaker spend, declare it planned: "
        "`/costwarden plan ml 2026-03-09 2026-03-10 5601 <reason>`."
    )
    assert next_step("ml", "2026-03-10", Explanation(), 3800.0) == (
        "Open Cost Explorer (link below) to see which usage type changed."
    )


def test_alert_keeps_the_zscore_and_key_in_metadata_and_names_unread_causes() -> None:
    explained = Explanation(
        episodes.Story("2026-03-09", 2, 5600.0, 2),
        (
            rootcause.Causes("SERVICE", [rootcause.Driver("Amazon SageMaker", 4000.0, 100.0)]),
            rootcause.Causes("USAGE_TYPE", error="AccessDeniedException: not allowed"),
        ),
        link="https://us-east-1.console.aws.amazon.com/costmanagement/home#/cost-explorer?startDate=2026-03-02",
    )
    action = episodes.Action("escalate", "ml|", _finding())
    event = anomaly_event(action, ["+$3,900 in Amazon SageMaker"], None, rule="the 30-day median", explained=explained)
    assert "z-score" not in event.details["figures"] and event.details["metadata"] == {"zscore": 26.41, "ratio": 4.8}
    assert event.title == "ml: +$3,800 in Amazon SageMaker on 2026-03-10 (4.8x usual) (escalated)"
    assert event.details["sections"] == [
        {"title": "Root causes by usage type", "lines": ["not read: AccessDeniedException: not allowed"]}
    ]
    message = render_message(event)
    assert problems(message) == []
    assert message["metadata"]["event_payload"] == {
        "dedup_key": event.dedup_key,
        "kind": "cost_anomaly",
        "team": "ml",
        "severity": "critical",
        "zscore": 26.41,
        "ratio": 4.8,
    }
    assert "26.4" not in str(message["blocks"]) and "<https://us-east-1.console" in str(message["blocks"])
