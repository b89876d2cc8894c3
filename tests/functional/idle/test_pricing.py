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


class CountingStore(MemoryStateStore):
    """The in-memory state table, counting the reads a run makes (one query per service and region is the bar)."""

    reads: int = 0

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        self.reads += 1
        return super().get(pk, sk)

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        self.reads += 1
        return super().query(pk, sk_prefix)


def test_a_warm_run_sends_no_price_list_request_and_reads_the_region_once() -> None:
    state = CountingStore()
    for name, usd in (("p4d.24xlarge", 32.7726), ("g5.xlarge", 1.006), ("m5.large", 0.096)):
        state.put("price#ec2#us-east-1", name, {"usd": usd, "unit": "Hrs", "note": ""}, ttl_days=30)
    prices = PriceList(lambda s, r: pytest.fail("a warm run must not call the Price List"), state)
    got = [prices.on_demand_price("ec2", n, "us-east-1").usd for n in ("p4d.24xlarge", "g5.xlarge", "m5.large")]
    assert got == [pytest.approx(32.7726), pytest.approx(1.006), pytest.approx(0.096)]
    assert prices.on_demand_price("ec2", "g5.xlarge", "us-east-1").usd == pytest.approx(1.006)
    assert prices.requests == 0 and state.reads == 1


def test_stale_prices_of_a_family_are_refreshed_once_in_one_any_of_request(pricing: Any) -> None:
    client, stubber = pricing
    state = MemoryStateStore()
    for name in ("p4d.24xlarge", "p4d.12xlarge", "g5.xlarge"):
        state.put("price#ec2#us-east-1", name, {"usd": 1.0, "unit": "Hrs", "note": ""}, ttl_days=-1)
    params = {
        "ServiceCode": "AmazonEC2",
        "Filters": [
            *filters(
                operatingSystem="Linux",
                tenancy="Shared",
                preInstalledSw="NA",
                capacitystatus="Used",
                licenseModel="No License required",
            ),
            {"Type": "ANY_OF", "Field": "instanceType", "Value": "p4d.12xlarge,p4d.24xlarge"},
            *filters(regionCode="us-east-1"),
        ],
        "MaxResults": 100,
    }
    body = fixture("get_products_ec2.json")
    body["PriceList"].append(json.dumps({"product": {}, "terms": {}}))  # no attributes: belongs to no type
    stubber.add_response("get_products", body, params)
    prices = PriceList(lambda s, r: client, state)
    assert prices.on_demand_price("ec2", "p4d.24xlarge", "us-east-1").usd == pytest.approx(32.7726)
    missing = prices.on_demand_price("ec2", "p4d.12xlarge", "us-east-1")
    assert missing.usd is None and "no on-demand price per Hrs for p4d.12xlarge (ec2, us-east-1)" in missing.note
    stubber.assert_no_pending_responses()
    assert prices.requests == 1
    fresh = state.get("price#ec2#us-east-1", "p4d.24xlarge")
    assert fresh is not None and fresh["usd"] == pytest.approx(32.7726) and "fetched_at" in fresh
    short = state.get("price#ec2#us-east-1", "p4d.12xlarge")
    assert short is not None and short["expiration"] - __import__("time").time() < 86400 + 60
    untouched = state.get("price#ec2#us-east-1", "g5.xlarge")
    assert untouched is not None and untouched["usd"] == 1.0 and "fetched_at" not in untouched


def test_a_cached_record_that_is_not_a_price_is_fetched_again_not_a_traceback(pricing: Any) -> None:
    client, stubber = pricing
    state = MemoryStateStore()
    state.put("price#ebs#us-east-1", "gp3", {"usd": "a lot", "unit": "GB-Mo", "note": ""})
    state.put("price#ebs#us-east-1", "gp2", {"usd": 0.1})  # no unit
    expect_products(stubber, "get_products_ebs.json", "AmazonEC2", productFamily="Storage", volumeApiName="gp3")
    quote = PriceList(lambda s, r: client, state).storage_price("gp3", "us-east-1")
    assert quote.usd == pytest.approx(0.08)
    stubber.assert_no_pending_responses()
