"""The weekly advisor run end to end: storage on moto, Cost Explorer / Savings Plans / EC2 through Stubber; savings
stored for the digest and the report, one ``savings`` alert per team per month, commitment alerts once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from costwarden.adapters.commitments import CommitmentsReader
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.state import MemoryStateStore
from costwarden.models.alert import AlertEvent
from costwarden.services.advisor.report import SAVINGS_PK, SAVINGS_SK, load_savings
from costwarden.services.advisor.runner import run_advisor
from costwarden.settings import parse_settings
from moto import mock_aws

from .stubs import OWNER_TAGS, fixture
from .test_storage_moto import linear, seed_sizes

NOW = datetime(2026, 6, 2, 6, tzinfo=UTC)
SETTINGS = parse_settings(OWNER_TAGS)


def stub_week(ce_stub: Stubber, sp_stub: Stubber, ec2_stub: Stubber) -> None:
    ce_stub.add_response("get_cost_and_usage", fixture("ce_get_cost_and_usage.team_purchase_type.json"))
    ce_stub.add_response("get_cost_and_usage", fixture("ce_get_cost_and_usage.team_usage_type_on_demand.json"))
    ec2_stub.add_response(
        "describe_spot_price_history",
        fixture("ec2_describe_spot_price_history.json"),
        {"InstanceTypes": ANY, "ProductDescriptions": ["Linux/UNIX"], "StartTime": ANY, "EndTime": ANY},
    )
    ce_stub.add_response(  # the inference history: an account without any yet
        "get_cost_and_usage",
        {"GroupDefinitions": [], "ResultsByTime": [], "DimensionValueAttributes": []},
        {
            "TimePeriod": {"Start": "2026-03-03", "End": "2026-06-02"},
            "Granularity": "DAILY",
            "Metrics": ["AmortizedCost"],
            "GroupBy": [{"Type": "TAG", "Key": "owner"}, {"Type": "TAG", "Key": "lifecycle_phase"}],
            "Filter": ANY,
        },
    )
    ce_stub.add_response("get_reservation_utilization", fixture("ce_get_reservation_utilization.by_subscription.json"))
    ce_stub.add_response(
        "get_savings_plans_utilization_details", fixture("ce_get_savings_plans_utilization_details.json")
    )
    sp_stub.add_response("describe_savings_plans", fixture("savingsplans_describe_savings_plans.json"))
    ce_stub.add_response("get_reservation_coverage", fixture("ce_get_reservation_coverage.json"))
    ce_stub.add_response("get_savings_plans_coverage", fixture("ce_get_savings_plans_coverage.json"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="vision-exp")
        s3.put_bucket_tagging(
            Bucket="vision-exp",
            Tagging={"TagSet": [{"Key": "owner", "Value": "vision"}, {"Key": "env", "Value": "experiment"}]},
        )
        seed_sizes("vision-exp", "StandardStorage", linear(2048, 100))
        yield


def test_week_then_again_alerts_once(aws: None) -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    sp = boto3.client("savingsplans", region_name="us-east-1")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    state = MemoryStateStore()
    published: list[AlertEvent] = []

    def publish(event: AlertEvent) -> str:
        published.append(event)
        return "id"

    def week() -> Any:
        explorer = CostExplorer(client=ce)
        return run_advisor(
            SETTINGS,
            regions=["us-east-1"],
            reader_factory=S3Reader,
            ce=explorer,
            commitments=CommitmentsReader(explorer, savingsplans=sp),
            spot=SpotPrices("us-east-1", ec2=ec2),
            state=state,
            publish=publish,
            now=NOW,
        )

    with Stubber(ce) as ce_stub, Stubber(sp) as sp_stub, Stubber(ec2) as ec2_stub:
        stub_week(ce_stub, sp_stub, ec2_stub)
        first = week()
        ce_stub.assert_no_pending_responses()
        stub_week(ce_stub, sp_stub, ec2_stub)
        second = week()
    summary = first.to_dict(NOW.date())
    assert first.ce_requests == 7 and summary["ce_requests"] == 7  # 2 mix + 1 history + 4 commitments
    vision_usd, items = first.savings["vision"]
    storage_usd = first.storage.findings[0].monthly_savings_usd
    assert storage_usd > 0 and vision_usd == pytest.approx(storage_usd + 3268.0 * (365 / 12) / 30, abs=0.05)
    assert any(i.startswith("p3.8xlarge on-demand (400 h)") for i in items)
    assert any(i.startswith("bucket vision-exp:") for i in items)
    assert load_savings(state)["vision"][0] == pytest.approx(vision_usd)
    assert state.get(SAVINGS_PK, SAVINGS_SK)["total_usd_month"] == pytest.approx(vision_usd)  # type: ignore[index]
    kinds = sorted((e.kind.value, e.team) for e in first.events)
    # vision's savings (unowned on-demand m5.large has no spot price: nothing to count); the operator ("platform")
    # hears of the low-utilisation RI (both commitments end in 2027: more than 60 days away in June).
    assert kinds == [("commitment", "platform"), ("savings", "vision")]
    savings_event = next(e for e in first.events if e.kind.value == "savings")
    assert savings_event.dedup_key == "savings#vision#2026-06"
    assert "$" in savings_event.title and "/month" in savings_event.title
    assert second.events == [] and len(published) == 2  # the same month: nothing is sent twice
