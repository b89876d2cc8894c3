"""Commitments and purchase mix through botocore's Stubber (moto implements none of these APIs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from costwarden.adapters.commitments import CommitmentsReader
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.services.advisor.commitments import run_commitments
from costwarden.services.advisor.mix import run_mix
from costwarden.settings import parse_settings

from .stubs import OWNER_TAGS, fixture, stub_mix_reads, stubbed_clients

TODAY = date(2026, 12, 2)
PERIOD = {"Start": "2026-11-01", "End": "2026-12-01"}
SETTINGS = parse_settings({**OWNER_TAGS, "advisor": {"mix_tag_values": {"phase": ["training"]}}})


@pytest.fixture
def clients() -> Iterator[tuple[Any, ...]]:
    with stubbed_clients("ce", "savingsplans", "ec2") as (clients, stubs):
        yield (*clients, *stubs)


def history(base: float, days: int, wobble: float, end: date = TODAY) -> list[tuple[date, float]]:
    return [(end - timedelta(days=days - i), base + (i % 7) * wobble) for i in range(days)]


def stub_commitment_reads(ce_stub: Stubber, sp_stub: Stubber) -> None:
    ce_stub.add_response(
        "get_reservation_utilization",
        fixture("ce_get_reservation_utilization.by_subscription.json"),
        {"TimePeriod": PERIOD, "GroupBy": [{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}], "Granularity": "MONTHLY"},
    )
    ce_stub.add_response(
        "get_savings_plans_utilization_details",
        fixture("ce_get_savings_plans_utilization_details.json"),
        {"TimePeriod": PERIOD},
    )
    sp_stub.add_response(
        "describe_savings_plans", fixture("savingsplans_describe_savings_plans.json"), {"states": ["active", "queued"]}
    )
    ce_stub.add_response(
        "get_reservation_coverage",
        fixture("ce_get_reservation_coverage.json"),
        {"TimePeriod": PERIOD, "Granularity": "MONTHLY"},
    )
    ce_stub.add_response(
        "get_savings_plans_coverage",
        fixture("ce_get_savings_plans_coverage.json"),
        {"TimePeriod": PERIOD, "Granularity": "MONTHLY"},
    )


def test_utilisation_expiry_coverage_and_a_floor_sized_plan(clients: Any) -> None:
    ce, sp, _, ce_stub, sp_stub, _ = clients
    stub_commitment_reads(ce_stub, sp_stub)
    rec = {"TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT", "LookbackPeriodInDays": "SIXTY_DAYS"}
    ce_stub.add_response(
        "get_savings_plans_purchase_recommendation",
        fixture("ce_get_savings_plans_purchase_recommendation.compute_empty.json"),
        {"SavingsPlansType": "COMPUTE_SP", **rec},
    )
    ce_stub.add_response(
        "get_savings_plans_purchase_recommendation",
        fixture("ce_get_savings_plans_purchase_recommendation.sagemaker.json"),
        {"SavingsPlansType": "SAGEMAKER_SP", **rec},
    )
    reader = CommitmentsReader(CostExplorer(client=ce), savingsplans=sp)
    own_history = {
        "fraud": history(200, 120, 10),  # stable for 120 days: floor ~200 USD/day
        "search": history(500, 40, 5),  # stable, but only 40 days known
        "vision": history(100, 120, 60),  # swings: not an established baseline
    }
    run = run_commitments(SETTINGS, reader, today=TODAY, history=own_history, history_note=None)
    out = run.to_dict(TODAY)
    by_id = {c["id"]: c for c in out["commitments"]}
    ri = by_id["4e3f5a10-0000-4d1e-9a11-7c1b2d3e4f50"]
    assert ri["utilisation_pct"] == 62.5 and ri["ends"] == "2027-01-20" and ri["days_left"] == 49
    assert ri["description"] == "4x g4dn.12xlarge us-east-1"
    plan = by_id["1f2e3d4c-5b6a-4789-8abc-def012345678"]
    assert plan["utilisation_pct"] == 98.0 and plan["days_left"] == 30 and plan["commitment_usd_per_hour"] == 10.0
    assert out["coverage"] == {"reserved_instances_hours_pct": 65.9, "savings_plans_spend_pct": 40.0}
    messages = [(a["reason"], a["severity"], a["message"]) for a in out["alerts"]]
    assert [(r, s) for r, s, _ in messages] == [
        ("low_utilisation", "warning"),
        ("expiry", "info"),
        ("expiry", "warning"),
    ]
    assert "$2,538 paid for unused capacity" in messages[0][2]
    assert [(s["team"], s["stable"]) for s in out["stability"]] == [
        ("fraud", True),
        ("search", False),
        ("vision", False),
    ]
    assert "40 of 90 days" in out["stability"][1]["reason"]
    [recommendation] = out["recommendations"]  # COMPUTE_SP: the API recommends nothing
    assert recommendation["plan_type"] == "SAGEMAKER_SP" and recommendation["teams"] == ["fraud"]
    floor = out["stability"][0]["floor_daily_usd"]
    assert floor == pytest.approx(200.0)
    # Sized to the floor (200 USD/day on demand = 8.33 USD/h) at the plan's 31.26 % discount, below the API's 8.4.
    assert recommendation["hourly_commitment_usd"] == pytest.approx(200 / 24 * (1 - 0.3126), abs=0.001)
    assert recommendation["hourly_commitment_usd"] < recommendation["api_hourly_commitment_usd"] == 8.4
    assert out["ce_requests"] == 6 and out["savingsplans_requests"] == 1


def test_no_stable_team_asks_for_no_recommendation(clients: Any) -> None:
    ce, sp, _, ce_stub, sp_stub, _ = clients
    stub_commitment_reads(ce_stub, sp_stub)
    reader = CommitmentsReader(CostExplorer(client=ce), savingsplans=sp)
    run = run_commitments(SETTINGS, reader, today=TODAY, history={"vision": history(100, 120, 60)}, history_note=None)
    assert run.recommendations == [] and run.ce_requests == 4


def test_utilisation_threshold_is_the_setting(clients: Any) -> None:
    ce, sp, _, ce_stub, sp_stub, _ = clients
    stub_commitment_reads(ce_stub, sp_stub)
    strict = parse_settings({"advisor": {"min_utilisation_pct": 99, "expiry_warn_days": [10]}})
    run = run_commitments(
        strict, CommitmentsReader(CostExplorer(client=ce), savingsplans=sp), today=TODAY, history={}, history_note=None
    )
    assert [a.reason for a in run.alerts] == ["low_utilisation"] * 3  # 62.5, 97.9 and 98 are below 99; none ends soon


@pytest.mark.parametrize("discount", [None, 0.7])
def test_purchase_mix_spot_share_and_spot_priced_savings(clients: Any, discount: float | None) -> None:
    ce, _, ec2, ce_stub, _, ec2_stub = clients
    settings = SETTINGS.model_copy(update={"advisor": SETTINGS.advisor.model_copy(update={"spot_discount": discount})})
    stub_mix_reads(ce_stub, ec2_stub)
    now = datetime(2026, 12, 2, 6, tzinfo=UTC)
    run = run_mix(settings, CostExplorer(client=ce), SpotPrices("us-east-1", ec2=ec2), today=TODAY, now=now)
    teams = {t["team"]: t for t in run.to_dict()["teams"]}
    vision = teams["vision"]
    assert vision["compute_usd"] == 8000 and vision["spot_share_pct"] == 25.0
    assert teams["nlp"]["spot_share_pct"] == 100.0 and teams["unowned"]["spot_share_pct"] == 0.0
    gpu = vision["on_demand_that_could_be_spot"][0]
    # 400 on-demand hours x (median of each zone's latest price: 3.60, 3.70, 3.75 -> 3.70) x 1.1 allowance
    assert gpu["instance_type"] == "p3.8xlarge" and gpu["spot_usd"] == pytest.approx(1628.0)
    assert gpu["savings_usd"] == pytest.approx(3268.0) and "spot history 3.7000" in gpu["priced_by"]
    training = next(c for c in vision["on_demand_that_could_be_spot"] if c["kind"] == "sagemaker")
    unpriced = teams["unowned"]["on_demand_that_could_be_spot"][0]
    if discount is None:
        assert training["spot_usd"] is None and "no configured discount" in training["priced_by"]
        assert unpriced["savings_usd"] is None
        assert vision["could_save_usd"] == pytest.approx(3268.0)
    else:
        assert training["savings_usd"] == pytest.approx(382.5 - 382.5 * 0.3 * 1.1, abs=0.01)
        assert vision["could_save_usd"] == pytest.approx(3268.0 + 382.5 - 382.5 * 0.3 * 1.1, abs=0.01)
    assert all(c["instance_type"] != "VolumeUsage.gp3" for c in vision["on_demand_that_could_be_spot"])
    assert run.ce_requests == 2 and run.ec2_requests == 1


def test_the_floor_is_committed_once_across_plan_types(clients: Any) -> None:
    ce, sp, _, ce_stub, sp_stub, _ = clients
    stub_commitment_reads(ce_stub, sp_stub)
    # Both plan types recommend a purchase: they are alternatives, so only the one saving the most is shown.
    compute = fixture("ce_get_savings_plans_purchase_recommendation.sagemaker.json")
    summary = compute["SavingsPlansPurchaseRecommendation"]["SavingsPlansPurchaseRecommendationSummary"]
    summary["EstimatedSavingsPercentage"] = "20.0"
    compute["SavingsPlansPurchaseRecommendation"]["SavingsPlansType"] = "COMPUTE_SP"
    ce_stub.add_response("get_savings_plans_purchase_recommendation", compute)
    ce_stub.add_response(
        "get_savings_plans_purchase_recommendation",
        fixture("ce_get_savings_plans_purchase_recommendation.sagemaker.json"),
    )
    reader = CommitmentsReader(CostExplorer(client=ce), savingsplans=sp)
    run = run_commitments(SETTINGS, reader, today=TODAY, history={"fraud": history(200, 120, 10)}, history_note=None)
    [chosen] = run.recommendations
    assert chosen.plan_type == "SAGEMAKER_SP" and "chosen over COMPUTE_SP" in chosen.notes[-1]
    assert chosen.hourly_commitment_usd == pytest.approx(200 / 24 * (1 - 0.3126), abs=0.001)
    assert run.ce_requests == 6
