"""The pieces issue 19's duplicate pass made shared: each now serves several callers, so each is pinned here on its
own, hostile inputs first (an empty token, a failing batch, a blank-padded region, a cache asking the wrong key)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from costwarden.adapters.aws import token_pages
from costwarden.adapters.state import MemoryStateStore
from costwarden.cost.budget import BudgetStatus
from costwarden.cost.cache import CostCache
from costwarden.models.alert import Severity
from costwarden.resources.base import tagging_batches
from costwarden.resources.model import Resource
from costwarden.settings._base import ChannelName, RegionName
from pydantic import TypeAdapter, ValidationError


def _pager(pages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any]:
    asked: list[dict[str, Any]] = []

    def call(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return pages[len(asked) - 1]

    return asked, call


def test_token_pages_stops_at_an_empty_token_and_sends_each_token_back_under_its_own_name() -> None:
    asked, call = _pager([{"items": [1], "nextToken": "t1"}, {"items": [2], "nextToken": ""}])
    pages = list(token_pages(call, {"states": ["active"]}, "nextToken"))
    assert [p["items"] for p in pages] == [[1], [2]]
    assert asked == [{"states": ["active"]}, {"states": ["active"], "nextToken": "t1"}]


def test_token_pages_lets_a_failing_request_raise_after_the_pages_already_read() -> None:
    def call(params: dict[str, Any]) -> dict[str, Any]:
        if "NextToken" in params:
            raise RuntimeError("throttled for good")
        return {"NextToken": "t1"}

    pages = token_pages(call, {}, "NextToken")
    assert next(pages) == {"NextToken": "t1"}
    with pytest.raises(RuntimeError, match="throttled for good"):
        next(pages)


def _resources(count: int) -> list[Resource]:
    return [
        Resource(
            arn=f"arn:aws:ec2:us-east-1:1:volume/vol-{i}", type="ec2:volume", region="us-east-1", id=f"vol-{i}", tags={}
        )
        for i in range(count)
    ]


def test_tagging_batches_fails_only_the_batch_whose_call_raised_and_only_the_arns_the_api_refused() -> None:
    resources = _resources(45)
    calls: list[list[str]] = []

    def call(arns: list[str]) -> dict[str, Any]:
        calls.append(arns)
        if len(calls) == 2:
            raise RuntimeError("AccessDenied")
        return {"FailedResourcesMap": {arns[0]: {"ErrorCode": "InternalServiceException"}}}

    result = tagging_batches(resources, call)
    assert [len(c) for c in calls] == [20, 20, 5]
    assert result[resources[0].arn] == "failed"  # refused without a message: still a failure, never None
    assert result[resources[1].arn] is None
    assert {result[r.arn] for r in resources[20:40]} == {"RuntimeError: AccessDenied"}
    assert result[resources[40].arn] == "failed"
    assert [arn for arn, error in result.items() if error is None] == [r.arn for r in resources[1:20] + resources[41:]]


@pytest.mark.parametrize(
    ("annotation", "value", "rule"),
    [
        (RegionName, "us-east-1 ", "a region is an AWS region name"),
        (RegionName, "US-EAST-1", "a region is an AWS region name"),
        (ChannelName, "#alerts", "a channel key is 1-80 characters"),
        (ChannelName, "a" * 81, "a channel key is 1-80 characters"),
    ],
)
def test_a_pattern_setting_refuses_a_near_miss_with_its_own_rule(annotation: Any, value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        TypeAdapter(annotation).validate_python(value)


def test_a_pattern_setting_keeps_a_valid_value_unchanged() -> None:
    assert TypeAdapter(RegionName).validate_python("eu-west-1") == "eu-west-1"
    assert TypeAdapter(ChannelName).validate_python("ml-alerts.prod") == "ml-alerts.prod"


def test_ranks_follow_declaration_order() -> None:
    assert [s.rank for s in (Severity.INFO, Severity.WARNING, Severity.CRITICAL)] == [0, 1, 2]
    assert [b.rank for b in (BudgetStatus.ON_TRACK, BudgetStatus.AT_RISK, BudgetStatus.OVER_BUDGET)] == [0, 1, 2]
    assert Severity("critical").rank > Severity("warning").rank


class _Source:
    requests = 0
    throttled = 0

    def __init__(self) -> None:
        self.asked: list[tuple[date, date, list[str], str, tuple[str, ...]]] = []

    def daily_by_tags(self, start: date, end: date, tag_keys: Any, **basis: Any) -> list[dict[str, Any]]:
        self.asked.append((start, end, list(tag_keys), basis["metric"], tuple(basis["excluded_record_types"])))
        return [{"ResultsByTime": [], "DimensionValueAttributes": []}]

    def daily_by_service(self, start: date, end: date, **query: Any) -> list[dict[str, Any]]:
        raise AssertionError("the cache asks by tags only")

    def total_by_tag(self, start: date, end: date, **query: Any) -> list[dict[str, Any]]:
        raise AssertionError("the cache asks by tags only")


def test_the_cache_asks_the_source_the_question_it_stores() -> None:
    source = _Source()
    cache = CostCache(MemoryStateStore(), ["team", "project"], "UnblendedCost", ("Credit",), ttl_days=5)
    report = cache.load_from(source, date(2026, 12, 1), date(2026, 12, 4))
    assert source.asked == [(date(2026, 12, 1), date(2026, 12, 4), ["team", "project"], "UnblendedCost", ("Credit",))]
    assert report.pulled == [("2026-12-01", "2026-12-04")]
