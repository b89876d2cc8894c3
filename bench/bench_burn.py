"""The burn guard at full scale (issue 25): 10,000 EventBridge CloudTrail events in one batch — RunInstances of 24
instance types in 4 regions by 50 teams, a third of them stopped again, one in ten redelivered — priced and rated.

Counted: the Price List requests (at most one per distinct instance type and region, whatever the launches), the
time per event, and the alerts. The Price List answers in-process (a client that builds the product for the type
asked), so what is measured is the guard, not the network.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from costwarden.adapters.state import MemoryStateStore
from costwarden.burn.run import BurnPorts, run_burn
from costwarden.services.burn import AwsPrices
from costwarden.settings import Settings

EVENTS = 10_000
FAMILIES = ("p4d", "p5", "g5", "g6", "trn1", "inf2")
TYPES = [f"{family}.{size}" for family in FAMILIES for size in ("xlarge", "2xlarge", "12xlarge", "48xlarge")]
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
TEAMS = [f"team-{n:02d}" for n in range(50)]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class CountingPriceList:
    """``GetProducts`` answering one on-demand product for the instance type filtered on; counts requests."""

    def __init__(self) -> None:
        self.requests = 0

    def get_products(self, **request: Any) -> dict[str, Any]:
        self.requests += 1
        fields = {f["Field"]: f["Value"] for f in request["Filters"]}
        usd = 1.0 + (sum(map(ord, fields["instanceType"])) % 40)
        term = {"priceDimensions": {"d": {"unit": "Hrs", "pricePerUnit": {"USD": f"{usd:.4f}"}}}}
        return {"PriceList": [json.dumps({"terms": {"OnDemand": {"t": term}}})]}


def _event(n: int, rng: random.Random) -> dict[str, Any]:
    itype, region, team = rng.choice(TYPES), rng.choice(REGIONS), rng.choice(TEAMS)
    when = (START + timedelta(seconds=n // 10)).isoformat().replace("+00:00", "Z")
    count = rng.choice((1, 1, 2, 4, 8))
    ids = [{"instanceId": f"i-{n:08x}{k:04x}", "instanceType": itype} for k in range(count)]
    stop = n % 3 == 2 and n > 3
    detail: dict[str, Any] = {
        "eventSource": "ec2.amazonaws.com",
        "eventName": "StopInstances" if stop else "RunInstances",
        "awsRegion": region,
        "recipientAccountId": "123456789012",
        "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::123456789012:assumed-role/{team}/u"},
    }
    if stop:
        detail["requestParameters"] = {"instancesSet": {"items": [{"instanceId": f"i-{n - 2:08x}0000"}]}}
    else:
        tags = {"items": [{"resourceType": "instance", "tags": [{"key": "team", "value": team}]}]}
        detail["requestParameters"] = {"instanceType": itype, "tagSpecificationSet": tags}
        detail["responseElements"] = {"instancesSet": {"items": ids}}
    return {
        "id": f"evt-{n}",
        "detail-type": "AWS API Call via CloudTrail",
        "time": when,
        "region": region,
        "detail": detail,
    }


def main() -> list[dict[str, Any]]:
    rng = random.Random(25)
    unique = [_event(n, rng) for n in range(EVENTS - EVENTS // 10)]
    batch = unique + unique[::9][: EVENTS // 10]  # one in ten redelivered (EventBridge delivers at least once)
    pricing = CountingPriceList()
    store = MemoryStateStore()
    ports = BurnPorts(
        store=store,
        prices=AwsPrices(lambda _service, _region: pricing, store),
        baseline=lambda _team, _day: 2_000.0,
    )
    started = time.perf_counter()
    result = run_burn(batch, Settings(), ports, now=START + timedelta(minutes=20))
    elapsed = time.perf_counter() - started
    distinct = len(
        {(e["detail"]["requestParameters"].get("instanceType"), e["region"]) for e in batch}
        - {(None, r) for r in REGIONS}
    )
    row = {
        "events": len(batch),
        "launches": len(result.launches),
        "duplicates": result.duplicates,
        "distinct_type_regions": distinct,
        "price_list_requests": pricing.requests,
        "alerts": len(result.alerts),
        "seconds": round(elapsed, 2),
        "ms_per_event": round(1000 * elapsed / len(batch), 3),
    }
    assert pricing.requests <= distinct, row
    print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    return [row]


if __name__ == "__main__":
    main()
