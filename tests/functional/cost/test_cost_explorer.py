"""The Cost Explorer adapter against moto: pages, estimated days, groups coming and going, untagged and negative
cost, an empty answer, throttling."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from costwarden.cost.frame import UNTAGGED, ce_dates, from_ce_pages

from .conftest import World

START = date(2026, 3, 1)
KEYS = ["team", "lifecycle_phase"]


def pull(world: World, start: date, end: date, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    ce = world.explorer(**kwargs)
    pages = ce.daily_by_tags(
        start, end, KEYS, metric="AmortizedCost", excluded_record_types=("Credit", "Refund", "Tax")
    )
    return pages, ce.requests


def test_every_page_is_followed_and_counted(world: World) -> None:
    world.fake.page_days = 7
    world.fake.add_series("ml", START, [100.0] * 30)
    pages, requests = pull(world, START, START + timedelta(days=30))
    assert requests == 5 == len(pages)  # 30 days / 7 per page
    assert "NextPageToken" not in pages[-1]
    frame = from_ce_pages(pages, KEYS, "AmortizedCost")
    assert len(frame) == 30 and frame["cost_usd"].sum() == pytest.approx(3000.0)
    # End is exclusive: the last day asked for is the day before End.
    assert world.fake.requests[0]["TimePeriod"] == {"Start": "2026-03-01", "End": "2026-03-31"}
    assert frame["date"].max().date() == date(2026, 3, 30)


def test_estimated_days_are_flagged(world: World) -> None:
    world.fake.add_series("ml", START, [100.0] * 5)
    world.fake.estimated = {"2026-03-04", "2026-03-05"}
    pages, _ = pull(world, START, START + timedelta(days=5))
    assert ce_dates(pages) == {
        "2026-03-01": False,
        "2026-03-02": False,
        "2026-03-03": False,
        "2026-03-04": True,
        "2026-03-05": True,
    }
    frame = from_ce_pages(pages, KEYS, "AmortizedCost")
    assert frame.loc[frame["estimated"], "date"].dt.day.tolist() == [4, 5]


def test_groups_appear_and_disappear_untagged_and_negative(world: World) -> None:
    world.fake.add_series("old", START, [50.0] * 3)  # gone after day 3
    world.fake.add_series("new", START + timedelta(days=2), [80.0] * 3)  # appears on day 3
    world.fake.add_series(None, START, [10.0] * 5, phase=None)  # untagged team and phase
    world.fake.add("2026-03-04", "new", -30.0)  # a negative usage amount (e.g. a correction)
    world.fake.add("2026-03-04", "new", -500.0, record_type="Credit")  # excluded by the record-type filter
    pages, _ = pull(world, START, START + timedelta(days=5))
    frame = from_ce_pages(pages, KEYS, "AmortizedCost")
    per_team = frame.groupby("team")["date"].agg(["min", "max"])
    assert per_team.loc["old", "max"].day == 3 and per_team.loc["new", "min"].day == 3
    untagged = frame.loc[frame["team"] == UNTAGGED]
    assert len(untagged) == 5 and set(untagged["lifecycle_phase"]) == {UNTAGGED}
    assert frame.loc[(frame["team"] == "new") & (frame["date"].dt.day == 4), "cost_usd"].sum() == pytest.approx(50.0)
    assert world.fake.requests[0]["Filter"] == {
        "Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund", "Tax"]}}
    }


def test_empty_answer(world: World) -> None:
    pages, requests = pull(world, START, START + timedelta(days=3))
    assert requests == 1
    frame = from_ce_pages(pages, KEYS, "AmortizedCost")
    assert frame.empty and len(ce_dates(pages)) == 3


def _throttle_once(world: World, code: str = "ThrottlingException") -> list[int]:
    calls: list[int] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        calls.append(1)
        if len(calls) > 1:
            return None
        body = b'{"__type": "%s", "message": "Rate exceeded"}' % code.encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))

    world.ce_client.meta.events.register("before-send.ce.GetCostAndUsage", before_send)
    return calls


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def test_throttling_is_retried_by_botocore_standard_retries(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.001)
    world.fake.add_series("ml", START, [100.0] * 3)
    calls = _throttle_once(world)
    pages, requests = pull(world, START, START + timedelta(days=3))
    assert len(calls) == 2 and requests == 1  # one logical request, retried once on the wire
    assert len(from_ce_pages(pages, KEYS, "AmortizedCost")) == 3


@pytest.mark.parametrize("code", ["ThrottlingException", "LimitExceededException"])
def test_throttling_beyond_botocore_is_retried_with_backoff(world: World, code: str) -> None:
    import boto3

    from .fake_ce import FakeCostExplorer

    # A client without botocore retries: the adapter's own retry must handle it (the sleep is injected).
    world.ce_client = boto3.client(
        "ce", region_name="us-east-1", config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    )
    fake = FakeCostExplorer()
    fake.add_series("ml", START, [100.0] * 3)
    fake.install(world.ce_client)
    calls = _throttle_once(world, code)
    sleeps: list[float] = []
    from costwarden.adapters.cost_explorer import CostExplorer

    ce = CostExplorer(client=world.ce_client, sleep=sleeps.append, base_delay_seconds=0.5)
    pages = ce.daily_by_tags(START, START + timedelta(days=3), KEYS, metric="AmortizedCost", excluded_record_types=())
    assert len(calls) == 2 and sleeps == [0.5] and ce.throttled == 1 and ce.requests == 2
    assert len(from_ce_pages(pages, KEYS, "AmortizedCost")) == 3


def test_other_errors_are_not_retried(world: World) -> None:
    import boto3

    world.ce_client = boto3.client(
        "ce", region_name="us-east-1", config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    )
    _throttle_once(world, "DataUnavailableException")
    from costwarden.adapters.cost_explorer import CostExplorer

    ce = CostExplorer(client=world.ce_client, sleep=lambda _s: None)
    with pytest.raises(ClientError, match="DataUnavailableException"):
        ce.daily_by_tags(START, START + timedelta(days=3), KEYS, metric="AmortizedCost", excluded_record_types=())
