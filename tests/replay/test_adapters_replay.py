"""Replayed responses through Costwarden's adapters: a real SNS recording (placebo) through the doctor's read;
fixtures following the AWS API reference's documented examples (``fixtures/api-reference/``, fixtures/README.md)
for what no public recording at hand covers: the tagging API, Cost Explorer, Athena, Secrets Manager,
ListMetrics, spot price history, the Price List."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from costwarden.adapters import secrets, tagging
from costwarden.adapters.athena import Athena
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.doctor_reads import cost_explorer_error, operator_topic, secret_value
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.pricing import PriceList
from costwarden.doctor import checks

from tests.replay.placebo import add, stubbed

REF = "api-reference"


def test_tagging_scan_of_a_get_resources_page() -> None:
    client, stub = stubbed("resourcegroupstaggingapi")
    data = add(stub, "get_resources", f"{REF}/tagging.GetResources.json")
    with stub:
        found, pages = tagging.scan_region(client, "us-west-2")
    assert pages == 1  # the empty PaginationToken ends the scan
    recorded = data["ResourceTagMappingList"][0]
    assert [(r.arn, r.tags) for r in found] == [(recorded["ResourceARN"], {"Environment": "Production"})]


def test_cost_explorer_daily_by_tag() -> None:
    client, stub = stubbed("ce")
    add(stub, "get_cost_and_usage", f"{REF}/ce.GetCostAndUsage_by_tag.json")
    explorer = CostExplorer(client=client)
    with stub:
        pages = explorer.daily_by_tags(
            date(2017, 9, 1), date(2017, 9, 2), ["team"], metric="UnblendedCost", excluded_record_types=["Credit"]
        )
    groups = pages[0]["ResultsByTime"][0]["Groups"]
    assert [g["Keys"] for g in groups] == [["team$ml"], ["team$"]]
    assert explorer.requests == 1


def test_cost_explorer_not_enabled_is_named_by_the_doctor() -> None:
    client, stub = stubbed("ce")
    add(stub, "get_cost_and_usage", f"{REF}/ce.GetCostAndUsage_data_unavailable.json")
    with stub:
        code = cost_explorer_error(client, datetime(2024, 1, 2, tzinfo=UTC))
    assert code == "DataUnavailableException"
    assert checks.cost_explorer(code).status == "missing"


def test_athena_query_start_poll_and_rows() -> None:
    client, stub = stubbed("athena")
    add(stub, "start_query_execution", f"{REF}/athena.StartQueryExecution.json")
    add(stub, "get_query_execution", f"{REF}/athena.GetQueryExecution_succeeded.json")
    add(stub, "get_query_results", f"{REF}/athena.GetQueryResults.json")
    athena = Athena("costwarden", "costwarden_cost", client=client, sleep=lambda _: None)
    with stub:
        rows = athena.query("SELECT 1")
        stub.assert_no_pending_responses()
    assert rows == [
        {"usage_date": "2024-01-01", "key_0": "ml", "key_1": "", "cost": "12.5"},
        {"usage_date": "2024-01-01", "key_0": None, "key_1": "", "cost": "0.25"},
    ]
    assert athena.bytes_scanned == 1648761 and athena.requests == 3


def test_secret_read_and_absent_secret() -> None:
    secrets.clear_cache()
    client, stub = stubbed("secretsmanager")
    add(stub, "get_secret_value", f"{REF}/secretsmanager.GetSecretValue.json")
    add(stub, "get_secret_value", f"{REF}/secretsmanager.GetSecretValue_not_found.json")
    with stub:
        value: Any = secrets.get_json_secret("costwarden/slack-webhooks", client=client)
        assert value["default"].startswith("https://hooks.slack.com/services/")
        assert secret_value(client, "costwarden/other") is None
    secrets.clear_cache()


def test_list_metrics_dimensions_follow_pages_and_deduplicate() -> None:
    client, stub = stubbed("cloudwatch")
    add(stub, "list_metrics", f"{REF}/monitoring.ListMetrics.json")
    add(stub, "list_metrics", f"{REF}/monitoring.ListMetrics_2.json")
    reader = CloudWatchMetrics(lambda service, region: client)
    with stub:
        dims = reader.dimensions("us-east-1", "AWS/EC2", "CPUUtilization")
    assert dims == [(("InstanceId", "i-0598c7d356eba48d7"),), (("InstanceId", "i-1234567890abcdef0"),)]
    assert reader.requests["ListMetrics"] == 2


def test_spot_price_history() -> None:
    client, stub = stubbed("ec2", "us-west-1")
    add(stub, "describe_spot_price_history", f"{REF}/ec2.DescribeSpotPriceHistory.json")
    prices = SpotPrices("us-west-1", ec2=client)
    with stub:
        items = prices.history(["m1.xlarge"], datetime(2014, 1, 6, tzinfo=UTC))
    assert [(i["AvailabilityZone"], i["SpotPrice"]) for i in items] == [
        ("us-west-1a", "0.080000"),
        ("us-west-1c", "0.080000"),
    ]


def test_price_list_on_demand_quote() -> None:
    client, stub = stubbed("pricing")
    add(stub, "get_products", f"{REF}/pricing.GetProducts.json")
    book = PriceList(lambda service, region: client)
    with stub:
        quote = book.on_demand_price("ec2", "p3.2xlarge", "us-east-1")
    assert quote.usd == pytest.approx(3.06), quote


def test_doctor_on_a_real_topic_list_without_the_stack_names_the_fix() -> None:
    """A real account's ListTopics with no Costwarden operator topic: the doctor says missing, never ok."""
    client, stub = stubbed("sns")
    add(stub, "list_topics", "placebo/test_sns_notify_action_with_msg_attr/sns.ListTopics_1.json")
    with stub:
        found, subscriptions = operator_topic(client, "Costwarden")
        stub.assert_no_pending_responses()
    assert (found, subscriptions) == (False, [])
    result = checks.operator_subscriptions("ops@example.com", found, subscriptions)
    assert result.status == "missing" and "Deploy the stack" in result.fix
