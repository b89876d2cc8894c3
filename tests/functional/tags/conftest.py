"""Helpers for the tag audit against moto.

moto 5.2.5 computes no cost: Cost Explorer results are injected through moto's documented endpoint
(``/moto-api/static/ce/cost-and-usage-results``). It does not implement ``ListCostAllocationTags`` at all
(``moto/ce/responses.py`` has no such action), so that one call is answered by a botocore ``before-call`` hook on
the otherwise real (moto-backed) client — the same response shape the API documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from moto import mock_aws

MOTO_CE_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"
ACCOUNT = "123456789012"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def ce_daily_by_team(start: date, spend: list[dict[str, float]], metric: str = "AmortizedCost") -> dict[str, Any]:
    """A GetCostAndUsage response: one ResultsByTime per day, groups keyed ``team$<value>`` (``team$`` = untagged)."""
    results = []
    for offset, day_spend in enumerate(spend):
        day = start + timedelta(days=offset)
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    {"Keys": [f"team${team}"], "Metrics": {metric: {"Amount": f"{amount:.10f}", "Unit": "USD"}}}
                    for team, amount in day_spend.items()
                ],
                "Estimated": offset == len(spend) - 1,
            }
        )
    return {
        "GroupDefinitions": [{"Type": "TAG", "Key": "team"}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
    }


def inject_ce(*pages: dict[str, Any]) -> None:
    response = requests.post(MOTO_CE_RESULTS, json={"results": list(pages), "account_id": ACCOUNT}, timeout=5)
    assert response.status_code == 201


def answer(client: Any, operation: str, respond: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Answer ``operation`` on ``client`` from ``respond(request parameters)`` instead of sending it.

    A response holding ``"Error"`` is returned as HTTP 400, so botocore raises ``ClientError`` as for a real one.
    """

    def hook(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params.get("body")
        request = json.loads(body) if isinstance(body, bytes | str) and body else dict(body or {})
        parsed = respond(request)
        status = 400 if "Error" in parsed else 200
        return AWSResponse("https://stubbed.invalid", status, {}, None), parsed  # type: ignore[arg-type]

    client.meta.events.register(f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", hook)


def allocation_tags(statuses: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """ListCostAllocationTags answering for the requested keys billing knows (others are simply not returned)."""

    def respond(params: dict[str, Any]) -> dict[str, Any]:
        tags = [
            {"TagKey": key, "Type": "UserDefined", "Status": statuses[key], "LastUpdatedDate": "2026-11-01T00:00:00Z"}
            for key in params.get("TagKeys", [])
            if key in statuses
        ]
        return {"CostAllocationTags": tags}

    return respond


def ce_client() -> Any:
    return boto3.client("ce", region_name="us-east-1")
