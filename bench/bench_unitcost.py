"""Unit costs at scale: a month of hourly CUR 2.0 line items for 1,000 endpoints and 300 Bedrock profiles.

1,000 SageMaker endpoints x 744 hours (744,000 hosting lines; 50 endpoints move to a twice-as-dear instance on the
20th) and 300 application inference profiles x 4 token kinds x 744 hours (892,800 token lines): 1.6 M line items,
the shape of a mid-size account's month. Times each step (normalise, the month's unit costs, the daily series and
the regressions through the cost detector), checks the Bedrock parts reconcile with the bill to the cent and that
exactly the 50 moved endpoints regress. Runs in-process (no AWS): the CloudWatch side's requests are counted by the
moto tests (ceil(queries / 500)).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from costwarden.services import unitcost as service  # noqa: E402
from costwarden.settings import Settings  # noqa: E402
from costwarden.unitcost import compute, regressions  # noqa: E402
from costwarden.unitcost import lines as cur  # noqa: E402

ENDPOINTS, PROFILES, MOVED = 1_000, 300, 50
HOURS = pd.date_range("2026-10-01", "2026-10-31 23:00", freq="h")
KINDS = {"input-tokens": 3.0, "output-tokens": 15.0, "cache-read-input-token-count": 0.3,
         "cache-write-input-token-count": 3.75}  # fmt: skip


def month_of_lines() -> pd.DataFrame:
    hours = np.tile(HOURS.strftime("%Y-%m-%dT%H:00:00Z").to_numpy(), ENDPOINTS)
    endpoint = np.repeat(np.arange(ENDPOINTS), len(HOURS))
    moved = (endpoint < MOVED) & (np.tile(HOURS.day.to_numpy(), ENDPOINTS) >= 20)
    tags = np.array(
        [json.dumps({"user_team": f"team-{e % 40}", "user_model_id": f"model-{e}"}) for e in range(ENDPOINTS)]
    )
    hosting = pd.DataFrame({
        "line_item_usage_start_date": hours,
        "line_item_line_item_type": "Usage",
        "line_item_product_code": "AmazonSageMaker",
        "line_item_usage_type": np.where(moved, "USE1-Host:ml.g5.4xlarge", "USE1-Host:ml.g5.xlarge"),
        "line_item_resource_id": [f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-{e}" for e in endpoint],
        "line_item_usage_amount": "1",
        "line_item_unblended_cost": np.where(moved, 2.83, 1.41),
        "resource_tags": tags[endpoint],
    })  # fmt: skip
    frames = [hosting]
    profile = np.repeat(np.arange(PROFILES), len(HOURS))
    ptags = np.array([json.dumps({"user_team": f"team-{p % 40}", "user_model_id": "claude"}) for p in range(PROFILES)])
    for kind, price in KINDS.items():
        frames.append(pd.DataFrame({
            "line_item_usage_start_date": np.tile(HOURS.strftime("%Y-%m-%dT%H:00:00Z").to_numpy(), PROFILES),
            "line_item_line_item_type": "Usage",
            "line_item_product_code": "AmazonBedrock",
            "line_item_usage_type": f"USE1-Claude3.5Sonnet-{kind}",
            "line_item_resource_id": [
                f"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/app{p}" for p in profile
            ],
            "line_item_usage_amount": 10_000,
            "line_item_unblended_cost": round(price / 100, 4),
            "resource_tags": ptags[profile],
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def usage() -> pd.DataFrame:
    days = pd.date_range("2026-10-01", "2026-10-31", freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame({
        "date": np.tile(days.to_numpy(), ENDPOINTS),
        "model": np.repeat([f"model-{e}" for e in range(ENDPOINTS)], len(days)),
        "metric": "Invocations",
        "value": 240_000.0,
    })  # fmt: skip


def main() -> list[dict[str, Any]]:
    settings = Settings()
    raw = month_of_lines()
    rows: list[dict[str, Any]] = []

    def step(name: str, started: float, **extra: Any) -> None:
        rows.append({"step": name, "seconds": round(time.perf_counter() - started, 2), **extra})
        print(f"{name:<28} {rows[-1]['seconds']:>7.2f} s  {extra}", flush=True)

    started = time.perf_counter()
    lines = cur.normalise(raw, team_key="team", model_key="model_id")
    step("normalise", started, line_items=len(lines))
    started = time.perf_counter()
    report = service.unit_costs(settings, lines, usage(), period="2026-10")
    check = report.reconciliation
    assert check.ok and round(check.tokens_usd, 2) == round(check.bill_usd, 2), check
    step("month's unit costs", started, results=len(report.results), bedrock_usd=round(check.bill_usd, 2))
    started = time.perf_counter()
    daily = service.daily_inference(settings, lines, usage())
    found = regressions.find(daily, settings.unitcost, service.detector(settings.unitcost))
    first = {r.model for r in found if r.date == "2026-10-20"}
    assert first == {f"model-{e}" for e in range(MOVED)}, sorted(first)[:5]
    step("daily series + regressions", started, series=int(daily["series"].nunique()), regressions=len(found))
    tokens = [r for r in report.results if r.unit == "1m_tokens"]
    assert len(tokens) == PROFILES and all(len(r.parts) == len(KINDS) for r in tokens)
    assert compute.reconcile(tokens, lines).ok
    return rows


if __name__ == "__main__":
    main()
