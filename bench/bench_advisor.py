"""Savings advisor and monthly report at scale: 300 teams x 90 days of cached history.

Acceptance (issue 11): ``make bench`` runs the advisor and the report on 300 teams with 90 days of daily history
already in the cost monitor's cache, and reports Cost Explorer requests (0.01 USD each) and wall time.

The account is simulated: S3, CloudWatch and the tagging API are moto (in-process, 300 artefact buckets with two days
of ``BucketSizeBytes`` each); Cost Explorer, Savings Plans and EC2 spot history are answered from synthetic line
items in their real response shapes by a ``before-call`` hook (moto implements none of the commitment APIs and
answers Cost Explorer only with injected results). Daily Cost Explorer answers are paged by 10 days, as the cost
monitor's functional tests do; the real page size is not documented.

Scenarios: the report with an empty cache (first run) and with the cache warm (the monthly run: the cost monitor
keeps it filled every day); the weekly advisor with the cache warm. Requests are what the code sends; a warm run
must not grow with teams.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import boto3  # noqa: E402
from costwarden.adapters.commitments import CommitmentsReader  # noqa: E402
from costwarden.adapters.cost_explorer import CostExplorer  # noqa: E402
from costwarden.adapters.ec2_spot import SpotPrices  # noqa: E402
from costwarden.adapters.s3_storage import S3Reader  # noqa: E402
from costwarden.adapters.state import MemoryStateStore  # noqa: E402
from costwarden.advisor.report import render_html  # noqa: E402
from costwarden.demo.billing import SimulatedBilling, line_items  # noqa: E402
from costwarden.services.advisor.report import run_report  # noqa: E402
from costwarden.services.advisor.runner import inference_history, run_advisor  # noqa: E402
from costwarden.settings import Settings, parse_settings  # noqa: E402
from moto import mock_aws  # noqa: E402

TEAMS = 300
DAYS = 90
NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)
TODAY = NOW.date()
PAGE_DAYS = 10
FIXTURES = ROOT / "tests" / "fixtures" / "advisor"
COLUMNS = {"PURCHASE_TYPE": "purchase_type", "USAGE_TYPE": "usage_type", "SERVICE": "service"}


def _buckets() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    data = []
    for t in range(TEAMS):
        name = f"team-{t:03d}-artefacts"
        s3.create_bucket(Bucket=name)
        env = "experiment" if t % 2 == 0 else "production"
        s3.put_bucket_tagging(
            Bucket=name,
            Tagging={"TagSet": [{"Key": "team", "Value": f"team-{t:03d}"}, {"Key": "environment", "Value": env}]},
        )
        for age in range(2):
            data.append(
                {
                    "MetricName": "BucketSizeBytes",
                    "Dimensions": [
                        {"Name": "BucketName", "Value": name},
                        {"Name": "StorageType", "Value": "StandardStorage"},
                    ],
                    "Timestamp": datetime.combine(TODAY - timedelta(days=age + 1), datetime.min.time(), tzinfo=UTC),
                    "Value": float(2**40 - age * 2**33),
                }
            )
    for first in range(0, len(data), 1000):
        cw.put_metric_data(Namespace="AWS/S3", MetricData=data[first : first + 1000])


def _clients(billing: SimulatedBilling) -> tuple[Any, Any, Any]:
    ce = boto3.client("ce", region_name="us-east-1")
    sp = boto3.client("savingsplans", region_name="us-east-1")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    for client in (ce, sp, ec2):
        billing.install(client)
    return ce, sp, ec2


def _warm(settings: Settings, state: MemoryStateStore, ce_client: Any) -> int:
    """What the cost monitor leaves behind: the daily team x phase cache for the last 100 days."""
    explorer = CostExplorer(client=ce_client)
    inference_history(
        settings.model_copy(update={"advisor": settings.advisor.model_copy(update={"stable_days": 100})}),
        explorer,
        state,
        TODAY,
    )
    return explorer.requests


def main() -> list[dict[str, Any]]:
    settings = parse_settings({})
    items = line_items([f"team-{t:03d}" for t in range(TEAMS)], start=TODAY - timedelta(days=DAYS + 40), end=TODAY)
    rows: list[dict[str, Any]] = []
    with mock_aws():
        started = time.perf_counter()
        _buckets()
        print(f"(simulated account: {TEAMS} buckets seeded in {time.perf_counter() - started:.1f} s)", flush=True)
        billing = SimulatedBilling(items, today=TODAY, now=NOW, page_days=PAGE_DAYS)
        ce_client, sp_client, ec2_client = _clients(billing)

        for label, warm in (("report, empty cache (first run)", False), ("report, cache warm (monthly run)", True)):
            state = MemoryStateStore()
            if warm:
                _warm(settings, state, ce_client)
            explorer = CostExplorer(client=ce_client)
            started = time.perf_counter()
            report = run_report(settings, explorer, state, month="2026-11", today=TODAY, now=NOW)
            html = render_html(report)
            rows.append(
                {
                    "scenario": label,
                    "teams": len(report.teams),
                    "ce_requests": explorer.requests,
                    "ce_usd": round(explorer.requests * 0.01, 2),
                    "wall_s": round(time.perf_counter() - started, 2),
                    "html_kb": round(len(html.encode()) / 1024),
                }
            )

        state = MemoryStateStore()
        _warm(settings, state, ce_client)
        explorer = CostExplorer(client=ce_client)
        spot = SpotPrices("us-east-1", ec2=ec2_client)
        started = time.perf_counter()
        result = run_advisor(
            settings,
            regions=["us-east-1"],
            reader_factory=S3Reader,
            ce=explorer,
            commitments=CommitmentsReader(explorer, savingsplans=sp_client),
            spot=spot,
            state=state,
            publish=lambda event: "id",
            now=NOW,
        )
        rows.append(
            {
                "scenario": "advisor, cache warm (weekly run)",
                "teams": len(result.savings),
                "ce_requests": explorer.requests,
                "ce_usd": round(explorer.requests * 0.01, 2),
                "wall_s": round(time.perf_counter() - started, 2),
                "other_requests": {
                    **dict(result.storage.requests),
                    "ec2:DescribeSpotPriceHistory": spot.requests,
                    "savingsplans:DescribeSavingsPlans": result.commitments.savingsplans_requests,
                },
                "alerts": len(result.events),
                "savings_usd_month": round(sum(v for v, _ in result.savings.values())),
            }
        )
    header = ("scenario", "teams", "ce_requests", "ce_usd", "wall_s")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in header) + " |")
    print(
        f"advisor, other requests: {rows[-1]['other_requests']}; alerts {rows[-1]['alerts']}; "
        f"savings on the table {rows[-1]['savings_usd_month']:,} USD/month"
    )
    return rows


if __name__ == "__main__":
    main()
