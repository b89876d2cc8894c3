"""The burn guard's test pieces: the recorded-shape events, and a Price List client that answers from the recorded
``GetProducts`` answer (moto has no ``pricing``) and counts its requests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: The Price List's on-demand USD per hour of p4d.24xlarge in ``idle/get_products_ec2.json``.
P4D_USD_PER_HOUR = 32.7726


def events(name: str = "launch_day.json") -> list[dict[str, Any]]:
    """The recorded-shape events of ``tests/fixtures/burn/<name>`` (a fresh copy each call)."""
    return copy.deepcopy(json.loads((FIXTURES / "burn" / name).read_text(encoding="utf-8")))


class FakePricing:
    """``pricing:GetProducts`` answering the recorded p4d.24xlarge answer for an EC2 p4d.24xlarge filter, and an
    empty price list otherwise; ``requests`` counts the calls."""

    def __init__(self) -> None:
        self.requests = 0
        self.answer = json.loads((FIXTURES / "idle" / "get_products_ec2.json").read_text(encoding="utf-8"))

    def get_products(self, **request: Any) -> dict[str, Any]:
        self.requests += 1
        fields = {f["Field"]: f["Value"] for f in request.get("Filters", [])}
        if request.get("ServiceCode") == "AmazonEC2" and fields.get("instanceType") == "p4d.24xlarge":
            return self.answer
        return {"FormatVersion": "aws_v1", "PriceList": []}
