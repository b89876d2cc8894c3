"""The Price List adapter through botocore's Stubber (moto has no ``pricing``): recorded-shape GetProducts answers
per service, the request filters, the 30-day cache in the state table, and null-with-reason when there is no price."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.pricing import PriceList
from costwarden.adapters.state import MemoryStateStore
from costwarden.models.pricing import monthly

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "idle"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def pricing() -> Any:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


def filters(**fields: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


def expect_products(stubber: Stubber, name: str, service_code: str, **fields: str) -> None:
    """One ``GetProducts`` request, exactly these term-match filters and then the region (us-east-1), answered with
    the recorded ``name``."""
    params = {"ServiceCode": service_code, "Filters": filters(**fields, regionCode="us-east-1"), "MaxResults": 100}
    stubber.add_response("get_products", fixture(name), params)


def test_ec2_on_demand_price_from_the_recorded_shape_and_cached_for_30_days(pricing: Any) -> None:
    client, stubber = pricing
    expect_products(
        stubber,
        "get_products_ec2.json",
        "AmazonEC2",
        operatingSystem="Linux",
        tenancy="Shared",
        preInstalledSw="NA",
        capacitystatus="Used",
        licenseModel="No License required",
        instanceType="p4d.24xlarge",
    )
    state = MemoryStateStore()
    prices = PriceList(lambda service, region: client, state)
    quote = prices.on_demand_price("ec2", "p4d.24xlarge", "us-east-1")
    assert quote.usd == pytest.approx(32.7726) and quote.unit == "Hrs" and not quote.note
    assert monthly(quote) == pytest.approx(32.7726 * 730)
    stubber.assert_no_pending_responses()
    item = state.get("price#ec2#us-east-1", "p4d.24xlarge")
    assert item is not None and item["usd"] == pytest.approx(32.7726)
    assert item["expiration"] - __import__("time").time() == pytest.approx(30 * 86400, abs=60)
    # A second adapter (the next run) reads the state table: no request (the Stubber has none queued).
    again = PriceList(lambda service, region: client, state).on_demand_price("ec2", "p4d.24xlarge", "us-east-1")
    assert again.usd == pytest.approx(32.7726)


def test_sagemaker_hosting_price(pricing: Any) -> None:
    client, stubber = pricing
    expect_products(
        stubber, "get_products_sagemaker.json", "AmazonSageMaker", component="Hosting", instanceName="ml.g4dn.xlarge"
    )
    quote = PriceList(lambda s, r: client).on_demand_price("sagemaker-hosting", "ml.g4dn.xlarge", "us-east-1")
    assert quote.usd == pytest.approx(0.736)


def test_ebs_storage_price(pricing: Any) -> None:
    client, stubber = pricing
    expect_products(stubber, "get_products_ebs.json", "AmazonEC2", productFamily="Storage", volumeApiName="gp3")
    quote = PriceList(lambda s, r: client).storage_price("gp3", "us-east-1")
    assert quote.usd == pytest.approx(0.08) and quote.unit == "GB-Mo"
    assert monthly(quote, 500) == pytest.approx(40.0)


def test_no_product_is_null_with_the_reason_and_cached_one_day(pricing: Any) -> None:
    client, stubber = pricing
    stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []})
    state = MemoryStateStore()
    quote = PriceList(lambda s, r: client, state).on_demand_price("ec2", "x9.nonexistent", "eu-west-1")
    assert quote.usd is None
    assert "no on-demand price per Hrs for x9.nonexistent (ec2, eu-west-1)" in quote.note
    item = state.get("price#ec2#eu-west-1", "x9.nonexistent")
    assert item is not None and item["expiration"] - __import__("time").time() < 86400 + 60


def test_two_different_prices_are_not_guessed(pricing: Any) -> None:
    client, stubber = pricing
    body = fixture("get_products_ec2.json")
    other = json.loads(body["PriceList"][0])
    for term in other["terms"]["OnDemand"].values():
        for dim in term["priceDimensions"].values():
            dim["pricePerUnit"]["USD"] = "35.0000000000"
    body["PriceList"].append(json.dumps(other))
    stubber.add_response("get_products", body)
    quote = PriceList(lambda s, r: client).on_demand_price("ec2", "p4d.24xlarge", "us-east-1")
    assert quote.usd is None and "2 different on-demand prices" in quote.note and "not guessed" in quote.note


def test_pages_are_followed(pricing: Any) -> None:
    client, stubber = pricing
    stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page2"})
    stubber.add_response("get_products", fixture("get_products_ec2.json"))
    prices = PriceList(lambda s, r: client)
    assert prices.on_demand_price("ec2", "p4d.24xlarge", "us-east-1").usd == pytest.approx(32.7726)
    assert prices.requests == 2


def test_a_failed_request_is_null_with_the_error_and_not_cached(pricing: Any) -> None:
    client, stubber = pricing
    stubber.add_client_error("get_products", "ThrottlingException", "Rate exceeded")
    state = MemoryStateStore()
    quote = PriceList(lambda s, r: client, state).on_demand_price("ec2", "p4d.24xlarge", "us-east-1")
    assert quote.usd is None and "ThrottlingException: Rate exceeded" in quote.note
    assert state.get("price#ec2#us-east-1", "p4d.24xlarge") is None


def test_unknown_service_is_null_without_a_request() -> None:
    quote = PriceList(lambda s, r: None).on_demand_price("lightsail", "nano", "us-east-1")
    assert quote.usd is None and "no Price List mapping" in quote.note
