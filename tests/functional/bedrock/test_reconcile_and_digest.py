"""The next day: the guard's estimate (written by the hourly run) beside the bill (Cost Explorer, Stubber'd in its
real shape), recorded once, and shown in the morning digest; leaving out the cache lines shows as a gap."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.state import MemoryStateStore
from costwarden.bedrock.guard import Profile
from costwarden.bedrock.prices import parse_products
from costwarden.bedrock.reconcile import RECONCILED_PK
from costwarden.bedrock.run import Inputs, run_guard
from costwarden.bedrock.tokens import TokenKind
from costwarden.digest.compose import compose_digest
from costwarden.digest.sources import load_bedrock_day
from costwarden.models.digest import DigestInput
from costwarden.services.bedrock import reconcile_on_aws
from costwarden.settings import Settings

from tests.support.bedrock import REGION, SONNET, SONNET_NAME, profile_arn, settings_doc, sonnet_products

SETTINGS = Settings.model_validate(settings_doc())
YESTERDAY = datetime(2026, 12, 6, 23, 5, tzinfo=UTC)
EVENING = datetime(2026, 12, 7, 20, 5, tzinfo=UTC)
NLP = Profile(profile_arn("nlp-chat"), "nlp", SONNET, REGION)


def _estimate(store: MemoryStateStore, *, kinds: tuple[str, ...]) -> None:
    prices = parse_products(sonnet_products(kinds=kinds), model=SONNET, region=REGION, name=SONNET_NAME)
    usage = {(NLP.arn, TokenKind.INPUT): 2e6, (NLP.arn, TokenKind.OUTPUT): 1e6, (NLP.arn, TokenKind.CACHE_READ): 1e7}
    run_guard(SETTINGS, Inputs([NLP], usage, lambda _m, _r: prices, REGION), store=store, publish=None, now=YESTERDAY)


def _bill() -> dict[str, Any]:
    groups = [
        ("team$nlp", "USE1-Claude3.5Sonnet-input-tokens", "6.00"),
        ("team$nlp", "USE1-Claude3.5Sonnet-output-tokens", "15.00"),
        ("team$nlp", "USE1-Claude3.5Sonnet-cache-read-input-token-count", "3.00"),
    ]
    return {
        "GroupDefinitions": [{"Type": "TAG", "Key": "team"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-12-06", "End": "2026-12-07"},
                "Total": {},
                "Groups": [
                    {"Keys": [tag, usage], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
                    for tag, usage, amount in groups
                ],
                "Estimated": False,
            }
        ],
        "DimensionValueAttributes": [],
    }


@pytest.fixture
def ce() -> Any:
    client = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response(
            "get_cost_and_usage",
            _bill(),
            {
                "TimePeriod": {"Start": "2026-12-06", "End": "2026-12-07"},
                "Granularity": "DAILY",
                "Metrics": ["UnblendedCost"],
                "GroupBy": [{"Type": "TAG", "Key": "team"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
                "Filter": {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}},
            },
        )
        yield CostExplorer(client=client)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("kinds", "figure"),
    [
        (("input", "output", "cache_read"), "estimated $24.00, billed $24.00"),
        (("input", "output"), "estimated $21.00, billed $24.00, gap +$3"),  # the cache lines left out
    ],
)
def test_the_bill_beside_the_estimate_in_the_morning_digest(
    ce: CostExplorer, kinds: tuple[str, ...], figure: str
) -> None:
    store = MemoryStateStore()
    _estimate(store, kinds=kinds)
    assert reconcile_on_aws(SETTINGS, ce=ce, state=store, now=EVENING.replace(hour=9))["status"].startswith("waits")
    done = reconcile_on_aws(SETTINGS, ce=ce, state=store, now=EVENING)
    assert (done["status"], done["teams"], done["requests"]) == ("reconciled", 1, 1)
    assert reconcile_on_aws(SETTINGS, ce=ce, state=store, now=EVENING)["status"] == "already reconciled"
    [row] = store.get(RECONCILED_PK, "2026-12-06")["teams"]
    assert row["bill"] == {"input": 6.0, "output": 15.0, "cache_read": 3.0}
    morning = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    day = load_bedrock_day(store, now=morning)
    assert day is not None and day.day == date(2026, 12, 6)
    event = compose_digest(DigestInput(date=date(2026, 12, 7), bedrock=day), top_n=5)
    assert event.details["figures"]["Bedrock (2026-12-06)"] == figure
    assert compose_digest(DigestInput(date=date(2026, 12, 7)), top_n=5).details.get("bedrock") is None


def test_a_malformed_reconciled_record_leaves_the_digest_without_the_line() -> None:
    store = MemoryStateStore()
    store.put(RECONCILED_PK, "2026-12-07", {"teams": [{"team": "nlp", "estimate_usd": "lots"}]})
    assert load_bedrock_day(store, now=datetime(2026, 12, 8, 8, tzinfo=UTC)) is None
